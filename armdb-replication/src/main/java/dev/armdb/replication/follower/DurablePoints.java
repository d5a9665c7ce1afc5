package dev.armdb.replication.follower;

import java.util.function.LongPredicate;

/**
 * The consistent points of one follower shard that wait for a force to make them durable, under {@code GROUP}
 * durability. A point reached at force mark {@code m} (see {@code Shard.forceMark()}) is durable once a force begun
 * after {@code m} has completed, whoever ran it; on a follower that is usually the collection's own group commit, so
 * the session acknowledges what that force covered instead of forcing the shard itself.
 *
 * <p>Design note: forcing per session per group interval, on top of the group commit, doubled the follower's forces
 * and forced {@code replica.state} once per shard per interval: most of a streaming follower's CPU went to msync.
 * Waiting for the group commit keeps the promise (nothing is acknowledged before it is durable) with the force count
 * of a leader.
 *
 * <p>At most two points are kept: a third one replaces the newer of them and waits for its later mark, which can
 * only delay an acknowledgement by one force, never make one early.
 *
 * <p>Threading: owned by one session thread.
 */
final class DurablePoints {
    private final long[] lsns = new long[2];
    private final long[] marks = new long[2];
    private int count;

    /** Notes that {@code lsn} became a consistent point after the stores covered by {@code mark}. */
    void reached(long lsn, long mark) {
        if (count > 0 && lsn <= lsns[count - 1]) {
            return;
        }
        if (count > 0 && marks[count - 1] == mark) {
            lsns[count - 1] = lsn;
        } else if (count == lsns.length) {
            lsns[count - 1] = lsn;
            marks[count - 1] = mark;
        } else {
            lsns[count] = lsn;
            marks[count] = mark;
            count++;
        }
    }

    /**
     * Removes the points whose mark a completed force covers and returns the newest of them, or -1 if none is
     * covered yet.
     *
     * @param forcedSince tells whether a force begun after a mark has completed ({@code Shard::forcedSince})
     */
    long takeDurable(LongPredicate forcedSince) {
        long durable = -1;
        while (count > 0 && forcedSince.test(marks[0])) {
            durable = lsns[0];
            lsns[0] = lsns[1];
            marks[0] = marks[1];
            count--;
        }
        return durable;
    }

    /** True if some point waits for a force. */
    boolean pending() {
        return count > 0;
    }

    /** Forgets every point (after a force that covers them all, or when the session starts over). */
    void clear() {
        count = 0;
    }
}
