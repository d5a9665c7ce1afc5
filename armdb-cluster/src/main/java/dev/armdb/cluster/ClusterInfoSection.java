package dev.armdb.cluster;

/**
 * A cluster node's INFO section ({@code INFO cluster}): {@code cluster_enabled:0} as Redis reports a server that does
 * not speak the Redis Cluster protocol (armdb does not), then {@code armdb_cluster_*} fields: the group state this
 * node read last, its role in it, its {@link ClusterMetrics}, and the accept times of the terms it led ({@link
 * AcceptLog}). The field list is in docs/cluster.md.
 *
 * <p>Threading: {@link #append} from any thread (RESP event loops); it reads volatile state only.
 */
final class ClusterInfoSection {
    private final ClusterConfig cluster;
    private final ClusterMember node;

    ClusterInfoSection(ClusterConfig cluster, ClusterMember node) {
        this.cluster = cluster;
        this.node = node;
    }

    /** Appends the section: its title, its fields, a blank line. */
    void append(StringBuilder sb) {
        GroupState s = node.groupState();
        ClusterMetrics m = node.metrics();
        String role = s == null || s.leader().isEmpty()
                ? "none"
                : s.leader().equals(cluster.nodeId()) ? "leader" : "follower";
        sb.append("# Cluster\r\n");
        field(sb, "cluster_enabled", 0);
        field(sb, "armdb_cluster_group", cluster.group());
        field(sb, "armdb_cluster_node_id", cluster.nodeId());
        field(sb, "armdb_cluster_role", role);
        field(sb, "armdb_cluster_leader", s == null ? "" : s.leader());
        field(sb, "armdb_cluster_term", s == null ? 0 : s.term());
        field(sb, "armdb_cluster_isr", s == null ? "" : String.join(",", s.isr()));
        field(sb, "armdb_cluster_isr_size", s == null ? 0 : s.isr().size());
        field(sb, "armdb_cluster_min_insync", s == null ? 0 : s.minInsync());
        field(sb, "armdb_cluster_accepts_writes", node.acceptsWrites() ? 1 : 0);
        field(sb, "armdb_cluster_unclean_start", node.uncleanStart() ? 1 : 0);
        field(sb, "armdb_cluster_controller", node.isController() ? 1 : 0);
        field(sb, "armdb_cluster_controller_elections", m.controllerElections.sum());
        field(sb, "armdb_cluster_failovers", m.failovers.sum());
        field(sb, "armdb_cluster_fenced_writes", m.fencedWrites.sum());
        field(sb, "armdb_cluster_last_failover_ms", s == null ? 0 : s.lastFailoverMillis());
        field(sb, "armdb_cluster_stale_term_sent", m.staleTermSent.sum());
        field(sb, "armdb_cluster_stale_term_received", m.staleTermReceived.sum());
        field(sb, "armdb_cluster_monotonic_nanos", System.nanoTime());
        int i = 0;
        for (AcceptLog.Window w : node.accepts().recent()) {
            long first = w.first();
            long last = w.last();
            if (first != AcceptLog.NONE && last != AcceptLog.NONE) {
                field(
                        sb,
                        "armdb_cluster_accepted" + i++,
                        "term=" + w.term() + ",first_nanos=" + first + ",last_nanos=" + last);
            }
        }
        sb.append("\r\n");
    }

    private static void field(StringBuilder sb, String name, Object value) {
        sb.append(name).append(':').append(value).append("\r\n");
    }
}
