package dev.armdb.server;

import dev.armdb.ArmDbException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RESP2 (Redis protocol) listener: an accept thread hands each client to one of a fixed set of {@link
 * RespEventLoop}s (round robin), which serve their clients without a thread per connection. Thread-safe; {@link
 * #close()} ends every connection.
 */
final class RespServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RespServer.class);
    private static final byte[] MAX_CLIENTS_REPLY =
            "-ERR max number of clients reached\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Node node;
    private final InetSocketAddress bind;
    private final int loopCount;
    private final long spinNanos;
    private final int maxClients;
    private final ClientLimits limits;
    private final BufferBudget budget;
    private final javax.net.ssl.SSLContext tls;
    private final AtomicInteger connected = new AtomicInteger();
    private final AtomicInteger loopRestarts = new AtomicInteger();
    private volatile RespEventLoop[] loops = new RespEventLoop[0];
    private ServerSocketChannel serverChannel;
    private Thread acceptThread;
    private volatile boolean closed;

    /**
     * A listener for {@code bind} with {@code ioThreads} event loops (0: {@link #defaultEventLoops}) that poll
     * {@code ioSpinMicros} after work before they sleep, serving at most {@code maxClients} connections at once, each
     * within {@code limits}; over TLS only if {@code tls} is not null.
     */
    RespServer(
            Node node,
            InetSocketAddress bind,
            int ioThreads,
            int ioSpinMicros,
            int maxClients,
            ClientLimits limits,
            javax.net.ssl.SSLContext tls) {
        this.tls = tls;
        this.node = node;
        this.bind = bind;
        this.loopCount = ioThreads == 0 ? defaultEventLoops(Runtime.getRuntime().availableProcessors()) : ioThreads;
        this.spinNanos = ioSpinMicros * 1_000L;
        this.maxClients = maxClients;
        this.limits = limits;
        this.budget = new BufferBudget(limits.effectiveNodeBufferBytes());
    }

    /**
     * The event loops a node runs by default on {@code cores} available processors: one per core but one, at least
     * one. The core left over runs what every write also needs besides its event loop: the replication workers that
     * stream it, the group commit that forces it, and the kernel's share of the network work. On two cores, where
     * the client usually shares the machine, one loop took 8–14% less CPU per request than two and served 8–12%
     * more requests at {@code -P 1}, and more at {@code -P 16} as well (docs/benchmarks-server.md). Redis gives the
     * same advice for its I/O threads (two or three on four cores, six on eight).
     */
    static int defaultEventLoops(int cores) {
        return Math.max(1, cores - 1);
    }

    /** Event loops running now. Any thread. */
    int runningEventLoops() {
        int running = 0;
        for (RespEventLoop loop : loops) {
            if (loop.isRunning()) {
                running++;
            }
        }
        return running;
    }

    /** How long an event loop polls after work before it sleeps in its selector, in nanoseconds. */
    long spinNanos() {
        return spinNanos;
    }

    /** The memory limits of each client. */
    ClientLimits limits() {
        return limits;
    }

    /** The room all clients' grown buffers share. */
    BufferBudget budget() {
        return budget;
    }

    /** The TLS context every connection speaks, or null for plain TCP. */
    javax.net.ssl.SSLContext tls() {
        return tls;
    }

    /** Event loops found stopped and replaced since start. Any thread. */
    int loopRestarts() {
        return loopRestarts.get();
    }

    /** The event loops serving now (for tests). */
    RespEventLoop[] loops() {
        return loops.clone();
    }

    /** Connections served now. Any thread. */
    int connectedClients() {
        return connected.get();
    }

    /** The most connections served at once. */
    int maxClients() {
        return maxClients;
    }

    /** A served connection ended. Any thread. */
    void clientClosed() {
        connected.decrementAndGet();
    }

    void start() {
        try {
            serverChannel = ServerSocketChannel.open();
            serverChannel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            serverChannel.bind(bind, 512);
            RespEventLoop[] started = new RespEventLoop[loopCount];
            loops = started;
            for (int i = 0; i < loopCount; i++) {
                started[i] = new RespEventLoop(node, this, "armdb-resp-io-" + i);
                started[i].start();
            }
        } catch (IOException e) {
            close();
            throw new ArmDbException("cannot listen for clients on " + bind + ": " + e.getMessage(), e);
        }
        acceptThread = Thread.ofPlatform().daemon().name("armdb-resp-accept").start(this::acceptLoop);
        LOG.info(
                "RESP front-end listening on {}{} with {} event loop(s)",
                address(),
                tls == null ? "" : " (TLS only)",
                loopCount);
    }

    InetSocketAddress address() {
        try {
            return (InetSocketAddress) serverChannel.getLocalAddress();
        } catch (IOException e) {
            throw new ArmDbException("the RESP listener is closed: " + e.getMessage(), e);
        }
    }

    private void acceptLoop() {
        int next = 0;
        while (!closed) {
            try {
                SocketChannel ch = serverChannel.accept();
                if (connected.incrementAndGet() > maxClients) {
                    refuse(ch, MAX_CLIENTS_REPLY);
                    LOG.warn("refused a client: {} clients connected (--max-clients)", maxClients);
                    continue;
                }
                if (!ProtectedMode.admits(node.config(), ch)) {
                    refuse(ch, ProtectedMode.DENIED_REPLY);
                    LOG.warn(
                            "refused a client from {}: protected mode (no --requirepass-file, not loopback)",
                            ProtectedMode.remote(ch));
                    continue;
                }
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                running(next).adopt(ch);
                next = (next + 1) % loopCount;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("accepting a client failed: {}", e.toString());
                }
            } catch (Throwable e) {
                if (!closed) {
                    LOG.error("accepting a client failed unexpectedly; the acceptor goes on", e);
                }
            }
        }
    }

    /** Loop {@code i}, replaced by a fresh one first if it stopped, so no client is handed to a dead loop. */
    private RespEventLoop running(int i) throws IOException {
        RespEventLoop loop = loops[i];
        if (loop.isRunning() || closed) {
            return loop;
        }
        RespEventLoop fresh = new RespEventLoop(node, this, loop.name());
        fresh.start();
        RespEventLoop[] next = loops.clone();
        next[i] = fresh;
        loops = next;
        loopRestarts.incrementAndGet();
        LOG.error("RESP event loop {} had stopped; started a replacement (restart {})", loop.name(), loopRestarts);
        return fresh;
    }

    /**
     * Tells a refused client why (as Redis does) and closes it; the reply fits any socket buffer. A TLS port is only
     * closed: it never sends plain text.
     */
    private void refuse(SocketChannel ch, byte[] reply) {
        connected.decrementAndGet();
        node.respClients().rejected();
        try (ch) {
            if (tls == null) {
                ch.write(ByteBuffer.wrap(reply));
            }
        } catch (IOException ignored) {
            // the client is gone already
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (serverChannel != null) {
                serverChannel.close();
            }
        } catch (IOException ignored) {
            // closing
        }
        if (acceptThread != null) {
            try {
                acceptThread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (RespEventLoop loop : loops) {
            if (loop != null) {
                loop.close();
            }
        }
    }
}
