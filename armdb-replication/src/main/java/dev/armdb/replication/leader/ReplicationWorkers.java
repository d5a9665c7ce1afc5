package dev.armdb.replication.leader;

import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed pool of worker threads that drive every follower session (plain TCP or TLS) of a {@link
 * ReplicationServer} after its handshake: each worker owns a {@link Selector} and a set of {@link PooledStream}s and
 * steps them in turn, so the leader's thread count does not grow with shards × followers.
 *
 * <p>Design note: a worker blocks in its selector only when none of its sessions can send; it then arms a wake-up on
 * the feed cursor of every session waiting for new writes ({@link dev.armdb.changes.FeedCursor#armWakeup}), so the
 * shard's writer wakes the selector once per wait, with no allocation, and never while the worker is busy (an armed
 * waker has run or is still armed). The selector also wakes for readable sockets (acks), writable sockets (only
 * registered while a socket refuses bytes) and, through its timeout, the earliest heartbeat or peer-timeout deadline
 * of its sessions.
 *
 * <p>Threading: {@link #adopt} and {@link #close} from any thread; everything else on the workers.
 */
final class ReplicationWorkers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationWorkers.class);
    /** Longest a worker blocks with nothing due: it re-checks the server's state at least this often. */
    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Worker[] workers;

    /**
     * Opens {@code threads} selectors; the threads start with {@link #start}.
     *
     * @param serverClosed tells the workers the server is closing (they end their sessions with SHUTDOWN)
     */
    ReplicationWorkers(int threads, String name, BooleanSupplier serverClosed) throws IOException {
        workers = new Worker[threads];
        try {
            for (int i = 0; i < threads; i++) {
                workers[i] = new Worker(name + "-" + i, serverClosed);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** Starts the worker threads. */
    void start() {
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    /**
     * Hands a session to the running worker with the fewest sessions. Any thread.
     *
     * @throws ProtocolException (INTERNAL) if no worker runs any more
     */
    void adopt(PooledStream s) {
        Worker best = null;
        for (Worker w : workers) {
            if (!w.dead && (best == null || w.load.get() < best.load.get())) {
                best = w;
            }
        }
        if (best == null) {
            throw new ProtocolException(ErrorCode.INTERNAL, "no replication worker is running on the leader");
        }
        best.adopt(s);
    }

    /** Number of worker threads. */
    int threads() {
        return workers.length;
    }

    /** Stops the workers (they end their sessions) and waits up to 5 s for them. Any thread. */
    @Override
    public void close() {
        for (Worker w : workers) {
            if (w != null) {
                w.stop();
            }
        }
        for (Worker w : workers) {
            if (w != null && w.thread.isAlive() && w.thread != Thread.currentThread()) {
                try {
                    w.thread.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** One worker thread: its selector and the sessions it owns. */
    private static final class Worker {
        private final Selector selector;
        private final Thread thread;
        private final BooleanSupplier serverClosed;
        private final Queue<PooledStream> incoming = new ConcurrentLinkedQueue<>();
        private final List<PooledStream> streams = new ArrayList<>();
        private final AtomicInteger load = new AtomicInteger();
        private final Runnable waker;
        private final Consumer<SelectionKey> onReady = this::ready;
        private volatile boolean stopping;
        private volatile boolean dead;

        Worker(String name, BooleanSupplier serverClosed) throws IOException {
            this.selector = Selector.open();
            this.serverClosed = serverClosed;
            this.waker = selector::wakeup;
            this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
        }

        void adopt(PooledStream s) {
            load.incrementAndGet();
            incoming.add(s);
            selector.wakeup();
        }

        void stop() {
            stopping = true;
            selector.wakeup();
        }

        private void run() {
            try {
                while (!stopping) {
                    pass();
                }
            } catch (Throwable t) {
                // the sessions of a worker that dies end below; their followers reconnect to another worker
                LOG.error("replication worker {} failed", thread.getName(), t);
            } finally {
                dead = true;
                endAll();
            }
        }

        private void pass() throws IOException {
            long now = System.nanoTime();
            for (PooledStream s; (s = incoming.poll()) != null; ) {
                streams.add(s);
                s.register(selector, now);
            }
            boolean closing = serverClosed.getAsBoolean();
            int work = 0;
            long deadline = now + MAX_WAIT_NANOS;
            for (int i = 0; i < streams.size(); i++) {
                PooledStream s = streams.get(i);
                work += s.doWork(now, closing);
                if (s.isClosed()) {
                    remove(i--);
                } else {
                    deadline = Math.min(deadline, s.deadline(now));
                }
            }
            if (work > 0 || !incoming.isEmpty() || !armFeeds()) {
                selector.selectNow(onReady);
                return;
            }
            long waitMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - now + 999_999));
            selector.select(onReady, waitMs);
        }

        /** Arms the feed wake-ups of sessions waiting for writes; false if one has entries already. */
        private boolean armFeeds() {
            boolean mayBlock = true;
            for (PooledStream s : streams) {
                if (s.waitsForFeed() && s.streamer().cursor().armWakeup(waker)) {
                    mayBlock = false;
                }
            }
            return mayBlock;
        }

        private void ready(SelectionKey key) {
            ((PooledStream) key.attachment()).ready(key, System.nanoTime());
        }

        private void remove(int i) {
            PooledStream s = streams.remove(i);
            s.streamer().cursor().disarmWakeup(waker);
            load.decrementAndGet();
        }

        private void endAll() {
            for (PooledStream s; (s = incoming.poll()) != null; ) {
                streams.add(s);
            }
            for (PooledStream s : streams) {
                try {
                    s.shutdown(ErrorCode.SHUTDOWN, "leader shutting down");
                } catch (RuntimeException e) {
                    LOG.debug("ending a replication session: {}", e.toString());
                }
            }
            streams.clear();
            try {
                selector.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
