package dev.armdb.changes;

/**
 * A {@link FeedCursor#armWakeup waker} that can do its owner's work itself, on the publishing thread, when that thread
 * is at a safe point: a {@link DeferredWakeups#flush flush} of held wake-ups, where the thread holds no store lock and
 * may spend a little time (a socket write) for the readers it woke. Anywhere else it is woken with {@link #run()},
 * which must be cheap and must not block.
 *
 * <p>Design note: a leader's replication worker blocks in its selector while its followers have everything. Waking it
 * for a write costs a thread wake-up on the leader before the frame leaves: on a small machine that hop was most of
 * the difference between the live lag of a node and of Redis, whose event loop writes its replicas' buffers itself.
 * A writer at a safe point that finds the worker asleep sends the frame on the worker's behalf instead.
 *
 * <p>Threading: {@link #run()} on any thread; {@link #runAtSafePoint()} on a thread flushing its {@link
 * DeferredWakeups}, at most once per waker per flush.
 */
public interface SafePointWaker extends Runnable {
    /** Does the woken owner's work now if it is free to, else wakes it as {@link #run()} does. */
    void runAtSafePoint();
}
