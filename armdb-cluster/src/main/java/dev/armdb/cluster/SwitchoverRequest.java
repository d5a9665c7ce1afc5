package dev.armdb.cluster;

import java.util.Arrays;

/**
 * A planned switchover of one group in progress ({@link SwitchoverLayout}, the znode {@code /groups/G/switchover}):
 * written by {@code armdb cluster switchover} (requested, then done) and by the leader it names (stopped). Immutable
 * (the LSN array is copied in and out).
 *
 * @param phase how far it got
 * @param from the leader handing over
 * @param target the follower taking over
 * @param fromTerm the term {@code from} leads in; the request concerns that term only
 * @param toTerm the term {@code target} leads in once done, 0 before
 * @param deadlineMillis wall-clock time (epoch milliseconds) after which the leader may give up and write again
 * @param stoppedLsns the leader's last LSN per shard once it stopped taking writes; empty before
 */
public record SwitchoverRequest(
        Phase phase, String from, String target, long fromTerm, long toTerm, long deadlineMillis, long[] stoppedLsns) {
    /** How far a switchover got. */
    public enum Phase {
        /** Asked for: the leader is to stop taking writes. */
        REQUESTED(1),
        /** The leader stopped taking writes; its last LSNs are recorded. */
        STOPPED(2),
        /** The group state names the target in the new term (written with it, in one transaction). */
        DONE(3);

        final int code;

        Phase(int code) {
            this.code = code;
        }

        static Phase of(int code) {
            for (Phase p : values()) {
                if (p.code == code) {
                    return p;
                }
            }
            throw new IllegalArgumentException("switchover phase must be 1..3, got " + code);
        }
    }

    /** Checks the fields and copies the LSNs. */
    public SwitchoverRequest {
        NodeIds.check(from, "leader handing over");
        NodeIds.check(target, "switchover target");
        if (from.equals(target)) {
            throw new IllegalArgumentException("a switchover goes to another node than the leader " + from);
        }
        if (fromTerm < 1 || toTerm < 0 || (phase == Phase.DONE) != (toTerm > fromTerm)) {
            throw new IllegalArgumentException("a switchover goes from a term >= 1 to a higher one once done, got "
                    + fromTerm + " -> " + toTerm + " " + phase);
        }
        if ((phase == Phase.REQUESTED) != (stoppedLsns.length == 0) || stoppedLsns.length > MemberLayout.MAX_SHARDS) {
            throw new IllegalArgumentException("the stopped leader's LSNs are recorded once it stopped (up to "
                    + MemberLayout.MAX_SHARDS + " shards), got " + stoppedLsns.length + " in phase " + phase);
        }
        stoppedLsns = stoppedLsns.clone();
    }

    /** A new request: {@code from}, leading in {@code term}, is to hand over to {@code target} by the deadline. */
    public static SwitchoverRequest requested(String from, String target, long term, long deadlineMillis) {
        return new SwitchoverRequest(Phase.REQUESTED, from, target, term, 0, deadlineMillis, new long[0]);
    }

    /** This request with the leader stopped at {@code lsns}. */
    public SwitchoverRequest stopped(long[] lsns) {
        return new SwitchoverRequest(Phase.STOPPED, from, target, fromTerm, 0, deadlineMillis, lsns);
    }

    /** This request done: the target leads in {@code term}. */
    public SwitchoverRequest done(long term) {
        return new SwitchoverRequest(Phase.DONE, from, target, fromTerm, term, deadlineMillis, stoppedLsns);
    }

    /** True if this asks {@code leader}, leading in {@code term}, to stop taking writes (requested or stopped). */
    public boolean stops(String leader, long term) {
        return phase != Phase.DONE && from.equals(leader) && fromTerm == term;
    }

    /** A copy of the stopped leader's LSNs. */
    @Override
    public long[] stoppedLsns() {
        return stoppedLsns.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SwitchoverRequest r
                && phase == r.phase
                && from.equals(r.from)
                && target.equals(r.target)
                && fromTerm == r.fromTerm
                && toTerm == r.toTerm
                && deadlineMillis == r.deadlineMillis
                && Arrays.equals(stoppedLsns, r.stoppedLsns);
    }

    @Override
    public int hashCode() {
        return from.hashCode() * 31 + target.hashCode() + Long.hashCode(fromTerm);
    }

    @Override
    public String toString() {
        return "switchover " + from + " -> " + target + " " + phase + " (term " + fromTerm
                + (toTerm > 0 ? " -> " + toTerm : "") + ", deadline " + deadlineMillis
                + (stoppedLsns.length > 0 ? ", stopped at " + Arrays.toString(stoppedLsns) : "") + ")";
    }
}
