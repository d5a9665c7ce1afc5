package dev.armdb.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback for tests that forwards to one target until {@link #blackhole()}: from then on it keeps
 * every connection open but drops every byte both ways, as a network partition does (no reset, no FIN), so peers
 * notice only through their own timeouts.
 */
final class LoopbackProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean blackhole;
    private volatile boolean closed;

    LoopbackProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("proxy-accept").start(this::accept);
    }

    /** The proxy's address. */
    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    /** {@code 127.0.0.1:port} of the proxy. */
    String connectString() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** Drops every byte from now on, in both directions, on open and new connections. */
    void blackhole() {
        blackhole = true;
    }

    /** Forwards again; the connections of the partition are closed (their streams lost bytes), new ones forward. */
    void heal() throws IOException {
        List<Socket> old = List.copyOf(sockets);
        sockets.removeAll(old);
        blackhole = false;
        for (Socket s : old) {
            s.close();
        }
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                if (blackhole) {
                    Thread.ofPlatform().daemon().start(() -> pump(client, null));
                    continue;
                }
                Socket upstream = new Socket();
                upstream.connect(target, 5_000);
                sockets.add(upstream);
                Thread.ofPlatform().daemon().start(() -> pump(client, upstream));
                Thread.ofPlatform().daemon().start(() -> pump(upstream, client));
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buf = new byte[8192];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to == null ? null : to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (!blackhole && out != null) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException e) {
            // either side closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
