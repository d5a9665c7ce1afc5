package dev.armdb.replication.net;

import dev.armdb.changes.SafePointWaker;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed pool of worker threads that drive replication sessions over non-blocking sockets: each worker owns a {@link
 * Selector} and a list of {@link Session}s and steps them in turn, summing their work, so a node's thread count does
 * not grow with shards × peers. The leader runs every follower session on one pool ({@code ReplicationServer}); a
 * follower runs every shard's session on one ({@code ReplicationClient}).
 *
 * <p>Design note: a worker blocks in its selector only when no session did any work in its last pass and none can
 * work now: before blocking it lets each session arm a wake-up for work that comes from elsewhere ({@link
 * Session#armWakeup}, on the leader a shard's change feed), so a producer wakes the selector once per wait, with no
 * allocation, and never while the worker is busy. The selector also wakes for readable, writable and connectable
 * sockets and, through its timeout, the earliest deadline of its sessions (heartbeats, timeouts, deferred acks,
 * reconnects), never later than {@link #MAX_WAIT_NANOS}.
 *
 * <p>Threading: {@link #adopt}, {@link #wakeAll} and {@link #close} from any thread; a session's methods only under
 * its worker's pass lock, from {@link Session#adopted} on: on the worker, or on a writer flushing its held wake-ups
 * while the worker waits (see {@link Worker}).
 */
public final class SessionWorkers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionWorkers.class);
    /** Longest a worker blocks with nothing due: it re-checks its owner's state at least this often. */
    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * One session as a worker drives it: a state machine that does its I/O on non-blocking channels registered with
     * the worker's selector (the session as their attachment) and never blocks on the network.
     *
     * <p>Threading: every method is called by one thread at a time, under its worker's pass lock (on the worker, or
     * on a writer at a safe point while the worker waits); the lock orders the session's fields between them.
     */
    public interface Session {
        /** The worker took the session: the selector its channels register with (attachment: the session). */
        void adopted(Selector selector, long nowNs);

        /**
         * Does what the session can do now without waiting for the network.
         *
         * @param stopping the pool's owner is closing: the session ends now (telling its peer if it can)
         * @return work done; 0 if the session can make no progress before an event or its {@link #deadline}
         */
        int doWork(long nowNs, boolean stopping);

        /** The selector reported {@code key}, one of the session's channels, ready. */
        void ready(SelectionKey key, long nowNs);

        /** When the session needs its worker next, at the latest, if no socket event comes first. */
        long deadline(long nowNs);

        /** True once the session has ended: the worker drops it. */
        boolean isDone();

        /**
         * Arms a one-shot wake-up of the worker for work that arrives from outside the selector (the waker is cheap,
         * never blocks and wakes the selector); called before the worker blocks.
         *
         * @return true if such work is available already (the worker must not block; nothing stays armed)
         */
        default boolean armWakeup(Runnable waker) {
            return false;
        }

        /** Takes back a wake-up {@link #armWakeup} left armed; called when the worker drops the session. */
        default void disarmWakeup(Runnable waker) {}

        /**
         * Sessions of one non-null affinity go to one worker while any of them runs (see {@link #adopt}); null: no
         * preference. Read once, at {@link #adopt}; any thread.
         */
        default String affinity() {
            return null;
        }

        /**
         * True if, after {@link #doWork} found nothing to do and {@link #armWakeup} armed its wake-up, the session
         * waits only for that wake-up or for the events its selector keys already watch: a writer that stepped it
         * at a safe point may leave the blocked worker asleep. False (the default) makes such a writer wake it.
         */
        default boolean quiet() {
            return false;
        }

        /** The worker is stopping or failed: the session ends now, telling its peer if the socket takes it at once. */
        void shutdown();
    }

    /** {@link Worker#step} result: a session has more to do now. */
    private static final long BUSY = Long.MIN_VALUE;

    private final Worker[] workers;

    /**
     * Opens {@code threads} selectors; the threads, named {@code name-0 ... name-(threads-1)}, start with {@link
     * #start}.
     *
     * @param ownerClosing tells the workers their owner is closing (they pass it to {@link Session#doWork})
     */
    public SessionWorkers(int threads, String name, BooleanSupplier ownerClosing) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("a worker pool needs at least 1 thread, got " + threads);
        }
        workers = new Worker[threads];
        try {
            for (int i = 0; i < threads; i++) {
                workers[i] = new Worker(name + "-" + i, ownerClosing);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** Starts the worker threads. */
    public void start() {
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    /**
     * Hands a session to the running worker that runs sessions of its {@linkplain Session#affinity affinity}, else to
     * the running worker with the fewest sessions. Any thread.
     *
     * <p>Design note: a leader's event loop writes to several shards in one pass and then wakes each shard's
     * session for every follower. With a follower's sessions spread over the workers, each pass woke several
     * threads, and each sent its frame on its own; kept on one worker, one wake-up serves them all, in one pass
     * over their sockets (2 shards, 2 workers, SET -P 1 on 2 cores: a third less CPU in the leader's workers,
     * about a tenth less in the leader and in the follower as a whole).
     *
     * @throws ProtocolException (INTERNAL) if no worker runs any more
     */
    public synchronized void adopt(Session s) {
        String affinity = s.affinity();
        Worker best = null;
        for (Worker w : workers) {
            if (w.dead) {
                continue;
            }
            if (affinity != null && w.runs(affinity)) {
                best = w;
                break;
            }
            if (best == null || w.load.get() < best.load.get()) {
                best = w;
            }
        }
        if (best == null) {
            throw new ProtocolException(ErrorCode.INTERNAL, "no replication worker is running");
        }
        best.adopt(s, affinity);
    }

    /** True if a running worker runs a session of {@code affinity}. Any thread. */
    boolean runs(String affinity) {
        for (Worker w : workers) {
            if (!w.dead && w.runs(affinity)) {
                return true;
            }
        }
        return false;
    }

    /** Number of worker threads. */
    public int threads() {
        return workers.length;
    }

    /** Wakes every worker from its selector (its owner's state changed, e.g. it is closing). Any thread. */
    public void wakeAll() {
        for (Worker w : workers) {
            if (w != null) {
                w.selector.wakeup();
            }
        }
    }

    /** Stops the workers (each ends the sessions it still has) and waits up to 5 s for them. Any thread. */
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

    /**
     * One worker thread: its selector and the sessions it owns.
     *
     * <p>Design note: the sessions are stepped only under {@link #passLock}, which the worker holds except while it
     * blocks in its selector. A writer flushing its held wake-ups ({@link SafePointWaker#runAtSafePoint}) that takes
     * the lock then steps the sessions itself, re-arms their wake-ups and leaves the worker asleep, unless something
     * is left that only the worker can do (a socket that refused bytes, a session that ended, a newcomer, a deadline
     * earlier than the worker's). The lock also orders the sessions' plain fields between the two threads. A writer
     * that finds the lock taken wakes the selector, as before.
     */
    private static final class Worker {
        /** Passes a writer at a safe point runs at most before it leaves the rest to the worker. */
        private static final int SAFE_POINT_PASSES = 4;

        private final Selector selector;
        private final Thread thread;
        private final BooleanSupplier ownerClosing;
        private final Queue<Session> incoming = new ConcurrentLinkedQueue<>();
        private final List<Session> sessions = new ArrayList<>();
        private final AtomicInteger load = new AtomicInteger();
        /** Sessions adopted and not dropped yet, per affinity; counted up by adopt, down by this worker. */
        private final Map<String, Integer> affinities = new ConcurrentHashMap<>();
        /** Held by whoever steps the sessions: the worker, or a writer at a safe point while the worker waits. */
        private final ReentrantLock passLock = new ReentrantLock();
        /** Keys the selector reported while the worker waited without the lock; dispatched once it has it again. */
        private final List<SelectionKey> readyKeys = new ArrayList<>();

        private final SafePointWaker waker = new SafePointWaker() {
            @Override
            public void run() {
                selector.wakeup();
            }

            @Override
            public void runAtSafePoint() {
                stepFromSafePoint();
            }
        };
        private final Consumer<SelectionKey> onReady = this::ready;
        private final Consumer<SelectionKey> collectReady = readyKeys::add;
        /** The deadline the blocked worker's selector timeout serves. Guarded by passLock. */
        private long waitDeadline;

        private volatile boolean stopping;
        private volatile boolean dead;

        Worker(String name, BooleanSupplier ownerClosing) throws IOException {
            this.selector = Selector.open();
            this.ownerClosing = ownerClosing;
            this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
        }

        void adopt(Session s, String affinity) {
            load.incrementAndGet();
            if (affinity != null) {
                affinities.merge(affinity, 1, Integer::sum);
            }
            incoming.add(s);
            selector.wakeup();
        }

        boolean runs(String affinity) {
            return affinities.containsKey(affinity);
        }

        /** The worker let go of {@code s}: its affinity counts one session fewer here. */
        private void dropped(Session s) {
            String affinity = s.affinity();
            if (affinity != null) {
                affinities.computeIfPresent(affinity, (k, n) -> n == 1 ? null : n - 1);
            }
        }

        void stop() {
            stopping = true;
            selector.wakeup();
        }

        private void run() {
            passLock.lock();
            try {
                while (!stopping) {
                    pass();
                }
            } catch (Throwable t) {
                // the sessions of a worker that dies end below; their peers reconnect (to another worker)
                LOG.error("replication worker {} failed", thread.getName(), t);
            } finally {
                dead = true;
                try {
                    endAll();
                } finally {
                    passLock.unlock();
                }
            }
        }

        /** One pass of the worker, with {@link #passLock} held: steps the sessions, then polls or waits. */
        private void pass() throws IOException {
            long now = System.nanoTime();
            long deadline = step(now, true);
            if (deadline == BUSY) {
                selector.selectNow(onReady);
                return;
            }
            long waitMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - now + 999_999));
            waitDeadline = deadline;
            passLock.unlock();
            try {
                selector.select(collectReady, waitMs);
            } finally {
                passLock.lock();
            }
            for (int i = 0; i < readyKeys.size(); i++) {
                ready(readyKeys.get(i));
            }
            readyKeys.clear();
        }

        /**
         * Steps every session once, dropping those that ended; with {@link #passLock} held.
         *
         * @param adoptNewcomers take the sessions handed over since the last pass first (the worker only: a channel
         *     registered while its selector waits is not watched before the selector's next select)
         * @return {@link #BUSY} if there is more to do at once or a session waits to be adopted; else the earliest
         *     deadline of the sessions, whose wake-ups are armed
         */
        private long step(long now, boolean adoptNewcomers) {
            if (adoptNewcomers) {
                for (Session s; (s = incoming.poll()) != null; ) {
                    sessions.add(s);
                    s.adopted(selector, now);
                }
            }
            boolean closing = ownerClosing.getAsBoolean();
            int work = 0;
            long deadline = now + MAX_WAIT_NANOS;
            for (int i = 0; i < sessions.size(); i++) {
                Session s = sessions.get(i);
                work += s.doWork(now, closing);
                if (s.isDone()) {
                    remove(i--);
                } else {
                    deadline = Math.min(deadline, s.deadline(now));
                }
            }
            if (work > 0 || !incoming.isEmpty() || !armWakeups()) {
                return BUSY;
            }
            return deadline;
        }

        /**
         * A writer at a safe point found work for this worker's sessions: it steps them itself if the worker waits in
         * its selector, and wakes the worker only if something is left for it.
         */
        private void stepFromSafePoint() {
            if (!passLock.tryLock()) {
                selector.wakeup();
                return;
            }
            boolean leaveAsleep = false;
            try {
                leaveAsleep = !stopping && !dead && stepUntilQuiet();
            } catch (RuntimeException e) {
                // not the writer's failure: the worker steps the session again and fails on its own thread
                LOG.debug("a session failed when stepped at a writer's safe point: {}", e.toString());
            } finally {
                passLock.unlock();
                if (!leaveAsleep) {
                    selector.wakeup();
                }
            }
        }

        /** Steps the sessions until none has work; true if the waiting worker need not wake for what was done. */
        private boolean stepUntilQuiet() {
            int before = sessions.size();
            for (int pass = 0; pass < SAFE_POINT_PASSES; pass++) {
                long now = System.nanoTime();
                long deadline = step(now, false);
                if (deadline != BUSY) {
                    // a session that ended here leaves a cancelled key, and its socket's close, to the next select
                    return sessions.size() == before && deadline >= waitDeadline && allQuiet();
                }
            }
            return false;
        }

        /** True if every session waits only for its armed wake-up or for what its selector keys watch already. */
        private boolean allQuiet() {
            for (int i = 0; i < sessions.size(); i++) {
                if (!sessions.get(i).quiet()) {
                    return false;
                }
            }
            return true;
        }

        /** Arms the sessions' outside wake-ups; false if one has such work already. */
        private boolean armWakeups() {
            boolean mayBlock = true;
            // indexed: an iterator would be garbage on every pass
            for (int i = 0; i < sessions.size(); i++) {
                if (sessions.get(i).armWakeup(waker)) {
                    mayBlock = false;
                }
            }
            return mayBlock;
        }

        private void ready(SelectionKey key) {
            ((Session) key.attachment()).ready(key, System.nanoTime());
        }

        private void remove(int i) {
            Session s = sessions.remove(i);
            s.disarmWakeup(waker);
            dropped(s);
            load.decrementAndGet();
        }

        private void endAll() {
            for (Session s; (s = incoming.poll()) != null; ) {
                sessions.add(s);
            }
            for (Session s : sessions) {
                try {
                    s.shutdown();
                } catch (RuntimeException e) {
                    LOG.debug("ending a replication session: {}", e.toString());
                }
            }
            sessions.clear();
            try {
                selector.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
