package dev.armdb.changes;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * A shard's change feed: a broadcast ring that records, for every LSN, the slot that LSN changed. Every
 * mutation of a shard takes the next LSN and changes exactly one slot, so LSNs index the ring directly and the
 * feed has no gaps.
 *
 * <p>Each ring entry is one {@code long}: {@code (lsn << 32) | slot}; the low 32 bits of the LSN let a reader
 * tell its entry from an older or a newer lap in one atomic read. The writer never waits for readers: a reader
 * that falls more than the capacity behind finds its entries overwritten and is told it was {@linkplain
 * FeedCursor#LAPPED lapped}.
 *
 * <p>Threading: {@link #publish} is called only by the shard's writer; {@link #openCursor} and cursors are used
 * by any number of reader threads, one thread per cursor. Publishing allocates nothing; when a cursor is parked
 * waiting, the writer unparks it, at once or, on a thread with {@link DeferredWakeups} installed, at its next flush.
 */
public final class ChangeFeed {
    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle HEAD;
    private static final VarHandle PARKED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(ChangeFeed.class, "head", long.class);
            PARKED = l.findVarHandle(ChangeFeed.class, "parkedCursors", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long[] ring;
    private final int mask;
    private final long firstLsn;

    @SuppressWarnings("unused") // accessed through HEAD
    private volatile long head;

    @SuppressWarnings("unused") // accessed through PARKED
    private volatile int parkedCursors;

    private volatile FeedCursor[] cursors = new FeedCursor[0];

    /**
     * The holder that last took this feed's wake-up, to skip adding it twice. Plain and racy on purpose: two writer
     * threads holding the same feed can only add it twice (one extra wake-up), never lose one.
     */
    DeferredWakeups heldBy;

    /**
     * A feed whose first entry will be {@code lastLsn + 1}.
     *
     * @param capacity entries kept, a power of two
     * @param lastLsn the shard's last LSN when the feed starts
     */
    public ChangeFeed(int capacity, long lastLsn) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("feed capacity must be a power of two, got " + capacity);
        }
        this.ring = new long[capacity];
        this.mask = capacity - 1;
        this.firstLsn = lastLsn + 1;
        this.head = lastLsn;
    }

    /**
     * Records that {@code lsn} changed {@code slot} and wakes parked cursors (or holds the wake-up in the calling
     * thread's {@link DeferredWakeups}). Writer only; {@code lsn} must be
     * the previous one plus one, and the slot's bytes must already be written.
     */
    public void publish(long lsn, int slot) {
        // release: the slot image is visible before its feed entry
        ENTRY.setRelease(ring, (int) (lsn & mask), (lsn << 32) | (slot & 0xFFFF_FFFFL));
        // volatile (not just release): orders this store before the read of parkedCursors below, so a cursor
        // that parks after checking head cannot miss the wake-up
        HEAD.setVolatile(this, lsn);
        if ((int) PARKED.getVolatile(this) > 0) {
            DeferredWakeups deferred = DeferredWakeups.current();
            if (deferred == null || !deferred.add(this)) {
                wakeParked();
            }
        }
    }

    void wakeParked() {
        wakeParked(null);
    }

    /** Wakes the parked cursors; {@code flushing}: the holder being flushed, which runs safe-point wakers after. */
    void wakeParked(DeferredWakeups flushing) {
        for (FeedCursor c : cursors) {
            c.unparkIfParked(flushing);
        }
    }

    /** The last published LSN. Any thread. */
    public long lastLsn() {
        return (long) HEAD.getAcquire(this);
    }

    /** The oldest LSN still readable, or {@code lastLsn() + 1} if none is. Any thread. */
    public long oldestLsn() {
        long h = lastLsn();
        return Math.max(firstLsn, h - mask);
    }

    /** True if every LSN after {@code lsn} is still in the feed (a reader may resume after it). Any thread. */
    public boolean covers(long lsn) {
        return lsn + 1 >= oldestLsn() && lsn <= lastLsn();
    }

    /** Number of entries the ring holds. */
    public int capacity() {
        return ring.length;
    }

    /**
     * A cursor whose next entry is {@code afterLsn + 1}. Register the cursor before scanning slots: every
     * mutation after this call is then visible through it. The caller closes it when done.
     */
    public FeedCursor openCursor(long afterLsn) {
        FeedCursor c = new FeedCursor(this, afterLsn + 1);
        synchronized (this) {
            FeedCursor[] old = cursors;
            FeedCursor[] next = Arrays.copyOf(old, old.length + 1);
            next[old.length] = c;
            cursors = next;
        }
        return c;
    }

    synchronized void unregister(FeedCursor c) {
        FeedCursor[] old = cursors;
        int n = 0;
        FeedCursor[] next = new FeedCursor[Math.max(0, old.length - 1)];
        for (FeedCursor x : old) {
            if (x != c && n < next.length) {
                next[n++] = x;
            }
        }
        cursors = n == next.length ? next : Arrays.copyOf(next, n);
    }

    /** Number of open cursors. */
    public int cursorCount() {
        return cursors.length;
    }

    long readEntry(long lsn) {
        return (long) ENTRY.getAcquire(ring, (int) (lsn & mask));
    }

    void parked(int delta) {
        PARKED.getAndAdd(this, delta);
    }

    static void park(long nanos) {
        LockSupport.parkNanos(nanos);
    }
}
