package dev.armdb.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback between one node process and a server it dials (ZooKeeper): it forwards until {@link
 * #blackhole()}, then keeps every connection open but drops every byte both ways, as a partition does (no reset, no
 * FIN), so both sides notice only through their own timeouts. A connection one side ends is ended on the other side
 * too. Any thread.
 */
final class FaultProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Set<Socket> upstreams = ConcurrentHashMap.newKeySet();
    private volatile boolean blackhole;
    private volatile boolean closed;

    FaultProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("fault-proxy-accept").start(this::accept);
    }

    /** {@code 127.0.0.1:port} of the proxy. */
    String connectString() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    /** Connections forwarded now (a partition's connections are not forwarded). */
    int connections() {
        upstreams.removeIf(Socket::isClosed);
        return upstreams.size();
    }

    /** Drops every byte from now on, in both directions, on open and new connections. */
    void blackhole() {
        blackhole = true;
    }

    /** Forwards again; the connections of the partition are closed (their streams lost bytes), new ones forward. */
    void heal() {
        List<Socket> old = List.copyOf(sockets);
        sockets.removeAll(old);
        blackhole = false;
        old.forEach(FaultProxy::closeQuietly);
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                continue;
            }
            sockets.add(client);
            if (blackhole) {
                Thread.ofPlatform().daemon().start(() -> pump(client, null));
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(target, 5_000);
            } catch (IOException e) {
                closeQuietly(client);
                continue;
            }
            sockets.add(upstream);
            upstreams.add(upstream);
            Thread.ofPlatform().daemon().start(() -> pump(client, upstream));
            Thread.ofPlatform().daemon().start(() -> pump(upstream, client));
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to == null ? null : to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (!blackhole && out != null) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException e) {
            // one side closed or reset
        }
        if (!blackhole) {
            // pass the end on, as a direct connection would; in a partition nothing passes
            closeQuietly(from);
            if (to != null) {
                closeQuietly(to);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        sockets.forEach(FaultProxy::closeQuietly);
    }
}
