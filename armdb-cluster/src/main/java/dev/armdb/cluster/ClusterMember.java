package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.ArmDbReadOnlyException;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.FixedStore;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.store.EpochStateLayout;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
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
 * A member of a replica group coordinated through ZooKeeper, around one collection and its replication (a {@link
 * ReplicaHost}): it registers an ephemeral member znode and refreshes it every tick, reads the group state, and
 * follows whoever it names, promoting itself under the named term when that is this member; it fences itself ({@link
 * LeaderFence}); while it leads it keeps the group's in-sync replicas, whose acknowledgements writes wait for ({@link
 * InSyncReplicas}), and honours a planned switchover ({@link Switchover}); and it competes for the cluster's
 * controller latch, running the {@link Controller} while it holds it. ZooKeeper is on the control path only: the
 * write path reads a few volatile fields and the clock.
 *
 * <p>{@link ClusterNode} runs one around armdb-server's RESP node. Embedders run one around their own collection with
 * no RESP server ({@link #start(Path, FixedConfig, ReplicationServerConfig, ReplicationClientConfig, ClusterConfig)}):
 * the member opens the collection, runs its replication server while it leads and its replication client while it
 * follows, and the application reads through {@link #map()} and writes through {@link #put}, {@link #delete} and
 * {@link #putAll}, which ask the member's write gate first and return once every in-sync follower acknowledged
 * (see docs/cluster.md, "Embedding the cluster").
 *
 * <p>Threading: one cluster thread does the group work and calls the role listeners; the write methods, {@link
 * #acceptsWrites()} and the getters from any thread; {@link #close()} from any thread but a role listener.
 */
public final class ClusterMember implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterMember.class);
    /** The refusal of a write the engine refused on a leader: a switchover stopped its shards. */
    private static final String SWITCHING_OVER =
            "TRYAGAIN this leader stopped taking writes for a switchover; they resume on the new leader";

    private final ClusterConfig cluster;
    private final ReplicaHost host;
    private final LeaderFence fence;
    private final ClusterMetrics metrics;
    private final StaleTermTally staleTerms;
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
    /** The fence's step-downs already told to the host. */
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
    /** Told of role changes; guarded by itself, as are {@link #pendingFirst} and the writes of {@link #role}. */
    private final List<Consumer<MemberRole>> roleListeners = new ArrayList<>();
    /** Listeners added since the last role update: told the role at the next one even if it did not change. */
    private final List<Consumer<MemberRole>> pendingFirst = new ArrayList<>();

    private volatile MemberRole role = MemberRole.NONE;

    private ClusterMember(
            ClusterConfig cluster,
            ReplicaHost host,
            Fencing fencing,
            InSyncReplicas isr,
            boolean unclean,
            UnaryOperator<InetSocketAddress> dialer) {
        this.cluster = cluster;
        this.dialer = dialer;
        this.host = host;
        this.fence = fencing.fence();
        this.metrics = fencing.metrics();
        this.staleTerms = new StaleTermTally(metrics);
        this.gate = fencing.gate();
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
     * What a member needs before its host starts (the host's front-end takes the gate): its counters, its fence and
     * its write gate.
     */
    record Fencing(ClusterMetrics metrics, LeaderFence fence, ClusterGate gate) {
        /** New ones for {@code cluster}. */
        static Fencing of(ClusterConfig cluster) {
            ClusterMetrics metrics = new ClusterMetrics();
            LeaderFence fence = new LeaderFence(cluster.lease().toNanos(), System::nanoTime, cluster.group(), metrics);
            return new Fencing(metrics, fence, new ClusterGate(fence));
        }
    }

    /**
     * Opens (or creates) the collection in {@code dir} and joins the group as an embedded member with no RESP
     * server: it serves replication as {@code server} says while it leads (bind address, secret, TLS) and follows
     * leaders as {@code client} says, and refuses writes until the group state names it leader.
     *
     * @param config the collection's configuration, or null to open an existing one with its stored sizes
     * @throws ArmDbException if the collection cannot be opened, replication cannot start, or ZooKeeper cannot be
     *     joined
     */
    public static ClusterMember start(
            Path dir,
            FixedConfig config,
            ReplicationServerConfig server,
            ReplicationClientConfig client,
            ClusterConfig cluster) {
        return start(dir, config, server, client, cluster, a -> a);
    }

    /** As the public {@code start}, dialing leaders' replication addresses as {@code dialer} maps them. */
    static ClusterMember start(
            Path dir,
            FixedConfig config,
            ReplicationServerConfig server,
            ReplicationClientConfig client,
            ClusterConfig cluster,
            UnaryOperator<InetSocketAddress> dialer) {
        Long lastEpoch = lastEpoch(dir);
        Fencing fencing = Fencing.of(cluster);
        return start(cluster, fencing, EmbeddedHost.open(dir, config, server, client), lastEpoch, dialer);
    }

    /**
     * Joins the group around {@code host}, whose front-end (if any) was started with {@code fencing}'s gate; {@code
     * lastEpoch} is the collection's last epoch before the host opened it (see {@link #lastEpoch}). Closes the host if
     * joining fails.
     */
    static ClusterMember start(
            ClusterConfig cluster,
            Fencing fencing,
            ReplicaHost host,
            Long lastEpoch,
            UnaryOperator<InetSocketAddress> dialer) {
        LeaderFence fence = fencing.fence();
        InSyncReplicas isr = new InSyncReplicas(
                cluster.group(),
                host.map().config().shards(),
                cluster.minInsync(),
                cluster.isrLag().toNanos(),
                cluster.isrLag().plus(cluster.sessionTimeout()).toNanos(),
                System::nanoTime,
                new HostAcks(host),
                () -> fence.state() == LeaderFence.State.LOST);
        fencing.gate().attach(isr);
        boolean unclean = lastEpoch != null && !host.map().engine().trustsEpoch(lastEpoch);
        if (unclean) {
            LOG.warn(
                    "{}: started after an unclean stop that may have lost writes; group {} will not choose this node"
                            + " as leader automatically during this run",
                    host.map().path(),
                    cluster.group());
        }
        ClusterMember c = new ClusterMember(cluster, host, fencing, isr, unclean, dialer);
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
    static Long lastEpoch(Path dir) {
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
        // a lost session is a role change the cluster thread may not see for a while (its ZooKeeper calls wait)
        updateRole();
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
            updateRole();
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
    private record HostAcks(ReplicaHost host) implements InSyncReplicas.Acks {
        @Override
        public long lastLsn(int shard) {
            return host.map().engine().view(shard).lastLsn();
        }

        @Override
        public long acked(String followerId, int shard) {
            ReplicationServer srv = host.replicationServer();
            return srv == null ? -1 : srv.ackedLsn(followerId, shard);
        }

        @Override
        public long silentNanos(String followerId) {
            ReplicationServer srv = host.replicationServer();
            long[] idle = new long[host.map().config().shards()];
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
        staleTerms.observe(host.replicationClient(), host.replicationServer());
        // a quorum write before the state read: ZooKeeper lets a session read its own writes, so a lagging server
        // cannot hand this round a state that was replaced before the round began (the lease runs from its start)
        publishMember();
        Switchover.Read switchover = Switchover.read(zk, cluster.group());
        GroupState state = readState();
        lastState = state;
        metrics.observe(state);
        follow(state, start, switchover);
        // following may have replaced the replication client or server: carry what the old one counted
        staleTerms.observe(host.replicationClient(), host.replicationServer());
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
        Store store = host.map().engine();
        boolean replica = store.isReplica();
        String followingNow = host.replicationClient() == null ? "" : following;
        if (before.term() != store.term()
                || before.replica() != replica
                || !before.following().equals(followingNow)) {
            publishMember();
        }
    }

    /** What this member reported of itself last (refreshed every tick). Any thread. */
    public MemberInfo member() {
        return lastMember;
    }

    /**
     * What this node would report of itself now. Called by the cluster thread only, which is also the only thread
     * that replaces the replication client (a client closed under a reader cannot be read).
     */
    private MemberInfo describe() {
        Store store = host.map().engine();
        ReplicationClient client = host.replicationClient();
        ReplicationServer server = host.replicationServer();
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
                host.clientAddress(),
                server == null ? "" : publishedAddress(server),
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

    /**
     * The replication address followers are told to dial: the server's first advertised name (a port forward, a DNS
     * name, a proxy; and the only usable one when it binds a wildcard address), else the address it is bound to.
     */
    static String publishedAddress(ReplicationServer server) {
        List<String> advertised = server.advertise();
        return advertised.isEmpty() ? hostPort(server.address()) : advertised.getFirst();
    }

    static String hostPort(InetSocketAddress a) {
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
        if (host.map().engine().isReplica()) {
            // a follower refuses every leader of a lower term from now on, the old leader among them
            host.map().engine().raiseTerm(state.term());
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
        if (!host.isFollower() || !addr.equals(host.leader()) || !following.equals(state.leader())) {
            LOG.info(
                    "group {}: node {} follows {} at {} (term {})",
                    cluster.group(),
                    cluster.nodeId(),
                    state.leader(),
                    addr,
                    state.term());
            following = state.leader();
            host.follow(addr);
        }
    }

    private void notLeader(String reason) {
        fence.notLeader(reason);
        isr.stop(reason);
        gate.resume();
        disconnectClientsIfSteppedDown();
    }

    /**
     * Once per step-down of the fence, tells the host (a RESP front-end closes its clients' connections, so that they
     * reconnect to the new leader: see {@link NodeHost#stoppedLeading()}). Called on the cluster thread and on
     * Curator's (session lost).
     */
    private void disconnectClientsIfSteppedDown() {
        long now = fence.stepDowns();
        long handled = stepDownsHandled.get();
        if (now != handled && stepDownsHandled.compareAndSet(handled, now) && !closed) {
            LOG.info("group {}: node {} stopped leading", cluster.group(), cluster.nodeId());
            host.stoppedLeading();
        }
    }

    private void lead(GroupState state, long roundTripStart, Switchover.Read switchover) throws Exception {
        if (uncleanStart) {
            notLeader("named leader, but started after an unclean stop: waiting for the controller");
            return;
        }
        Store store = host.map().engine();
        if (host.isFollower() || store.isReplica()) {
            LOG.info(
                    "group {}: node {} promotes itself under term {}", cluster.group(), cluster.nodeId(), state.term());
            host.promoteTo(state.term());
            following = "";
        } else if (store.term() < state.term()) {
            host.promoteTo(state.term());
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
        ReplicationServer srv = host.replicationServer();
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
            Store store = host.map().engine();
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
        Store store = host.map().engine();
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
        return InetSocketAddress.createUnresolved(
                hostOf(hostPort, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostOf(hostPort, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    private static String hostOf(String hostPort, int colon) {
        String name = hostPort.substring(0, colon);
        return name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name;
    }

    /**
     * Stores {@code value} under {@code key} if this member leads and may write now, and returns once every in-sync
     * follower acknowledged the write (at once with an empty ISR and {@code minInsync} 0). Blocks the calling thread
     * for one replication round trip and the followers' force (GROUP: up to their group interval); at most the ISR lag
     * bound plus the session timeout.
     *
     * @return the write's LSN in the key's shard
     * @throws ClusterWriteException if refused ({@link ClusterWriteException.Reason#NOT_LEADER}, {@code TRY_AGAIN},
     *     {@code NOT_ENOUGH_REPLICAS}: not applied) or not confirmed ({@code OUTCOME_UNKNOWN})
     * @throws IllegalArgumentException if the key or value has the wrong size
     */
    public long put(byte[] key, byte[] value) {
        FixedMap map = host.map();
        refuseIfGated();
        long lsn;
        try {
            lsn = map.put(key, value);
        } catch (ArmDbReadOnlyException e) {
            throw readOnly();
        }
        awaitAcknowledged(key, lsn);
        return lsn;
    }

    /**
     * Deletes {@code key} as {@link #put} writes: gated, and confirmed by the in-sync followers if it changed anything.
     *
     * @return the delete's LSN in the key's shard, or {@link dev.armdb.FixedStore#UNCHANGED} if the key was absent
     * @throws ClusterWriteException as {@link #put}
     */
    public long delete(byte[] key) {
        FixedMap map = host.map();
        refuseIfGated();
        long lsn;
        try {
            lsn = map.delete(key);
        } catch (ArmDbReadOnlyException e) {
            throw readOnly();
        }
        if (lsn != FixedStore.UNCHANGED) {
            awaitAcknowledged(key, lsn);
        }
        return lsn;
    }

    /**
     * Stores every pair as {@link FixedMap#putAllWithoutInterleaving} does, gated as {@link #put}, and returns once
     * the in-sync followers acknowledged all of them.
     *
     * @return the LSN of each pair's write, in the order given
     * @throws ClusterWriteException as {@link #put} ({@code OUTCOME_UNKNOWN}: some or all pairs may survive)
     */
    public long[] putAll(byte[][] keys, byte[][] values) {
        FixedMap map = host.map();
        refuseIfGated();
        long[] lsns;
        try {
            lsns = map.putAllWithoutInterleaving(keys, values);
        } catch (ArmDbReadOnlyException e) {
            throw readOnly();
        }
        long[] perShard = new long[map.config().shards()];
        for (int i = 0; i < keys.length; i++) {
            int shard = shardOf(keys[i]);
            perShard[shard] = Math.max(perShard[shard], lsns[i]);
        }
        awaitAcknowledged(perShard);
        return lsns;
    }

    /**
     * Throws unless a write may be applied now: this member leads, holds its lease, no switchover stops writes, and
     * enough followers are in sync. For embedders that write through {@link #map()} themselves: call it before each
     * write and {@link #awaitAcknowledged(long[])} after; a refusal is counted as a fenced write while leading.
     *
     * @throws ClusterWriteException with a reason that was not applied
     */
    public void refuseIfGated() {
        String refusal = gate.refuseWrite();
        if (refusal != null) {
            throw ClusterWriteException.of(refusal, false);
        }
    }

    /**
     * Returns once every in-sync follower acknowledged, on every shard {@code s}, the writes up to {@code lsns[s]} (0:
     * none there). Blocks the calling thread; any thread. For embedders that write through {@link #map()} after {@link
     * #refuseIfGated()}.
     *
     * @throws ClusterWriteException ({@code OUTCOME_UNKNOWN}) if the followers dropped below {@code minInsync} or this
     *     member stopped leading before they acknowledged
     * @throws IllegalArgumentException if {@code lsns} does not have one entry per shard
     */
    public void awaitAcknowledged(long[] lsns) {
        int shards = host.map().config().shards();
        if (lsns.length != shards) {
            throw new IllegalArgumentException("expected one LSN per shard (" + shards + "), got " + lsns.length);
        }
        CompletableFuture<String> done = new CompletableFuture<>();
        gate.awaitAcknowledged(lsns.clone(), done::complete);
        // the ISR answers within its hold bound; the margin covers a busy evaluator
        long boundNanos =
                cluster.isrLag().plus(cluster.sessionTimeout()).plusSeconds(5).toNanos();
        String refusal;
        try {
            refusal = done.get(boundNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ClusterWriteException.of("NOREPLICAS interrupted while waiting for the in-sync followers", true);
        } catch (ExecutionException | TimeoutException e) {
            throw ClusterWriteException.of("NOREPLICAS no answer from the in-sync followers: " + e, true);
        }
        if (refusal != null) {
            throw ClusterWriteException.of(refusal, true);
        }
    }

    private void awaitAcknowledged(byte[] key, long lsn) {
        long[] lsns = new long[host.map().config().shards()];
        lsns[shardOf(key)] = lsn;
        awaitAcknowledged(lsns);
    }

    /** The shard {@code key} belongs to. */
    private int shardOf(byte[] key) {
        return host.map().engine().shardOf(key, KeyHash.hash(key));
    }

    /** The engine refused a user write: this node became a replica, or a switchover stopped its shards. */
    private ClusterWriteException readOnly() {
        return ClusterWriteException.of(fence.leads() ? SWITCHING_OVER : LeaderFence.NOT_LEADER, false);
    }

    /**
     * The collection: read from it freely; write to it only through this member ({@link #put}, {@link #delete},
     * {@link #putAll}, or {@link #refuseIfGated()} and {@link #awaitAcknowledged(long[])} around your own writes), or
     * writes escape the fence and are not confirmed by the followers. Closed by {@link #close()}.
     */
    public FixedMap map() {
        return host.map();
    }

    /** The replica host (armdb-server's node for a {@link ClusterNode}). */
    ReplicaHost host() {
        return host;
    }

    /**
     * Adds a listener told of every change of this member's {@link MemberRole}, starting with the role at its next
     * look (within a tick). Listeners are called one at a time and in order, on the member's cluster thread or on its
     * ZooKeeper client's event thread (a lost session); they must return quickly (the cluster thread renews the
     * leader's lease) and must not close the member. Any thread.
     */
    public void addRoleListener(Consumer<MemberRole> listener) {
        synchronized (roleListeners) {
            roleListeners.add(listener);
            pendingFirst.add(listener);
        }
    }

    /** This member's role as its cluster thread last saw it. Any thread. */
    public MemberRole role() {
        return role;
    }

    /**
     * Computes the role from the last state read and the fence, and tells the listeners if it changed. Called on the
     * cluster thread after every round and on Curator's event thread after a connection change; one at a time (the
     * listeners' lock is held while they are told), so listeners see the changes in order.
     */
    private void updateRole() {
        synchronized (roleListeners) {
            tellRole();
        }
    }

    private void tellRole() {
        GroupState s = lastState;
        MemberRole now;
        if (s == null || closed) {
            now = MemberRole.NONE;
        } else if (s.leader().equals(cluster.nodeId())) {
            now = new MemberRole(fence.leads() ? MemberRole.Kind.LEADER : MemberRole.Kind.NONE, s.leader(), s.term());
        } else {
            now = new MemberRole(MemberRole.Kind.FOLLOWER, s.leader(), s.term());
        }
        List<Consumer<MemberRole>> tell =
                now.equals(role) ? new ArrayList<>(pendingFirst) : new ArrayList<>(roleListeners);
        pendingFirst.clear();
        role = now;
        for (Consumer<MemberRole> l : tell) {
            try {
                l.accept(now);
            } catch (RuntimeException e) {
                LOG.warn("group {}: a role listener failed on {}: {}", cluster.group(), now, e.toString());
            }
        }
    }

    /** The last group state read, or null. Any thread. */
    public GroupState groupState() {
        return lastState;
    }

    /** True while this member is the cluster's controller. Any thread. */
    public boolean isController() {
        return latch.hasLeadership();
    }

    /**
     * True while this member accepts writes as the group's leader (named, connected, within its lease); a write may
     * still be refused for too few in-sync followers or a switchover. Any thread.
     */
    public boolean acceptsWrites() {
        return !host.map().engine().isReplica() && fence.mayWrite();
    }

    /** The accept times of the terms this member led (the current one and a few before it). */
    AcceptLog accepts() {
        return fence.accepts();
    }

    /** Writes refused by the fence while this member led. Any thread. */
    public long fencedWrites() {
        return fence.fencedWrites();
    }

    /** This member's cluster counters and gauges (thread-safe counters). */
    public ClusterMetrics metrics() {
        return metrics;
    }

    /** The in-sync followers this member waits for while it leads (empty otherwise). Any thread. */
    public List<String> inSyncReplicas() {
        return isr.isr();
    }

    /** True if this run began after an unclean stop. Any thread. */
    public boolean uncleanStart() {
        return uncleanStart;
    }

    /**
     * Leaves the group (its member znode goes with the session), stops replication and closes the collection.
     * Idempotent; not from a role listener.
     */
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
                host.close();
            }
        }
    }
}
