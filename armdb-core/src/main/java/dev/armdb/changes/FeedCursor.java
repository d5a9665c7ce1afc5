package dev.armdb.changes;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * One reader's position in a {@link ChangeFeed}: the next LSN it will read. Each cursor is used by one thread at
 * a time (its owner); the feed's writer only wakes it: unparks a thread waiting in {@link #await}, or runs the
 * waker armed with {@link #armWakeup} (a thread that waits on something else too, such as a selector).
 */
public final class FeedCursor implements AutoCloseable {
    /** {@link #poll()} result: the next entry is not published yet. */
    public static final int NOT_YET = -1;
    /** {@link #poll()} result: the next entry was overwritten; the reader must catch up another way (scan). */
    public static final int LAPPED = -2;

    private static final VarHandle WAITER;

    static {
        try {
            WAITER = MethodHandles.lookup().findVarHandle(FeedCursor.class, "waiter", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ChangeFeed feed;
    private long next;
    private boolean closed;

    /** The parked {@link Thread} or the armed {@link Runnable} waker; null when nobody waits. */
    @SuppressWarnings("unused") // accessed through WAITER
    private volatile Object waiter;

    FeedCursor(ChangeFeed feed, long next) {
        this.feed = feed;
        this.next = next;
    }

    /** The LSN the next successful {@link #poll()} returns the slot of. */
    public long nextLsn() {
        return next;
    }

    /**
     * The slot changed by {@link #nextLsn()} (and advances), or {@link #NOT_YET}, or {@link #LAPPED}.
     * Allocation-free.
     */
    public int poll() {
        long lsn = next;
        if (lsn > feed.lastLsn()) {
            return NOT_YET;
        }
        if (lsn < feed.oldestLsn()) {
            return LAPPED;
        }
        long e = feed.readEntry(lsn);
        if ((int) (e >>> 32) != (int) lsn) {
            return LAPPED;
        }
        // re-check after reading: the writer may have lapped us between the bound check and the read
        if (lsn < feed.oldestLsn()) {
            return LAPPED;
        }
        next = lsn + 1;
        return (int) e;
    }

    /** Moves the cursor so its next entry is {@code afterLsn + 1} (after a scan caught the reader up). */
    public void resetAfter(long afterLsn) {
        next = afterLsn + 1;
    }

    /** Entries published and not yet read. */
    public long backlog() {
        return Math.max(0, feed.lastLsn() - next + 1);
    }

    /**
     * Waits until an entry is published past this cursor's position, at most {@code timeoutNanos}. Spins briefly,
     * then parks; the feed's writer unparks it. Returns true if an entry is available.
     */
    public boolean await(long timeoutNanos) {
        for (int spin = 0; spin < 100; spin++) {
            if (next <= feed.lastLsn()) {
                return true;
            }
            Thread.onSpinWait();
        }
        Thread me = Thread.currentThread();
        WAITER.setVolatile(this, me);
        feed.parked(1);
        try {
            // re-check after announcing the wait: a publish before the announcement is seen here
            if (next <= feed.lastLsn()) {
                return true;
            }
            ChangeFeed.park(timeoutNanos);
            return next <= feed.lastLsn();
        } finally {
            // whoever clears the waiter (this thread on timeout, or the waker) takes back the parked count
            if (WAITER.compareAndSet(this, me, null)) {
                feed.parked(-1);
            }
        }
    }

    /**
     * Arms {@code waker} to run once, on the publishing thread (or at its held wake-ups' flush, where a {@link
     * SafePointWaker} may do its owner's work), when an entry is published past this cursor; an armed waker stays armed until it has run or is {@linkplain #disarmWakeup
     * disarmed}, so arming again is cheap. For an owner that blocks on something else (a selector): arm, and block
     * only if this returns false. The waker must be cheap and must not block. Owner thread only.
     *
     * @return true if an entry is already published past this cursor (nothing is left armed then)
     */
    public boolean armWakeup(Runnable waker) {
        if (WAITER.getVolatile(this) != waker) {
            WAITER.setVolatile(this, waker);
            feed.parked(1);
        }
        // re-check after announcing the wait: a publish before the announcement is seen here
        if (next <= feed.lastLsn()) {
            disarmWakeup(waker);
            return true;
        }
        return false;
    }

    /** Takes back {@code waker} if it is still armed. Owner thread only. */
    public void disarmWakeup(Runnable waker) {
        if (WAITER.compareAndSet(this, waker, null)) {
            feed.parked(-1);
        }
    }

    /** Wakes the owner if it is parked in {@link #await} or has a waker armed. Any thread. */
    public void wakeUp() {
        unparkIfParked();
    }

    void unparkIfParked() {
        unparkIfParked(null);
    }

    /**
     * Wakes the owner if it waits; a {@link SafePointWaker} is handed to {@code flushing} (a holder being flushed)
     * to run once the flush has woken every feed, instead of being run here.
     */
    void unparkIfParked(DeferredWakeups flushing) {
        Object w = WAITER.getVolatile(this);
        // one wake per wait: the first waker claims the waiter, so a burst of publishes costs one unpark
        if (w != null && WAITER.compareAndSet(this, w, null)) {
            feed.parked(-1);
            if (w instanceof Thread t) {
                LockSupport.unpark(t);
            } else if (flushing != null && w instanceof SafePointWaker s) {
                flushing.afterFlush(s);
            } else {
                ((Runnable) w).run();
            }
        }
    }

    /** Unregisters the cursor from its feed. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Object w = WAITER.getVolatile(this);
            if (w != null && WAITER.compareAndSet(this, w, null)) {
                feed.parked(-1);
            }
            feed.unregister(this);
        }
    }
}
