package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.micrometer.SnapshotMeterBinder;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.server.Node;
import dev.armdb.server.NodeConfig;
import dev.armdb.store.EpochStateLayout;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.curator.utils.CloseableUtils;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Node} run as a member of a replica group coordinated through ZooKeeper: it registers an ephemeral member
 * znode and refreshes it every tick, reads the group state, and follows whoever it names, promoting itself under the
 * named term when that is this node; it fences itself ({@link LeaderFence}); and it competes for the cluster's
 * controller latch, running the {@link Controller} while it holds it. ZooKeeper is on the control path only: the
 * write path reads the fence's two volatile fields and the clock.
 *
 * <p>Threading: one cluster thread does all of the above; {@link #close()} from any thread.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final ClusterConfig cluster;
    private final Node node;
    private final LeaderFence fence;
    private final ClusterMetrics metrics;
    private final boolean uncleanStart;
    private final CuratorFramework zk;
    private final LeaderLatch latch;
    private final Controller controller;
    private final Thread thread;
    private volatile boolean closed;
    private volatile String following = "";
    private volatile GroupState lastState;
    private volatile MemberInfo lastMember;
    private boolean wasController;
    private long lastErrorLogNanos;

    private ClusterNode(
            ClusterConfig cluster, Node node, LeaderFence fence, ClusterMetrics metrics, boolean uncleanStart) {
        this.cluster = cluster;
        this.node = node;
        this.fence = fence;
        this.metrics = metrics;
        this.uncleanStart = uncleanStart;
        int slash = cluster.connectString().indexOf('/');
        String servers =
                slash < 0 ? cluster.connectString() : cluster.connectString().substring(0, slash);
        // the chroot as Curator's namespace: created on first use, unlike a chroot in ZooKeeper's connect string
        String namespace = slash < 0 ? null : cluster.connectString().substring(slash + 1);
        this.zk = CuratorFrameworkFactory.builder()
                .connectString(servers)
                .namespace(namespace == null || namespace.isEmpty() ? null : namespace)
                .sessionTimeoutMs((int) cluster.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) cluster.sessionTimeout().toMillis())
                .retryPolicy(new BoundedExponentialBackoffRetry(100, 1_000, 3))
                .build();
        this.latch = new LeaderLatch(zk, GroupPaths.CONTROLLER, cluster.nodeId());
        this.controller = new Controller(
                zk,
                new FailoverDecision.Policy(
                        cluster.grace().toMillis(), cluster.block().toMillis()),
                System::currentTimeMillis,
                System::nanoTime,
                metrics);
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("armdb-cluster-" + cluster.nodeId())
                .unstarted(this::run);
    }

    /**
     * Opens the node's collection and starts serving with writes refused until the group state names it leader, then
     * joins the group.
     *
     * @throws ArmDbException if the collection cannot be opened (see {@link Node#start})
     */
    public static ClusterNode start(NodeConfig config, ClusterConfig cluster) {
        Long lastEpoch = lastEpoch(config.dir());
        ClusterMetrics metrics = new ClusterMetrics();
        LeaderFence fence = new LeaderFence(cluster.lease().toNanos(), System::nanoTime, cluster.group(), metrics);
        Node node = Node.start(config, fence);
        boolean unclean = lastEpoch != null && !node.map().engine().trustsEpoch(lastEpoch);
        if (unclean) {
            LOG.warn(
                    "{}: started after an unclean stop that may have lost writes; group {} will not choose this node"
                            + " as leader automatically during this run",
                    config.dir(),
                    cluster.group());
        }
        ClusterNode c = new ClusterNode(cluster, node, fence, metrics, unclean);
        node.addInfoSection("cluster", new ClusterInfoSection(cluster, c)::append);
        node.bindMeters(new SnapshotMeterBinder<>(metrics, ClusterMetrics::counters, ClusterMetrics::gauges));
        try {
            c.zk.getConnectionStateListenable().addListener((client, s) -> c.onConnectionState(s));
            c.zk.start();
            c.latch.start();
        } catch (Exception e) {
            c.close();
            throw new ArmDbException(
                    "cannot join group " + cluster.group() + " at " + cluster.connectString() + ": " + e, e);
        }
        c.lastMember = c.describe();
        c.thread.start();
        return c;
    }

    /** The id of the last epoch the collection in {@code dir} opened under, or null for a new or unreadable one. */
    private static Long lastEpoch(Path dir) {
        Path f = dir.resolve(EpochStateLayout.FILE_NAME);
        try {
            if (!Files.exists(f)) {
                return null;
            }
            long[] ids = EpochStateLayout.decode(Files.readAllBytes(f));
            return ids.length == 0 ? null : ids[ids.length - 1];
        } catch (IOException | ArmDbCorruptException e) {
            // the open itself then distrusts earlier epochs; count it as unclean
            return 0L;
        }
    }

    private void onConnectionState(ConnectionState s) {
        switch (s) {
            case SUSPENDED -> fence.suspended();
            case LOST -> fence.lost();
            case RECONNECTED -> fence.reconnected();
            default -> {}
        }
    }

    private void run() {
        long tickNanos = cluster.tick().toNanos();
        while (!closed) {
            long start = System.nanoTime();
            try {
                tick(start);
            } catch (Exception e) {
                if (closed) {
                    return;
                }
                logRateLimited(e);
            }
            long left = tickNanos - (System.nanoTime() - start);
            if (left > 0 && !closed) {
                LockSupport.parkNanos(left);
            }
        }
    }

    private void logRateLimited(Exception e) {
        long now = System.nanoTime();
        if (now - lastErrorLogNanos > TimeUnit.SECONDS.toNanos(5) || lastErrorLogNanos == 0) {
            lastErrorLogNanos = now;
            LOG.warn("group {} node {}: cluster tick failed: {}", cluster.group(), cluster.nodeId(), e.toString());
        }
    }

    /** One round: publish, read the state, follow it, and decide as controller if this node is one. */
    void tick(long start) throws Exception {
        publishMember();
        GroupState state = readState();
        lastState = state;
        metrics.observe(state);
        follow(state, start);
        boolean isController = latch.hasLeadership();
        metrics.controller(isController);
        if (isController && !wasController) {
            controller.reset();
            metrics.controllerElections.increment();
            LOG.info("node {} is the cluster's controller", cluster.nodeId());
        }
        wasController = isController;
        if (isController) {
            controller.doWork();
        }
    }

    private GroupState readState() throws Exception {
        try {
            return GroupStateLayout.decode(zk.getData().forPath(GroupPaths.state(cluster.group())));
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
    }

    private void publishMember() throws Exception {
        MemberInfo m = describe();
        lastMember = m;
        byte[] bytes = MemberLayout.encode(m);
        String path = GroupPaths.member(cluster.group(), cluster.nodeId());
        try {
            zk.setData().forPath(path, bytes);
        } catch (KeeperException.NoNodeException e) {
            zk.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(CreateMode.EPHEMERAL)
                    .forPath(path, bytes);
        }
    }

    /** What this node reported of itself last (refreshed every tick). */
    public MemberInfo member() {
        return lastMember;
    }

    /**
     * What this node would report of itself now. Called by the cluster thread only, which is also the only thread
     * that replaces the replication client (a client closed under a reader cannot be read).
     */
    private MemberInfo describe() {
        Store store = node.map().engine();
        ReplicationClient client = node.replicationClient();
        ReplicationServer server = node.replicationServer();
        int shards = store.shardCount();
        long[] lsns = new long[shards];
        boolean streaming = client != null;
        if (client != null) {
            for (ShardStatus s : client.status()) {
                lsns[s.shard()] = s.appliedLsn();
                streaming &= s.state().equals("STREAMING");
            }
        } else {
            for (int s = 0; s < shards; s++) {
                lsns[s] = store.view(s).lastLsn();
            }
        }
        return new MemberInfo(
                cluster.nodeId(),
                hostPort(node.respAddress()),
                server == null ? "" : hostPort(server.address()),
                store.meta().databaseId(),
                store.epoch(),
                store.term(),
                store.config().durability(),
                cluster.minInsync(),
                store.isReplica(),
                uncleanStart,
                streaming,
                client == null ? "" : following,
                lsns);
    }

    private static String hostPort(InetSocketAddress a) {
        String host =
                a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Takes the role the state names for this node. */
    private void follow(GroupState state, long roundTripStart) throws Exception {
        if (state == null) {
            fence.notLeader("no group state yet");
            return;
        }
        if (state.leader().equals(cluster.nodeId())) {
            lead(state, roundTripStart);
            return;
        }
        fence.notLeader("group state names " + state.leader() + " in term " + state.term());
        if (node.map().engine().isReplica()) {
            // a follower refuses every leader of a lower term from now on, the old leader among them
            node.map().engine().raiseTerm(state.term());
        }
        MemberInfo leader = readMember(state.leader());
        if (leader == null || leader.replicationAddress().isEmpty() || leader.replica()) {
            return;
        }
        InetSocketAddress addr = parse(leader.replicationAddress());
        if (!node.isFollower() || !addr.equals(node.leader()) || !following.equals(state.leader())) {
            LOG.info(
                    "group {}: node {} follows {} at {} (term {})",
                    cluster.group(),
                    cluster.nodeId(),
                    state.leader(),
                    addr,
                    state.term());
            following = state.leader();
            node.replicaOf(addr);
        }
    }

    private void lead(GroupState state, long roundTripStart) {
        if (uncleanStart) {
            fence.notLeader("named leader, but started after an unclean stop: waiting for the controller");
            return;
        }
        Store store = node.map().engine();
        if (node.isFollower() || store.isReplica()) {
            LOG.info(
                    "group {}: node {} promotes itself under term {}", cluster.group(), cluster.nodeId(), state.term());
            node.promoteTo(state.term());
            following = "";
        } else if (store.term() < state.term()) {
            node.promoteTo(state.term());
        }
        if (store.term() >= state.term()) {
            fence.confirmLeader(roundTripStart, state.term());
        }
    }

    private MemberInfo readMember(String id) throws Exception {
        try {
            return MemberLayout.decode(zk.getData().forPath(GroupPaths.member(cluster.group(), id)));
        } catch (KeeperException.NoNodeException | ArmDbCorruptException e) {
            return null;
        }
    }

    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    }

    /** The node served. */
    public Node node() {
        return node;
    }

    /** The last group state read, or null. */
    public GroupState groupState() {
        return lastState;
    }

    /** True while this node is the cluster's controller. */
    public boolean isController() {
        return latch.hasLeadership();
    }

    /** True while this node accepts writes as the group's leader (named, connected, within its lease). */
    public boolean acceptsWrites() {
        return !node.map().engine().isReplica() && fence.mayWrite();
    }

    /** Writes refused by the fence while this node led. */
    public long fencedWrites() {
        return fence.fencedWrites();
    }

    /** This node's cluster counters and gauges. */
    public ClusterMetrics metrics() {
        return metrics;
    }

    /** True if this run began after an unclean stop. */
    public boolean uncleanStart() {
        return uncleanStart;
    }

    /** Leaves the group (its member znode goes with the session) and stops the node. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        fence.notLeader("closing");
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            CloseableUtils.closeQuietly(latch);
        } finally {
            try {
                zk.close();
            } finally {
                node.close();
            }
        }
    }
}
