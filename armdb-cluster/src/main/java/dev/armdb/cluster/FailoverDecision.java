package dev.armdb.cluster;

import dev.armdb.Durability;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the controller does with one group, given what ZooKeeper shows: nothing, create the group state (bootstrap),
 * update it (the ISR or a term the leader raised), or fail over to another node. A pure function of its inputs, so
 * that every hostile case can be enumerated in a unit test; the controller supplies the clocks.
 *
 * <p>The rules: no change without a ZooKeeper quorum; a group state is created only once the members have been
 * stable for a grace period, naming the writable member with the most data (a durable one before one with durability
 * NONE); while the leader is usable the ISR is the leader's to keep ({@link InSyncReplicas}: it waits for its
 * members' acknowledgements, so only it knows when one may go), and the controller records only a higher term the
 * leader serves; once the leader has been unusable (its member gone, or back from an unclean stop) for the grace
 * period, and no failover happened within the block period, the new leader is the ISR member with the old leader's
 * lineage (it followed that leader in the recorded term) holding the highest applied LSNs, never a node with
 * durability NONE or one back from an unclean stop. The new term is above every term any member reported.
 *
 * <p>Threading: stateless.
 */
public final class FailoverDecision {
    /** What the controller should do. */
    public enum Kind {
        /** Leave the group state as it is. */
        NONE,
        /** Create the group state. */
        BOOTSTRAP,
        /** Rewrite the group state with the same leader (its term). */
        UPDATE,
        /** Rewrite the group state naming a new leader under a higher term. */
        FAILOVER
    }

    /**
     * A decision.
     *
     * @param kind what to do
     * @param next the state to write (compare-and-set against the one read), null for {@link Kind#NONE}
     * @param reason why, for logs and the state's reason field
     */
    public record Decision(Kind kind, GroupState next, String reason) {
        static Decision none(String reason) {
            return new Decision(Kind.NONE, null, reason);
        }
    }

    /**
     * The timing rules.
     *
     * @param graceMillis how long the leader must stay unusable (or the members stable, for a bootstrap) before the
     *     controller acts; longer than the members' refresh interval, so their last reported LSNs are final
     * @param blockMillis at most one automatic failover per group within this period
     */
    public record Policy(long graceMillis, long blockMillis) {
        /** Checks the periods. */
        public Policy {
            if (graceMillis < 0 || blockMillis < 0) {
                throw new IllegalArgumentException(
                        "grace and block periods must be >= 0 ms, got " + graceMillis + " and " + blockMillis);
            }
        }
    }

    /**
     * The inputs of one decision.
     *
     * @param state the group state read, null if there is none
     * @param members the member znodes read
     * @param nowMillis the controller's wall clock (compared with the state's last failover)
     * @param leaderUnusableMillis how long the controller has seen the named leader unusable ({@link
     *     #leaderUsable}), -1 while it is usable
     * @param membersStableMillis how long the set of member ids has been unchanged as the controller saw it
     * @param quorum true if the controller's ZooKeeper session is connected (its server is part of a quorum)
     */
    public record Input(
            GroupState state,
            List<MemberInfo> members,
            long nowMillis,
            long leaderUnusableMillis,
            long membersStableMillis,
            boolean quorum) {
        /** Copies the member list. */
        public Input {
            members = List.copyOf(members);
        }
    }

    private FailoverDecision() {}

    /**
     * True if the leader {@code state} names is present among {@code members} and did not start after an unclean
     * stop (it may have lost writes its followers hold). False without a state.
     */
    public static boolean leaderUsable(GroupState state, List<MemberInfo> members) {
        MemberInfo l = state == null ? null : find(members, state.leader());
        return l != null && !l.uncleanStart();
    }

    /** Decides what to do with one group. */
    public static Decision decide(Input in, Policy policy) {
        if (!in.quorum()) {
            return Decision.none("no ZooKeeper quorum: no decision");
        }
        if (in.state() == null) {
            return bootstrap(in, policy);
        }
        if (in.leaderUnusableMillis() < 0) {
            return keep(in);
        }
        return failover(in, policy);
    }

    private static Decision bootstrap(Input in, Policy policy) {
        if (in.members().isEmpty()) {
            return Decision.none("no group state and no members yet");
        }
        if (in.membersStableMillis() < policy.graceMillis()) {
            return Decision.none("no group state; waiting " + policy.graceMillis() + " ms for the members to settle");
        }
        MemberInfo best = null;
        for (MemberInfo m : in.members()) {
            if (!m.uncleanStart() && (best == null || better(m, best))) {
                best = m;
            }
        }
        if (best == null) {
            return Decision.none(
                    "no group state and every member started after an unclean stop: none is chosen" + " automatically");
        }
        long term = maxTerm(in.members(), 0) + 1;
        return new Decision(
                Kind.BOOTSTRAP,
                new GroupState(
                        term,
                        best.nodeId(),
                        List.of(),
                        best.minInsync(),
                        0,
                        "bootstrap: " + best.nodeId() + (best.replica() ? " (a replica)" : " (writable)")
                                + " with LSN sum " + best.lsnSum()),
                "bootstrap");
    }

    /**
     * Bootstrap order: writable before replica, a durable node (GROUP or SYNC) before one with durability NONE (whose
     * data, and the writes it would acknowledge, a crash takes), more data, then the smaller node id.
     */
    private static boolean better(MemberInfo a, MemberInfo b) {
        if (a.replica() != b.replica()) {
            return !a.replica();
        }
        boolean aDurable = a.durability() != Durability.NONE;
        if (aDurable != (b.durability() != Durability.NONE)) {
            return aDurable;
        }
        if (a.lsnSum() != b.lsnSum()) {
            return a.lsnSum() > b.lsnSum();
        }
        return a.nodeId().compareTo(b.nodeId()) < 0;
    }

