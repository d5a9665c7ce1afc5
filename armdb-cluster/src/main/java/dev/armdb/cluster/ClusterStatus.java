package dev.armdb.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * What a cluster looks like in ZooKeeper at one moment, for operators ({@code bin/armdb cluster status}): the
 * controller, and per group its state and its members with their lag behind the leader. Built by {@link
 * ClusterStatusReader}; rendered by {@link ClusterStatusJson}. Immutable.
 *
 * @param connect the connect string read from
 * @param readAtMillis when it was read, epoch milliseconds (this machine's clock)
 * @param controller the node id holding the controller latch, empty if none
 * @param groups the groups, sorted by name
 */
public record ClusterStatus(String connect, long readAtMillis, String controller, List<Group> groups) {
    /** Copies the group list. */
    public ClusterStatus {
        groups = List.copyOf(groups);
    }

    /** A member's role as the status shows it. */
    public enum Role {
        /** The group state names it leader (present or not). */
        LEADER,
        /** A read-only node following another. */
        FOLLOWER,
        /** A writable node the state does not name: before a bootstrap, or an old leader not yet demoted. */
        WRITABLE,
        /** A read-only node following none. */
        REPLICA
    }

    /**
     * One group.
     *
     * @param name the group's name
     * @param state its state, null if the controller has not created one yet
     * @param members its members (present, and those the state names but whose member znode is gone), sorted by id
     */
    public record Group(String name, GroupState state, List<Member> members) {
        /** Copies the member list. */
        public Group {
            members = List.copyOf(members);
        }

        /**
         * The group {@code name} from its state (null: none) and the member znodes read: roles, ISR membership and
         * lag behind the leader's member (per shard: the leader's LSN minus the member's; unknown while the leader's
         * member is absent or reports another shard count).
         */
        public static Group of(String name, GroupState state, List<MemberInfo> present) {
            TreeMap<String, Member> byId = new TreeMap<>();
            MemberInfo leader = null;
            for (MemberInfo m : present) {
                if (state != null && m.nodeId().equals(state.leader())) {
                    leader = m;
                }
            }
            for (MemberInfo m : present) {
                byId.put(m.nodeId(), Member.of(m, state, leader));
            }
            if (state != null) {
                List<String> named = new ArrayList<>(state.isr());
                if (!state.leader().isEmpty()) {
                    named.add(state.leader());
                }
                for (String id : named) {
                    byId.computeIfAbsent(
                            id,
                            k -> new Member(
                                    k,
                                    null,
                                    k.equals(state.leader()) ? Role.LEADER : Role.FOLLOWER,
                                    state.isr().contains(k),
                                    null));
                }
            }
            return new Group(name, state, new ArrayList<>(byId.values()));
        }
    }

    /**
     * One member of a group.
     *
     * @param nodeId its node id
     * @param info what its member znode says, null if the znode is gone (the state names the node, but its session
     *     ended)
     * @param role its role
     * @param inIsr true if the group state lists it in the ISR
     * @param lagLsns per shard, the leader's LSN minus this member's (negative: ahead of the leader, with writes the
     *     leader does not have), null if unknown
     */
    public record Member(String nodeId, MemberInfo info, Role role, boolean inIsr, long[] lagLsns) {
        /** Copies the lag array. */
        public Member {
            lagLsns = lagLsns == null ? null : lagLsns.clone();
        }

        static Member of(MemberInfo m, GroupState state, MemberInfo leader) {
            boolean named = state != null && m.nodeId().equals(state.leader());
            Role role = named
                    ? Role.LEADER
                    : !m.replica() ? Role.WRITABLE : m.following().isEmpty() ? Role.REPLICA : Role.FOLLOWER;
            long[] lag = null;
            if (leader != null && leader.shards() == m.shards()) {
                lag = new long[m.shards()];
                for (int s = 0; s < lag.length; s++) {
                    lag[s] = leader.appliedLsn(s) - m.appliedLsn(s);
                }
            }
            return new Member(m.nodeId(), m, role, state != null && state.isr().contains(m.nodeId()), lag);
        }

        /** True if its member znode is present. */
        public boolean present() {
            return info != null;
        }

        /** A copy of the per-shard lag, or null if unknown. */
        @Override
        public long[] lagLsns() {
            return lagLsns == null ? null : lagLsns.clone();
        }

        /** The lag summed over shards, or -1 if unknown. */
        public long lagSum() {
            if (lagLsns == null) {
                return -1;
            }
            long n = 0;
            for (long l : lagLsns) {
                n += l;
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Member m
                    && nodeId.equals(m.nodeId)
                    && java.util.Objects.equals(info, m.info)
                    && role == m.role
                    && inIsr == m.inIsr
                    && Arrays.equals(lagLsns, m.lagLsns);
        }

        @Override
        public int hashCode() {
            return nodeId.hashCode() * 31 + Arrays.hashCode(lagLsns);
        }

        @Override
        public String toString() {
            return "Member[" + nodeId + " " + role + (inIsr ? " isr" : "") + " " + info + " lag="
                    + Arrays.toString(lagLsns) + "]";
        }
    }
}
