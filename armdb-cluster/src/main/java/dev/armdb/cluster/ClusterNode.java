package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.micrometer.SnapshotMeterBinder;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.server.Node;
import dev.armdb.server.NodeConfig;
import dev.armdb.store.EpochStateLayout;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.curator.utils.CloseableUtils;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Node} run as a member of a replica group coordinated through ZooKeeper: it registers an ephemeral member
 * znode and refreshes it every tick, reads the group state, and follows whoever it names, promoting itself under the
 * named term when that is this node; it fences itself ({@link LeaderFence}); while it leads it keeps the group's
 * in-sync replicas, whose acknowledgements its replies to writes wait for ({@link InSyncReplicas}), and honours a
 * planned switchover ({@link Switchover}); and it competes for the cluster's controller latch, running the {@link
 * Controller} while it holds it. ZooKeeper is on the control path only: the write path reads a few volatile fields
 * and the clock.
 *
 * <p>Threading: one cluster thread does all of the above; {@link #close()} from any thread.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final ClusterConfig cluster;
    private final Node node;
    private final LeaderFence fence;
    private final ClusterMetrics metrics;
    private final ClusterGate gate;
    private final InSyncReplicas isr;
    private final boolean uncleanStart;
    private final CuratorFramework zk;
    private final LeaderLatch latch;
    private final Controller controller;
    private final Thread thread;
    private volatile boolean closed;
    private volatile String following = "";
    private volatile GroupState lastState;
    private volatile MemberInfo lastMember;
    /** The fence's step-downs already answered by closing the RESP clients. */
    private final AtomicLong stepDownsHandled = new AtomicLong();

    private boolean wasController;
    private long lastErrorLogNanos;
    /** The version of the state znode last read (cluster thread). */
    private int stateVersion = -1;
    /** The replication server whose acknowledgements wake the ISR (cluster thread). */
    private ReplicationServer ackSource;
    /** User writes are refused on every shard for a switchover (cluster thread). */
    private boolean shardsStopped;
    /** Maps a leader's replication address to the one dialed (tests put a fault proxy in between). */
    private final UnaryOperator<InetSocketAddress> dialer;

    private ClusterNode(
            ClusterConfig cluster,
            Node node,
            LeaderFence fence,
            ClusterMetrics metrics,
            ClusterGate gate,
            InSyncReplicas isr,
            boolean unclean,
            UnaryOperator<InetSocketAddress> dialer) {
        this.cluster = cluster;
        this.dialer = dialer;
        this.node = node;
        this.fence = fence;
        this.metrics = metrics;
        this.gate = gate;
        this.isr = isr;
        this.uncleanStart = unclean;
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
        return start(config, cluster, a -> a);
    }

    /** As {@link #start(NodeConfig, ClusterConfig)}, dialing leaders' replication addresses as {@code dialer} maps them. */
    static ClusterNode start(NodeConfig config, ClusterConfig cluster, UnaryOperator<InetSocketAddress> dialer) {
        Long lastEpoch = lastEpoch(config.dir());
        ClusterMetrics metrics = new ClusterMetrics();
        LeaderFence fence = new LeaderFence(cluster.lease().toNanos(), System::nanoTime, cluster.group(), metrics);
        ClusterGate gate = new ClusterGate(fence);
        Node node = Node.start(config, gate);
        InSyncReplicas isr = new InSyncReplicas(
                cluster.group(),
                node.map().config().shards(),
                cluster.minInsync(),
                cluster.isrLag().toNanos(),
                cluster.isrLag().plus(cluster.sessionTimeout()).toNanos(),
                System::nanoTime,
                new NodeAcks(node),
                () -> fence.state() == LeaderFence.State.LOST);
        gate.attach(isr);
        boolean unclean = lastEpoch != null && !node.map().engine().trustsEpoch(lastEpoch);
        if (unclean) {
            LOG.warn(
                    "{}: started after an unclean stop that may have lost writes; group {} will not choose this node"
                            + " as leader automatically during this run",
                    config.dir(),
                    cluster.group());
        }
        ClusterNode c = new ClusterNode(cluster, node, fence, metrics, gate, isr, unclean, dialer);
        node.addInfoSection("cluster", new ClusterInfoSection(cluster, c)::append);
        node.bindMeters(new SnapshotMeterBinder<>(metrics, ClusterMetrics::counters, ClusterMetrics::gauges));
        try {
            isr.start();
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
            case LOST -> {
                fence.lost();
                disconnectClientsIfSteppedDown();
            }
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

    /** What the leader reads of its followers' replication: its last LSNs and their acknowledgements. Any thread. */
    private record NodeAcks(Node node) implements InSyncReplicas.Acks {
        @Override
        public long lastLsn(int shard) {
            return node.map().engine().view(shard).lastLsn();
        }

        @Override
        public long acked(String followerId, int shard) {
            ReplicationServer srv = node.replicationServer();
            return srv == null ? -1 : srv.ackedLsn(followerId, shard);
        }

        @Override
        public long silentNanos(String followerId) {
            ReplicationServer srv = node.replicationServer();
            long[] idle = new long[node.map().config().shards()];
            Arrays.fill(idle, Long.MAX_VALUE);
            for (FollowerStatus f : srv == null ? List.<FollowerStatus>of() : srv.status()) {
                if (f.followerId().equals(followerId)
                        && f.shard() >= 0
                        && !f.state().equals("CLOSED")) {
                    idle[f.shard()] = Math.min(idle[f.shard()], TimeUnit.MILLISECONDS.toNanos(f.idleMillis()));
                }
            }
            long silent = 0;
            for (long i : idle) {
                silent = Math.max(silent, i);
            }
            return silent;
        }
    }

    /**
     * One round: publish, read the switchover request and the state, follow the state, and decide as controller if
     * this node is one. The switchover znode is read before the state: a leader that finds no request stopping it
     * takes writes again only if the state read after still names it (see {@link Switchover}).
     */
    void tick(long start) throws Exception {
        publishMember();
        Switchover.Read switchover = Switchover.read(zk, cluster.group());
        GroupState state = readState();
        lastState = state;
        metrics.observe(state);
        follow(state, start, switchover);
        republishIfRoleChanged();
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
        Stat stat = new Stat();
        try {
            GroupState s = GroupStateLayout.decode(
                    zk.getData().storingStatIn(stat).forPath(GroupPaths.state(cluster.group())));
            stateVersion = stat.getVersion();
            return s;
        } catch (KeeperException.NoNodeException e) {
            stateVersion = -1;
            return null;
        }
    }

    /** Writes {@code next} over the state last read, with compare-and-set; false if it changed since. */
    private boolean writeState(GroupState next) throws Exception {
        try {
            Stat stat = zk.setData()
                    .withVersion(stateVersion)
                    .forPath(GroupPaths.state(cluster.group()), GroupStateLayout.encode(next));
            stateVersion = stat.getVersion();
            lastState = next;
            return true;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            LOG.info("group {}: the group state changed under the leader's ISR update; next round", cluster.group());
            return false;
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

    /**
     * Publishes again when following the state changed this node's term, role or leader within the round, so that
     * {@code cluster status} shows a new leader's term one round sooner; LSN progress alone waits for the next round.
     */
    private void republishIfRoleChanged() throws Exception {
        MemberInfo before = lastMember;
        Store store = node.map().engine();
        boolean replica = store.isReplica();
        String followingNow = node.replicationClient() == null ? "" : following;
        if (before.term() != store.term()
                || before.replica() != replica
                || !before.following().equals(followingNow)) {
            publishMember();
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
    private void follow(GroupState state, long roundTripStart, Switchover.Read switchover) throws Exception {
        if (state == null) {
            gate.namedLeader(ClusterGate.NO_LEADER);
            notLeader("no group state yet");
            return;
        }
        if (state.leader().equals(cluster.nodeId())) {
            gate.namedLeader(ClusterGate.NO_LEADER);
            lead(state, roundTripStart, switchover);
            return;
        }
        notLeader("group state names " + state.leader() + " in term " + state.term());
        if (node.map().engine().isReplica()) {
            // a follower refuses every leader of a lower term from now on, the old leader among them
            node.map().engine().raiseTerm(state.term());
        }
        MemberInfo leader = readMember(state.leader());
        gate.namedLeader(
                leader == null || leader.respAddress().isEmpty()
                        ? ClusterGate.NO_LEADER
                        : unresolved(leader.respAddress()));
        if (leader == null || leader.replicationAddress().isEmpty() || leader.replica()) {
            return;
        }
        InetSocketAddress addr = dialer.apply(parse(leader.replicationAddress()));
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

    private void notLeader(String reason) {
        fence.notLeader(reason);
        isr.stop(reason);
        gate.resume();
        disconnectClientsIfSteppedDown();
    }

    /**
     * Once per step-down of the fence, closes the node's RESP client connections, as Redis Sentinel has a demoted
     * master do: clients that stay connected to a node that no longer leads would be answered {@code -READONLY} (or
     * {@code -TRYAGAIN}) on a connection that never breaks, so a client that looks for the leader when it reconnects
     * would never look again. Called on the cluster thread and on Curator's (session lost).
     */
    private void disconnectClientsIfSteppedDown() {
        long now = fence.stepDowns();
        long handled = stepDownsHandled.get();
        if (now != handled && stepDownsHandled.compareAndSet(handled, now) && !closed) {
            int n = node.disconnectClients();
            LOG.info(
                    "group {}: node {} stopped leading; closed its {} client connection(s) so that they reconnect to"
                            + " the leader",
                    cluster.group(),
                    cluster.nodeId(),
                    n);
        }
    }

    private void lead(GroupState state, long roundTripStart, Switchover.Read switchover) throws Exception {
        if (uncleanStart) {
            notLeader("named leader, but started after an unclean stop: waiting for the controller");
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
            fence.confirmLeader(
                    roundTripStart, state.term(), Switchover.handedOverTo(switchover, cluster.nodeId(), state));
            listenToAcks();
            isr.maintain(state, Controller.readMembers(zk, cluster.group()), this::writeState);
            handleSwitchover(switchover, state);
        }
    }

    /** Has the current replication server's acknowledgements wake the ISR's evaluator. */
    private void listenToAcks() {
        ReplicationServer srv = node.replicationServer();
        if (srv != null && srv != ackSource) {
            srv.ackListener(isr::wake);
            ackSource = srv;
        }
    }

    /**
     * The leader's part of a planned switchover: while a request names it in its term it refuses writes (first at
     * the gate, then in the engine, whose shard locks make every write already past the gate finish first), and from
     * the next round on, once no reply waits for acknowledgements, it forces everything and records its last LSNs in
     * the request. Without such a request it takes writes again, and removes a request that concerns no one any more.
     */
    private void handleSwitchover(Switchover.Read read, GroupState state) throws Exception {
        SwitchoverRequest r = read == null ? null : read.request();
        if (r == null || !r.stops(cluster.nodeId(), state.term())) {
            if (gate.handingOver() || shardsStopped) {
                LOG.info(
                        "group {}: no switchover stops {} any more; taking writes again",
                        cluster.group(),
                        cluster.nodeId());
                stopShards(false);
                gate.resume();
            }
            if (read != null) {
                Switchover.remove(zk, cluster.group(), read, "it concerns no current leader: " + r);
            }
            return;
        }
        if (System.currentTimeMillis() - r.deadlineMillis() > Switchover.ABANDON_AFTER_DEADLINE_MILLIS) {
            // writes resume next round, once the state read after the removal still names this node
            Switchover.remove(zk, cluster.group(), read, "its deadline passed; writes resume on " + r.from());
            return;
        }
        if (!gate.handingOver()) {
            LOG.info(
                    "group {}: {} stops taking writes to hand over to {}",
                    cluster.group(),
                    cluster.nodeId(),
                    r.target());
            gate.handOver(cluster.group(), r.target());
        }
        boolean stoppedBefore = shardsStopped;
        stopShards(true);
        // a write applied just before the stop parks its reply at the end of its batch: give it a round to do so,
        // so that it is acknowledged (the target holds it) rather than refused when this node stops leading
        if (r.phase() == SwitchoverRequest.Phase.REQUESTED && stoppedBefore && isr.waiting() == 0) {
            Store store = node.map().engine();
            store.flush();
            long[] lsns = new long[store.shardCount()];
            for (int s = 0; s < lsns.length; s++) {
                lsns[s] = store.view(s).lastLsn();
            }
            Switchover.update(zk, cluster.group(), read, r.stopped(lsns));
        }
    }

    /**
     * Refuses (or takes again) user writes on every shard; refusing waits for the writes under way to finish. A node
     * that became a replica meanwhile keeps refusing them (as every replica does).
     */
    private void stopShards(boolean stop) {
        if (stop == shardsStopped) {
            return;
        }
        Store store = node.map().engine();
        if (stop || !store.isReplica()) {
            for (int s = 0; s < store.shardCount(); s++) {
                store.shard(s).refuseUserWrites(stop);
            }
        }
        shardsStopped = stop;
    }

    private MemberInfo readMember(String id) throws Exception {
        try {
            return MemberLayout.decode(zk.getData().forPath(GroupPaths.member(cluster.group(), id)));
        } catch (KeeperException.NoNodeException | ArmDbCorruptException e) {
            return null;
        }
    }

    /** {@code host:port} (IPv6 hosts in brackets) as an unresolved address: no name lookup. */
    static InetSocketAddress unresolved(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return InetSocketAddress.createUnresolved(host, Integer.parseInt(hostPort.substring(colon + 1)));
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

    /** The in-sync followers this node waits for while it leads (empty otherwise). */
    public List<String> inSyncReplicas() {
        return isr.isr();
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
        fence.closing();
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            isr.close();
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
