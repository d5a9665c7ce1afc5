package dev.armdb.cluster;

import dev.armdb.ArmDbException;
import dev.armdb.micrometer.SnapshotMeterBinder;
import dev.armdb.server.Node;
import dev.armdb.server.NodeConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A {@link Node} run as a member of a replica group coordinated through ZooKeeper: a {@link ClusterMember} around the
 * node's collection, replication and RESP front-end. The node's writes and {@code REPLICAOF} go through the member's
 * write gate, its INFO gains a {@code cluster} section and its {@code /metrics} the {@code armdb_cluster_*} meters;
 * when it stops leading it closes its RESP clients' connections (see {@link NodeHost#stoppedLeading()}).
 *
 * <p>Threading: as {@link ClusterMember}; {@link #close()} from any thread.
 */
public final class ClusterNode implements AutoCloseable {
    private final Node node;
    private final ClusterMember member;

    private ClusterNode(Node node, ClusterMember member) {
        this.node = node;
        this.member = member;
    }

    /**
     * Opens the node's collection and starts serving with writes refused until the group state names it leader, then
     * joins the group.
     *
     * @throws ArmDbException if the collection cannot be opened (see {@link Node#start}) or the group cannot be joined
     */
    public static ClusterNode start(NodeConfig config, ClusterConfig cluster) {
        return start(config, cluster, a -> a);
    }

    /** As {@link #start(NodeConfig, ClusterConfig)}, dialing leaders' replication addresses as {@code dialer} maps them. */
    static ClusterNode start(NodeConfig config, ClusterConfig cluster, UnaryOperator<InetSocketAddress> dialer) {
        Long lastEpoch = ClusterMember.lastEpoch(config.dir());
        ClusterMember.Fencing fencing = ClusterMember.Fencing.of(cluster);
        Node node = Node.start(config, fencing.gate());
        ClusterMember member = ClusterMember.start(cluster, fencing, new NodeHost(node), lastEpoch, dialer);
        ClusterMetrics metrics = fencing.metrics();
        node.addInfoSection("cluster", new ClusterInfoSection(cluster, member)::append);
        node.bindMeters(new SnapshotMeterBinder<>(metrics, ClusterMetrics::counters, ClusterMetrics::gauges));
        return new ClusterNode(node, member);
    }

    /** The member of the group this node is. */
    public ClusterMember clusterMember() {
        return member;
    }

    /** What this node reported of itself last (refreshed every tick). */
    public MemberInfo member() {
        return member.member();
    }

    /** The node served. */
    public Node node() {
        return node;
    }

    /** The last group state read, or null. */
    public GroupState groupState() {
        return member.groupState();
    }

    /** True while this node is the cluster's controller. */
    public boolean isController() {
        return member.isController();
    }

    /** True while this node accepts writes as the group's leader (named, connected, within its lease). */
    public boolean acceptsWrites() {
        return member.acceptsWrites();
    }

    /** Writes refused by the fence while this node led. */
    public long fencedWrites() {
        return member.fencedWrites();
    }

    /** This node's cluster counters and gauges. */
    public ClusterMetrics metrics() {
        return member.metrics();
    }

    /** The in-sync followers this node waits for while it leads (empty otherwise). */
    public List<String> inSyncReplicas() {
        return member.inSyncReplicas();
    }

    /** True if this run began after an unclean stop. */
    public boolean uncleanStart() {
        return member.uncleanStart();
    }

    /** Leaves the group (its member znode goes with the session) and stops the node. Idempotent. */
    @Override
    public void close() {
        member.close();
    }
}
