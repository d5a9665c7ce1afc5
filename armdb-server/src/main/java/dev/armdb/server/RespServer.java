package dev.armdb.server;

import dev.armdb.ArmDbException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RESP2 (Redis protocol) listener: one virtual thread per client connection, pipelining by flushing only when
 * no further request is buffered. Thread-safe; {@link #close()} ends every connection.
 */
final class RespServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RespServer.class);

    private final Node node;
    private final InetSocketAddress bind;
    private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
    private ServerSocket serverSocket;
    private volatile boolean closed;

    RespServer(Node node, InetSocketAddress bind) {
        this.node = node;
        this.bind = bind;
    }

    void start() {
        try {
            serverSocket = new ServerSocket();
            serverSocket.setReuseAddress(true);
            serverSocket.bind(bind, 512);
        } catch (IOException e) {
            throw new ArmDbException("cannot listen for clients on " + bind + ": " + e.getMessage(), e);
        }
        Thread.ofPlatform().daemon().name("armdb-resp-accept").start(this::acceptLoop);
        LOG.info("RESP front-end listening on {}", address());
    }

    InetSocketAddress address() {
        return (InetSocketAddress) serverSocket.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = serverSocket.accept();
                s.setTcpNoDelay(true);
                clients.add(s);
                Thread.ofVirtual().name("armdb-resp-client").start(() -> {
                    try {
                        new RespConnection(node, s).serve();
                    } finally {
                        clients.remove(s);
                    }
                });
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("accepting a client failed: {}", e.toString());
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (serverSocket != null) {
                serverSocket.close();
            }
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : clients) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
