package dev.armdb.replication.follower;

import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

/**
 * The follower's rule for leader terms: a leader whose term is lower than the highest term this node has seen is
 * refused ({@link ErrorCode#STALE_TERM}); a higher term is recorded durably before the caller goes on, so nothing
 * the follower acknowledges afterwards can be attributed, after a crash, to a lower term. One record per node (the
 * store's {@code db.term}), shared by all shards' sessions.
 *
 * <p>Design note: the rule lives apart from the session so it can be tested without sockets, and so the session
 * only has to call it where a term arrives (SHARD_INFO, HEARTBEAT).
 *
 * <p>Threading: thread-safe; any number of sessions may call it at once. The record serialises raises.
 */
final class TermGuard {
    private final LongSupplier current;
    private final LongUnaryOperator raise;

    /**
     * A guard over a durable term record.
     *
     * @param current the highest term recorded (a volatile read)
     * @param raise raises the record to its argument if higher, durably, and returns the term recorded afterwards (at
     *     least its argument); it throws if the term could not be made durable
     */
    TermGuard(LongSupplier current, LongUnaryOperator raise) {
        this.current = current;
        this.raise = raise;
    }

    /** The highest term this node has seen (recorded). */
    long highest() {
        return current.getAsLong();
    }

    /**
     * Checks a leader's term: returns if it is at least the highest seen, after recording it durably when higher.
     *
     * @return true if the term was higher than any seen and is now recorded
     * @throws ProtocolException with {@link ErrorCode#STALE_TERM} if {@code leaderTerm} is lower than the highest term
     *     seen (also when a concurrent session recorded a higher one meanwhile)
     * @throws RuntimeException whatever the record throws when it cannot make the term durable; nothing was recorded
     */
    boolean check(long leaderTerm) {
        long seen = current.getAsLong();
        if (leaderTerm == seen) {
            return false;
        }
        if (leaderTerm < seen) {
            throw stale(leaderTerm, seen);
        }
        long recorded = raise.applyAsLong(leaderTerm);
        if (recorded > leaderTerm) {
            throw stale(leaderTerm, recorded);
        }
        return true;
    }

    private static ProtocolException stale(long leaderTerm, long seen) {
        return new ProtocolException(
                ErrorCode.STALE_TERM,
                "leader term " + leaderTerm + " is lower than term " + seen + ", the highest this follower has"
                        + " seen: a newer leader was promoted since; refusing this leader (retrying with backoff in"
                        + " case its term rises)");
    }
}
