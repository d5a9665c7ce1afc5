package dev.armdb.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A TCP proxy on loopback between node processes and a server they dial (ZooKeeper, a leader's replication port): it
 * forwards until {@link #blackhole()} (every connection) or {@link #cut} (the connections of some clients), then keeps
 * those connections open but drops every byte both ways, as a partition does (no reset, no FIN), so both sides notice
 * only through their own timeouts; new connections of the cut clients are dropped too. A connection one side ends is
 * ended on the other side too. Any thread.
 */
final class FaultProxy implements AutoCloseable {
    private static final Predicate<Socket> NONE = s -> false;

    /** One client connection and its upstream (null for a connection accepted while cut). */
    private static final class Link {
        final Socket client;
        final Socket upstream;
        volatile boolean dropped;

        Link(Socket client, Socket upstream, boolean dropped) {
            this.client = client;
            this.upstream = upstream;
            this.dropped = dropped;
        }
    }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private volatile Predicate<Socket> cut = NONE;
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
        links.removeIf(l -> l.client.isClosed() && (l.upstream == null || l.upstream.isClosed()));
        return (int) links.stream()
                .filter(l -> !l.dropped && l.upstream != null && !l.upstream.isClosed())
                .count();
    }

    /** Drops every byte from now on, in both directions, on open and new connections. */
    void blackhole() {
        cut(s -> true);
    }

    /**
     * Drops every byte from now on, both ways, on the open and new connections whose client socket (the proxy's end
     * of it) {@code clients} matches; others go on forwarding. Replaces an earlier cut's choice. The cut is complete
     * when this returns; it returns the open connections it cut.
     */
    int cut(Predicate<Socket> clients) {
        // choose first, then drop them together: choosing may take a while (a test may look the clients up)
        List<Link> chosen = links.stream()
                .filter(l -> !l.dropped && !l.client.isClosed() && clients.test(l.client))
                .toList();
        cut = clients;
        chosen.forEach(l -> l.dropped = true);
        return chosen.size();
    }

    /** Forwards again; the connections of the partition are closed (their streams lost bytes), new ones forward. */
    void heal() {
        cut = NONE;
        for (Link l : links) {
            if (l.dropped) {
                links.remove(l);
                closeQuietly(l.client);
                if (l.upstream != null) {
                    closeQuietly(l.upstream);
                }
            }
        }
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                continue;
            }
            if (cut.test(client)) {
                Link l = new Link(client, null, true);
                links.add(l);
                Thread.ofPlatform().daemon().start(() -> pump(l, client, null));
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(target, 5_000);
            } catch (IOException e) {
                closeQuietly(client);
                continue;
            }
            Link l = new Link(client, upstream, false);
            links.add(l);
            Thread.ofPlatform().daemon().start(() -> pump(l, client, upstream));
            Thread.ofPlatform().daemon().start(() -> pump(l, upstream, client));
        }
    }

    private void pump(Link link, Socket from, Socket to) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to == null ? null : to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (!link.dropped && out != null) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException e) {
            // one side closed or reset
        }
        if (!link.dropped) {
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
        for (Link l : links) {
            closeQuietly(l.client);
            if (l.upstream != null) {
                closeQuietly(l.upstream);
            }
        }
    }
}
