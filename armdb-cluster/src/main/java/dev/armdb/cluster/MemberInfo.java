package dev.armdb.cluster;

import dev.armdb.Durability;
import java.util.Arrays;

/**
 * What one node says of itself in its ephemeral member znode ({@link MemberLayout}), refreshed while it runs. The
 * controller reads these to keep the ISR and to choose a new leader. Immutable (the LSN array is copied in and out).
 *
 * @param nodeId the node's id in its group
 * @param respAddress {@code host:port} of its RESP front-end
 * @param replicationAddress {@code host:port} of its replication server, empty if it has none
 * @param databaseId its collection's database id (16 bytes)
 * @param epoch its collection's current open epoch
 * @param term the highest term it has led under or seen
 * @param durability its collection's durability mode
 * @param minInsync the in-sync followers it asks for when it leads
 * @param replica true while it is a read-only replica (following), false while writable
 * @param uncleanStart true if this run of the node began after an unclean stop (crash or power loss): such a node is
 *     never chosen by an automatic failover
 * @param streaming true if every shard streams live from the leader it follows (a follower only)
 * @param following the node id of the leader it follows, empty if none
 * @param appliedLsns per shard, the LSN it has applied (follower) or written (leader)
 */
public record MemberInfo(
        String nodeId,
        String respAddress,
        String replicationAddress,
        byte[] databaseId,
        long epoch,
        long term,
        Durability durability,
        int minInsync,
        boolean replica,
        boolean uncleanStart,
        boolean streaming,
        String following,
        long[] appliedLsns) {
    /** Checks the fields and copies the arrays. */
    public MemberInfo {
        NodeIds.check(nodeId, "node id");
        if (!following.isEmpty()) {
            NodeIds.check(following, "followed node id");
        }
        if (databaseId.length != 16) {
            throw new IllegalArgumentException("a database id is 16 bytes, got " + databaseId.length);
        }
        if (appliedLsns.length < 1 || appliedLsns.length > MemberLayout.MAX_SHARDS) {
            throw new IllegalArgumentException(
                    "a member reports 1.." + MemberLayout.MAX_SHARDS + " shards, got " + appliedLsns.length);
        }
        databaseId = databaseId.clone();
        appliedLsns = appliedLsns.clone();
    }

    /** A copy of the database id. */
    @Override
    public byte[] databaseId() {
        return databaseId.clone();
    }

    /** A copy of the applied LSNs, per shard. */
    @Override
    public long[] appliedLsns() {
        return appliedLsns.clone();
    }

    /** Shard {@code s}'s applied LSN. */
    public long appliedLsn(int s) {
        return appliedLsns[s];
    }

    /** Shards reported. */
    public int shards() {
        return appliedLsns.length;
    }

    /** The applied LSNs summed over shards. */
    public long lsnSum() {
        long n = 0;
        for (long l : appliedLsns) {
            n += l;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MemberInfo m
                && nodeId.equals(m.nodeId)
                && respAddress.equals(m.respAddress)
                && replicationAddress.equals(m.replicationAddress)
                && Arrays.equals(databaseId, m.databaseId)
                && epoch == m.epoch
                && term == m.term
                && durability == m.durability
                && minInsync == m.minInsync
                && replica == m.replica
                && uncleanStart == m.uncleanStart
                && streaming == m.streaming
                && following.equals(m.following)
                && Arrays.equals(appliedLsns, m.appliedLsns);
    }

    @Override
    public int hashCode() {
        return nodeId.hashCode() * 31 + Arrays.hashCode(appliedLsns);
    }

    @Override
    public String toString() {
        return "MemberInfo[" + nodeId + " resp=" + respAddress + " repl=" + replicationAddress + " term=" + term
                + " " + durability + (replica ? " replica" : " writable") + (uncleanStart ? " unclean" : "")
                + (streaming ? " streaming" : "") + (following.isEmpty() ? "" : " following=" + following)
                + " lsns=" + Arrays.toString(appliedLsns) + "]";
    }
}
