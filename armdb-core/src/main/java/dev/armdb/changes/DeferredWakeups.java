package dev.armdb.changes;

/**
 * Wake-ups of parked change-feed readers that a writer thread holds back until {@link #flush()}, so that a burst of
 * writes wakes each waiting reader once instead of once per write. An event loop that runs many clients' writes in
 * one pass installs one on its thread and flushes it before it waits for more input, as Redis writes its replicas'
 * buffers once per event-loop pass.
 *
 * <p>Design note: a follower's session for a shard parks when it has sent everything and the shard's writer unparks
 * it. With one session thread per shard and writes spread over the shards, nearly every write found its session
 * parked again, and each write cost a wake-up, a frame and a context switch on both nodes. Held back to the end of a
 * pass, the wake-ups of one pass come once per shard, and each session sends the pass's writes in one batch.
 *
 * <p>The holder must flush before it blocks or does anything that may wait for a reader: a held-back wake-up
 * delays replication until the flush (a reader parked with a timeout still wakes then). A feed that is already held
 * is not added again; at most {@link #CAPACITY} feeds are held, beyond that a publish wakes its readers at once.
 *
 * <p>Threading: confined to the thread that installed it.
 */
public final class DeferredWakeups {
    /** Feeds held at most between two flushes. */
    public static final int CAPACITY = 1024;
    /** Distinct safe-point wakers one flush runs at most; any beyond are woken at once. */
    static final int SAFE_POINT_CAPACITY = 64;

    private static final ThreadLocal<DeferredWakeups> CURRENT = new ThreadLocal<>();

    private final ChangeFeed[] held = new ChangeFeed[CAPACITY];
    private int count;
    private final SafePointWaker[] safePoint = new SafePointWaker[SAFE_POINT_CAPACITY];
    private int safePointCount;

    private DeferredWakeups() {}

    /**
     * Installs a holder on the calling thread (or returns the one installed): from now on the feeds this thread
     * publishes to wake their parked readers only at {@link #flush()}.
     */
    public static DeferredWakeups installOnCurrentThread() {
        DeferredWakeups d = CURRENT.get();
        if (d == null) {
            d = new DeferredWakeups();
            CURRENT.set(d);
        }
        return d;
    }

    /** Flushes and removes the calling thread's holder, if any. */
    public static void uninstallFromCurrentThread() {
        DeferredWakeups d = CURRENT.get();
        if (d != null) {
            d.flush();
            CURRENT.remove();
        }
    }

    static DeferredWakeups current() {
        return CURRENT.get();
    }

    /** Holds {@code feed}'s wake-up; false if full (the caller wakes at once). */
    boolean add(ChangeFeed feed) {
        if (feed.heldBy == this) {
            return true;
        }
        if (count == held.length) {
            return false;
        }
        feed.heldBy = this;
        held[count++] = feed;
        return true;
    }

    /**
     * Wakes the parked readers of every feed published to since the last flush, then lets each distinct {@link
     * SafePointWaker} among them do its owner's work on this thread, once. Allocation-free. The caller holds no store
     * lock: a safe-point waker may read the store and write to a socket.
     */
    public void flush() {
        for (int i = 0; i < count; i++) {
            ChangeFeed f = held[i];
            held[i] = null;
            f.heldBy = null;
            f.wakeParked(this);
        }
        count = 0;
        // after every feed is woken: one run of a waker serves all the feeds its owner reads, of every shard
        for (int i = 0; i < safePointCount; i++) {
            SafePointWaker w = safePoint[i];
            safePoint[i] = null;
            w.runAtSafePoint();
        }
        safePointCount = 0;
    }

    /** Runs {@code w} at the end of the flush in progress, once however many cursors armed it. */
    void afterFlush(SafePointWaker w) {
        for (int i = 0; i < safePointCount; i++) {
            if (safePoint[i] == w) {
                return;
            }
        }
        if (safePointCount == safePoint.length) {
            w.run();
            return;
        }
        safePoint[safePointCount++] = w;
    }

    /** Number of feeds whose wake-up is held. */
    public int held() {
        return count;
    }
}