    private static Decision keep(Input in) {
        GroupState s = in.state();
        MemberInfo leader = find(in.members(), s.leader());
        if (leader.term() > s.term()) {
            return new Decision(
                    Kind.UPDATE,
                    s.withTerm(leader.term(), "leader " + s.leader() + " serves term " + leader.term()),
                    "record the leader's term");
        }
        // the ISR is left to the leader: a follower it still waits for must not be dropped, nor one added that may
        // lack writes it acknowledged
        return Decision.none("leader " + s.leader() + " is up; ISR " + s.isr());
    }

    /**
     * True if {@code m} may join the ISR of the state's leader (once it caught up): it streams every shard from that
     * leader in the state's term, keeps its data through a crash (durability not NONE) and did not start after an
     * unclean stop.
     */
    static boolean inSync(MemberInfo m, GroupState s) {
        return ineligibility(m, s) == null && m.streaming();
    }

    /** Why {@code m} may not succeed the state's leader, or null if it may. */
    static String ineligibility(MemberInfo m, GroupState s) {
        if (m.nodeId().equals(s.leader())) {
            return "is the leader";
        }
        if (!m.replica()) {
            return "is writable, not a follower";
        }
        if (!m.following().equals(s.leader())) {
            return "follows '" + m.following() + "', not " + s.leader();
        }
        if (m.term() != s.term()) {
            return "is at term " + m.term() + ", not the group's " + s.term();
        }
        if (m.durability() == Durability.NONE) {
            return "has durability NONE";
        }
        if (m.uncleanStart()) {
            return "started after an unclean stop";
        }
        return null;
    }

    private static Decision failover(Input in, Policy policy) {
        GroupState s = in.state();
        if (in.leaderUnusableMillis() < policy.graceMillis()) {
            return Decision.none("leader " + s.leader() + " unusable for " + in.leaderUnusableMillis()
                    + " ms; failing over after " + policy.graceMillis() + " ms");
        }
        long since = in.nowMillis() - s.lastFailoverMillis();
        if (s.lastFailoverMillis() > 0 && since < policy.blockMillis()) {
            return Decision.none("leader " + s.leader() + " unusable, but the last failover was " + since
                    + " ms ago; at most one per " + policy.blockMillis() + " ms");
        }
        Map<String, String> refused = new TreeMap<>();
        List<MemberInfo> candidates = new ArrayList<>();
        for (MemberInfo m : in.members()) {
            String why = s.isr().contains(m.nodeId()) ? ineligibility(m, s) : "is not in the ISR " + s.isr();
            if (why == null && m.shards() != shards(in.members(), m)) {
                why = "reports " + m.shards() + " shards, unlike the others";
            }
            if (why == null) {
                candidates.add(m);
            } else {
                refused.put(m.nodeId(), why);
            }
        }
        if (candidates.isEmpty()) {
            return Decision.none("leader " + s.leader() + " unusable and no eligible successor: " + refused);
        }
        MemberInfo best = choose(candidates);
        long term = maxTerm(in.members(), s.term()) + 1;
        String why = "failover: leader " + s.leader() + " unusable for " + in.leaderUnusableMillis() + " ms; chose "
                + best.nodeId() + " (applied " + Arrays.toString(best.appliedLsns()) + ") of "
                + candidates.stream().map(MemberInfo::nodeId).toList() + ", term " + term;
        return new Decision(
                Kind.FAILOVER,
                new GroupState(term, best.nodeId(), List.of(), s.minInsync(), in.nowMillis(), why, why),
                why);
    }

    /** The shard count most members report (ties: the first such member's). */
    private static int shards(List<MemberInfo> members, MemberInfo fallback) {
        Map<Integer, Integer> counts = new TreeMap<>();
        int best = fallback.shards();
        int bestCount = 0;
        for (MemberInfo m : members) {
            int c = counts.merge(m.shards(), 1, Integer::sum);
            if (c > bestCount) {
                best = m.shards();
                bestCount = c;
            }
        }
        return best;
    }

    /**
     * The candidate holding the highest applied LSN on every shard if one does; otherwise the one with the highest
     * sum. Equal positions: the smaller node id, so that every controller chooses the same node.
     */
    static MemberInfo choose(List<MemberInfo> candidates) {
        for (MemberInfo m : sortedById(candidates)) {
            boolean dominates = true;
            for (MemberInfo o : candidates) {
                for (int s = 0; s < m.shards() && dominates; s++) {
                    dominates = m.appliedLsn(s) >= o.appliedLsn(s);
                }
            }
            if (dominates) {
                return m;
            }
        }
        MemberInfo best = null;
        for (MemberInfo m : sortedById(candidates)) {
            if (best == null || m.lsnSum() > best.lsnSum()) {
                best = m;
            }
        }
        return best;
    }

    private static List<MemberInfo> sortedById(List<MemberInfo> members) {
        List<MemberInfo> sorted = new ArrayList<>(members);
        sorted.sort((a, b) -> a.nodeId().compareTo(b.nodeId()));
        return sorted;
    }

    private static long maxTerm(List<MemberInfo> members, long floor) {
        long t = floor;
        for (MemberInfo m : members) {
            t = Math.max(t, m.term());
        }
        return t;
    }

    private static MemberInfo find(List<MemberInfo> members, String nodeId) {
        for (MemberInfo m : members) {
            if (m.nodeId().equals(nodeId)) {
                return m;
            }
        }
        return null;
    }
}
