package dev.armdb.server;

import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One follower node as ROLE and INFO replication show it, in Redis's shape: its sessions (one per shard) folded
 * into one replica entry with the node's RESP address and offset. The offset of a node is the sum of the LSNs it
 * acknowledged over all shards, comparable with the leader's {@code master_repl_offset} (the sum of its shards'
 * LSNs). Immutable; the static helpers are stateless.
 *
 * @param id the node id, hex
 * @param host the node's RESP host
 * @param port the node's RESP port
 * @param offset acknowledged LSNs summed over shards
 * @param lagSeconds seconds since the node was last heard on any of its sessions (the worst)
 * @param online true when every session of the node streams live
 */
record ReplicaView(String id, String host, int port, long offset, long lagSeconds, boolean online) {
    /**
     * The follower nodes among the leader's sessions; nodes without a RESP port are left out. A node that restarted
     * may still have sessions of its previous run open (until the leader notices they went quiet): of a node's
     * sessions of one shard only the one heard most recently counts, and the node's RESP address is that of its
     * session heard most recently, so a restarted node is listed once, at its new address, with each shard's offset
     * counted once.
     */
    static List<ReplicaView> of(List<FollowerStatus> sessions) {
        Map<String, Map<Integer, FollowerStatus>> byNode = new LinkedHashMap<>();
        for (FollowerStatus f : sessions) {
            if (!f.followerId().isEmpty() && f.respPort() > 0 && !f.state().equals("CLOSED")) {
                byNode.computeIfAbsent(f.followerId(), k -> new LinkedHashMap<>())
                        .merge(f.shard(), f, ReplicaView::fresher);
            }
        }
        List<ReplicaView> list = new ArrayList<>();
        for (Map.Entry<String, Map<Integer, FollowerStatus>> e : byNode.entrySet()) {
            long offset = 0;
            long idle = 0;
            boolean online = true;
            FollowerStatus freshest = null;
            for (FollowerStatus f : e.getValue().values()) {
                offset += f.ackedLsn();
                idle = Math.max(idle, f.idleMillis());
                online &= f.state().equals("STREAMING");
                freshest = freshest == null ? f : fresher(freshest, f);
            }
            list.add(
                    new ReplicaView(e.getKey(), freshest.respHost(), freshest.respPort(), offset, idle / 1000, online));
        }
        return list;
    }

    private static FollowerStatus fresher(FollowerStatus a, FollowerStatus b) {
        return b.idleMillis() < a.idleMillis() ? b : a;
    }

    /**
     * The leader as a follower reports it ({@code master_host}/{@code master_port}): its RESP address once a handshake
     * told it, else the address the node was told to follow (as Redis shows the configured master from {@code
     * REPLICAOF} on), with the host as it was given.
     */
    static InetSocketAddress leaderResp(Node node) {
        ReplicationClient c = node.replicationClient();
        InetSocketAddress resp = c == null ? null : c.leaderRespAddress();
        if (resp != null) {
            return resp;
        }
        InetSocketAddress l = node.leader();
        return l == null
                ? InetSocketAddress.createUnresolved("", 0)
                : InetSocketAddress.createUnresolved(l.getHostString(), l.getPort());
    }

    /** Redis's link state of a follower: connected, sync (catching up) or connecting. */
    static String linkState(List<ShardStatus> shards) {
        boolean streaming = true;
        boolean syncing = false;
        for (ShardStatus s : shards) {
            streaming &= s.state().equals("STREAMING");
            syncing |= s.state().equals("CATCHING_UP");
        }
        return streaming ? "connected" : syncing ? "sync" : "connecting";
    }

    /** Applied LSNs summed over shards: a follower's replication offset. */
    static long appliedOffset(List<ShardStatus> shards) {
        long n = 0;
        for (ShardStatus s : shards) {
            n += s.appliedLsn();
        }
        return n;
    }

    /** Appends a leader's INFO replication fields; {@code term} is the node's replication term. */
    static void leaderInfo(StringBuilder sb, ReplicationServer srv, long masterOffset, long term) {
        List<ReplicaView> replicas = of(srv == null ? List.of() : srv.status());
        sb.append("role:master\r\n");
        sb.append("connected_slaves:").append(replicas.size()).append("\r\n");
        int i = 0;
        for (ReplicaView r : replicas) {
            sb.append("slave")
                    .append(i++)
                    .append(":ip=")
                    .append(r.host())
                    .append(",port=")
                    .append(r.port())
                    .append(",state=")
                    .append(r.online() ? "online" : "send_bulk")
                    .append(",offset=")
                    .append(r.offset())
                    .append(",lag=")
                    .append(r.lagSeconds())
                    .append("\r\n");
        }
        sb.append("master_repl_offset:").append(masterOffset).append("\r\n");
        sb.append("term:").append(term).append("\r\n");
        if (srv != null) {
            sb.append("replication_port:").append(srv.address().getPort()).append("\r\n");
        }
    }

    /**
     * Appends the INFO replication fields of a node that follows no one while its coordinator names {@code leader} (see
     * {@link WriteGate#leaderElsewhere()}): a replica of it whose link is down, at replication offset {@code offset}.
     */
    static void unlinkedInfo(StringBuilder sb, InetSocketAddress leader, long offset, long term) {
        sb.append("role:slave\r\n")
                .append("master_host:")
                .append(leader.getHostString())
                .append("\r\n")
                .append("master_port:")
                .append(leader.getPort())
                .append("\r\n")
                .append("master_link_status:down\r\n")
                .append("master_sync_in_progress:0\r\n")
                .append("slave_repl_offset:")
                .append(offset)
                .append("\r\n")
                .append("slave_read_only:1\r\n")
                .append("connected_slaves:0\r\n")
                .append("master_repl_offset:")
                .append(offset)
                .append("\r\n")
                .append("term:")
                .append(term)
                .append("\r\n");
    }

    /** Appends a follower's INFO replication fields. */
    static void followerInfo(StringBuilder sb, Node node, ReplicationClient c) {
        InetSocketAddress l = leaderResp(node);
        List<ShardStatus> shards = c.status();
        String link = linkState(shards);
        long offset = appliedOffset(shards);
        sb.append("role:slave\r\n")
                .append("master_host:")
                .append(l.getHostString())
                .append("\r\n")
                .append("master_port:")
                .append(l.getPort())
                .append("\r\n")
                .append("master_link_status:")
                .append(link.equals("connected") ? "up" : "down")
                .append("\r\n")
                .append("master_sync_in_progress:")
                .append(link.equals("sync") ? 1 : 0)
                .append("\r\n")
                .append("slave_repl_offset:")
                .append(offset)
                .append("\r\n")
                .append("slave_read_only:1\r\n")
                .append("connected_slaves:0\r\n")
                .append("master_repl_offset:")
                .append(offset)
                .append("\r\n")
                .append("term:")
                .append(c.term())
                .append("\r\n");
        for (ShardStatus s : shards) {
            sb.append("shard")
                    .append(s.shard())
                    .append(":state=")
                    .append(s.state().toLowerCase(Locale.ROOT))
                    .append(",applied_lsn=")
                    .append(s.appliedLsn())
                    .append(",leader_lsn=")
                    .append(s.leaderLsn())
                    .append(",lag_lsn=")
                    .append(s.lagLsn())
                    .append(",lag_ms=")
                    .append(s.lagMillis())
                    .append(",bytes_received=")
                    .append(s.bytesReceived())
                    .append("\r\n");
        }
    }
}
