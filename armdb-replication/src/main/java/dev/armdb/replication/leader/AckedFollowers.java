package dev.armdb.replication.leader;

import java.util.HashSet;
import java.util.Set;

/**
 * Counts the distinct follower nodes that acknowledged LSNs: what {@code WAIT} and {@link
 * ReplicationServer#awaitReplicated} rely on. A node is counted once however many sessions it has on a shard (a
 * reconnect can race the session it replaces, which lives on until its peer timeout), so one follower can never
 * stand in for two.
 *
 * <p>Stateless; any thread, over a snapshot or a concurrent collection of sessions.
 */
final class AckedFollowers {
    /** What the count reads of one leader-side session. */
    interface Acked {
        /** The follower node's id (the same for all its shards and across its restarts); empty before the handshake. */
        String nodeId();

        /** The shard the session streams; -1 before the handshake. */
        int shard();

        /** The highest LSN the follower acknowledged on this session. */
        long ackedLsn();

        /** Whether the session still runs (a closed one counts for nothing). */
        boolean open();
    }

    private AckedFollowers() {}

    /** Distinct nodes with an open session on {@code shard} that acknowledged at least {@code lsn}. */
    static int count(Iterable<? extends Acked> sessions, int shard, long lsn) {
        return nodesAt(sessions, shard, lsn).size();
    }

    /**
     * Distinct nodes that acknowledged, on every shard {@code i} with {@code lsns[i] > 0}, at least {@code lsns[i]};
     * with no positive entry, the distinct nodes with any open session.
     */
    static int countAll(Iterable<? extends Acked> sessions, long[] lsns) {
        Set<String> nodes = null;
        for (int shard = 0; shard < lsns.length; shard++) {
            if (lsns[shard] <= 0) {
                continue;
            }
            Set<String> here = nodesAt(sessions, shard, lsns[shard]);
            if (nodes == null) {
                nodes = here;
            } else {
                nodes.retainAll(here);
            }
        }
        if (nodes == null) {
            nodes = new HashSet<>();
            for (Acked s : sessions) {
                if (s.open()) {
                    nodes.add(s.nodeId());
                }
            }
        }
        return nodes.size();
    }

    /**
     * The highest LSN node {@code nodeId} acknowledged on {@code shard} over its open sessions there; -1 if it has
     * none (a closed session's acknowledgements no longer count: the node may have dropped that position since).
     */
    static long ackedBy(Iterable<? extends Acked> sessions, String nodeId, int shard) {
        long best = -1;
        for (Acked s : sessions) {
            if (s.shard() == shard && s.open() && s.nodeId().equals(nodeId)) {
                best = Math.max(best, s.ackedLsn());
            }
        }
        return best;
    }

    private static Set<String> nodesAt(Iterable<? extends Acked> sessions, int shard, long lsn) {
        Set<String> nodes = new HashSet<>();
        for (Acked s : sessions) {
            if (s.shard() == shard && s.ackedLsn() >= lsn && s.open()) {
                nodes.add(s.nodeId());
            }
        }
        return nodes;
    }
}
