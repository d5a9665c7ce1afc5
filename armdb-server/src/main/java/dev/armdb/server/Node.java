package dev.armdb.server;

import dev.armdb.ArmDbException;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.LeaderShape;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running armdb node: one collection, a RESP front-end, and either a replication server (leader) or a
 * replication client (follower). {@link #replicaOf} and {@link #promote} switch roles at run time.
 *
 * <p>Thread-safe: role changes are serialised; RESP connections read the current role.
 */
public final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Node.class);
    /** How long {@link #replicaOfChecked} waits for each step of its question to a leader about its shape. */
    private static final Duration SHAPE_PROBE_TIMEOUT = Duration.ofSeconds(2);

    private final NodeConfig config;
    private final FixedMap map;
    private volatile Runnable shutdownRequest;
    private final RespServer resp;
    private final RespClients respClients = new RespClients();
    private MetricsEndpoint metricsEndpoint;
    private volatile ReplicationServer replicationServer;
    private volatile ReplicationClient replicationClient;
    private volatile InetSocketAddress leader;
    private volatile boolean closed;
    private final WriteGate gate;
    private final List<InfoSection> infoSections = new CopyOnWriteArrayList<>();

    /**
     * An INFO section a coordinator adds.
     *
     * @param name the section's name ({@code INFO name} shows it alone)
     * @param writer appends the section: its {@code # Title} line, its fields, a blank line
     */
    record InfoSection(String name, Consumer<StringBuilder> writer) {}

    private Node(NodeConfig config, FixedMap map, WriteGate gate) {
        this.config = config;
        this.map = map;
        this.gate = gate;
        this.resp = new RespServer(
                this,
                config.resp(),
                config.ioThreads(),
                config.ioSpinMicros(),
                config.maxClients(),
                config.clientLimits(),
                config.respTls());
    }

    /**
     * Opens (or creates) the collection and starts serving.
     *
     * @throws IllegalArgumentException if the node has a replication secret and would serve RESP off loopback: a
     *     RESP client could then point it at a host of its choosing ({@code REPLICAOF}); bind RESP to loopback
     */
    public static Node start(NodeConfig config) {
        return start(config, WriteGate.OPEN);
    }

    /**
     * Opens (or creates) the collection and starts serving with writes and {@code REPLICAOF} subject to {@code gate}
     * from the first request on (a coordinator that decides roles, such as automatic failover).
     *
     * @throws IllegalArgumentException as {@link #start(NodeConfig)}
     */
    public static Node start(NodeConfig config, WriteGate gate) {
        checkExposure(config);
        FixedMap map =
                config.config() == null ? FixedMap.open(config.dir()) : FixedMap.open(config.dir(), config.config());
        Node node = new Node(config, map, gate);
        try {
            // RESP first: replication tells peers the RESP address actually bound
            node.resp.start();
            if (config.follow() != null) {
                node.replicaOf(config.follow());
            } else {
                node.lead();
            }
            if (config.metrics() != null) {
                node.metricsEndpoint = MetricsEndpoint.start(node, config.metrics());
            }
            return node;
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    /**
     * Refuses a node that holds a replication secret and serves RESP on a non-loopback address without a RESP
     * password: its administrative commands (REPLICAOF) would be unauthenticated, so anyone who reached RESP could
     * make the node follow a host of their choosing with the secret's authority. With a password every command,
     * REPLICAOF included, needs AUTH first.
     */
    static void checkExposure(NodeConfig config) {
        java.net.InetAddress resp = config.resp().getAddress();
        if (config.replicationSecret() != null
                && config.requirePass() == null
                && resp != null
                && !resp.isLoopbackAddress()) {
            throw new IllegalArgumentException("a node with a replication secret and no RESP password serves RESP on"
                    + " loopback only, got " + config.resp() + ": RESP clients would not be authenticated and"
                    + " REPLICAOF would let any of them point this node at a host of their choosing; give RESP a"
                    + " password (--requirepass-file) or bind it to 127.0.0.1 (--bind) and replication elsewhere"
                    + " (--repl-bind)");
        }
    }

    private void lead() {
        if (map.engine().isReplica()) {
            LOG.warn(
                    "{} is a replica from an earlier run: it stays read-only until REPLICAOF NO ONE promotes it",
                    config.dir());
        }
        if (config.replication() == null) {
            LOG.info("replication port off: followers cannot connect (give it a port to serve them)");
            return;
        }
        replicationServer = ReplicationServer.start(
                map,
                ReplicationServerConfig.defaults()
                        .withBind(config.replication())
                        .withSecret(config.replicationSecret())
                        .withTls(config.replicationTls())
                        .withAdvertise(config.replicationAdvertise())
                        .withRespAddress(resp.address()));
    }

    /** Starts following the leader whose replication server is at {@code address}; writes become refused. */
    public synchronized void replicaOf(InetSocketAddress address) {
        stopReplication();
        leader = address;
        replicationClient = ReplicationClient.start(map, address, clientConfig());
        LOG.info("following {}", address);
    }

    private ReplicationClientConfig clientConfig() {
        return ReplicationClientConfig.defaults()
                .withSecret(config.replicationSecret())
                .withTls(config.replicationTls())
                .withRespAddress(resp.address());
    }

    /**
     * As {@link #replicaOf}, once the leader at {@code address} has been asked for its collection's shape (one
     * handshake, authenticated when the node has a replication secret): a leader whose shard count, key size, value
     * size or routing differs from this node's is refused and the node keeps its role, because following it would
     * leave this node read-only with nothing it could ever replicate. A leader that cannot be asked (unreachable,
     * over TLS, or refusing the handshake) is followed as by {@link #replicaOf}: its sessions retry and check the
     * shape at their own handshakes.
     *
     * <p>Blocks the calling thread for the question (at most about 2 s per step); never call it on an event loop.
     *
     * @throws IllegalArgumentException if the leader answered with another shape (the message names both)
     */
    public void replicaOfChecked(InetSocketAddress address) {
        String mismatch = shapeMismatch(address);
        if (mismatch != null) {
            throw new IllegalArgumentException(mismatch);
        }
        replicaOf(address);
    }

    /** What differs between the shape of the leader at {@code address} and this node's; null if nothing or unknown. */
    private String shapeMismatch(InetSocketAddress address) {
        if (config.replicationTls() != null || address.isUnresolved()) {
            return null;
        }
        LeaderShape theirs;
        try {
            theirs = LeaderShape.probe(address, clientConfig(), SHAPE_PROBE_TIMEOUT);
        } catch (IOException | RuntimeException e) {
            LOG.info(
                    "could not ask {} for its shape before following it ({}); its sessions will",
                    address,
                    e.toString());
            return null;
        }
        FixedConfig mine = map.config();
        String what = theirs.shardCount() != mine.shards()
                ? "shards: " + theirs.shardCount() + ", this node's " + mine.shards()
                : theirs.keySize() != mine.keySize()
                        ? "key size: " + theirs.keySize() + ", this node's " + mine.keySize()
                        : theirs.valueSize() != mine.valueSize()
                                ? "value size: " + theirs.valueSize() + ", this node's " + mine.valueSize()
                                : theirs.routing() != mine.routing()
                                        ? "routing: " + theirs.routing() + ", this node's " + mine.routing()
                                        : null;
        if (what == null) {
            return null;
        }
        return "leader " + address.getHostString() + ":" + address.getPort() + " has another shape (its " + what
                + "); a follower must have its leader's shape, so this node stays as it is: point it at a leader of"
                + " its shape, or start a node on an empty directory with --follow " + address.getHostString() + ":"
                + address.getPort() + " to take that leader's shape";
    }

    /** Stops following and becomes a writable leader (LSNs continue). No-op on a leader. */
    public synchronized void promote() {
        ReplicationClient c = replicationClient;
        if (c != null) {
            c.promote();
            replicationClient = null;
            leader = null;
            lead();
            LOG.info("promoted to leader");
        } else if (map.engine().isReplica()) {
            ReplicationClient.promoteReplica(map);
            LOG.info("promoted the replica left by an earlier run to leader");
        }
    }

    /**
     * Stops following and becomes a writable leader under exactly {@code term} (a coordinator assigned it): the
     * node's term is raised to {@code term - 1} and the promotion moves it one up. A node whose term is already
     * {@code term} or higher (it crashed during an earlier promotion) ends above {@code term}; the caller reads
     * {@code map().engine().term()} to learn which.
     *
     * @throws IllegalArgumentException if {@code term} is below 1
     */
    public synchronized void promoteTo(long term) {
        if (term < 1) {
            throw new IllegalArgumentException("a leader's term is at least 1, got " + term);
        }
        if (!isFollower() && !map.engine().isReplica()) {
            map.engine().raiseTerm(term);
            return;
        }
        map.engine().raiseTerm(term - 1);
        promote();
    }

    /**
     * Adds an INFO section that {@code writer} appends (its {@code # Title} line, {@code field:value} lines, a blank
     * line) whenever INFO shows it: with no argument, with {@code all}, {@code default} or {@code everything}, and with
     * {@code name}. Shown before the keyspace section, in the order added. Any thread; {@code writer} is called from
     * RESP event loops and must not block.
     *
     * @throws IllegalArgumentException if {@code name} is not lower case letters, or a section of that name exists
     */
    public void addInfoSection(String name, Consumer<StringBuilder> writer) {
        if (!name.matches("[a-z]+")) {
            throw new IllegalArgumentException("an INFO section name is lower case letters, got '" + name + "'");
        }
        synchronized (infoSections) {
            if (RespCommands.INFO_SECTIONS.contains(name)
                    || infoSections.stream().anyMatch(s -> s.name().equals(name))) {
                throw new IllegalArgumentException("INFO already has a section " + name);
            }
            infoSections.add(new InfoSection(name, writer));
        }
    }

    /** The INFO sections added with {@link #addInfoSection}, in order. */
    List<InfoSection> infoSections() {
        return infoSections;
    }

    /**
     * Registers {@code binder}'s meters with this node's Prometheus {@code /metrics} endpoint, if it serves one (else
     * nothing). Any thread.
     */
    public void bindMeters(MeterBinder binder) {
        MetricsEndpoint m = metricsEndpoint;
        if (m != null) {
            m.bind(binder);
        }
    }

    /**
     * Closes every RESP client connection, as Redis Sentinel has a demoted master do ({@code CLIENT KILL TYPE
     * normal}): a coordinator calls it when this node stops leading, so that clients holding connections to it
     * reconnect, and a client that looks for the leader on each connect (docs/cluster.md) reaches the new one instead
     * of being answered {@code -READONLY} on a connection that never breaks. Replies not sent yet are lost with their
     * connections (those clients learn nothing of their writes' outcome). Any thread; the connections close on their
     * event loops shortly after.
     *
     * @return the number of connections asked to close
     */
    public int disconnectClients() {
        List<RespClient> all = respClients.list();
        for (RespClient c : all) {
            c.kill();
        }
        return all.size();
    }

    /**
     * True if ROLE, INFO replication and HELLO show this node as a replica: it follows a leader, or its coordinator
     * names another leader ({@link WriteGate#leaderElsewhere()}).
     */
    boolean showsAsReplica() {
        return isFollower() || gate.leaderElsewhere() != null;
    }

    /** The coordinator's say over writes and role changes ({@link WriteGate#OPEN} without one). */
    public WriteGate gate() {
        return gate;
    }

    private void stopReplication() {
        if (replicationServer != null) {
            replicationServer.close();
            replicationServer = null;
        }
        if (replicationClient != null) {
            replicationClient.close();
            replicationClient = null;
        }
    }

    /** The collection. */
    public FixedMap map() {
        return map;
    }

    /** The replication server while leading, else null. */
    public ReplicationServer replicationServer() {
        return replicationServer;
    }

    /** The replication client while following, else null. */
    public ReplicationClient replicationClient() {
        return replicationClient;
    }

    /** The leader followed, or null. */
    public InetSocketAddress leader() {
        return leader;
    }

    /** How this node was started. */
    public NodeConfig config() {
        return config;
    }

    /** The RESP clients and request counters. */
    RespClients respClients() {
        return respClients;
    }

    /** RESP connections served now. */
    int respConnectedClients() {
        return resp.connectedClients();
    }

    /** The RESP front-end (for tests and INFO). */
    RespServer respServer() {
        return resp;
    }

    /** RESP event loops running now (for tests). Any thread. */
    int runningEventLoops() {
        return resp.runningEventLoops();
    }

    /** The RESP address actually bound. */
    public InetSocketAddress respAddress() {
        return resp.address();
    }

    /** The metrics endpoint's address, or null if none. */
    public InetSocketAddress metricsAddress() {
        return metricsEndpoint == null ? null : metricsEndpoint.address();
    }

    /**
     * Lets the RESP command {@code SHUTDOWN} stop this node: {@code stop} runs, on a RESP worker thread, when a client
     * asks, after the wait for followers; it must only signal the thread that owns the node (which then closes it),
     * never close it itself. Without one (an application embedding the node), {@code SHUTDOWN} is refused. Any
     * thread; set it once, after start.
     */
    public void onShutdownRequest(Runnable stop) {
        shutdownRequest = java.util.Objects.requireNonNull(stop, "stop");
    }

    /** The stop request {@link #onShutdownRequest} set, or null. */
    Runnable shutdownRequest() {
        return shutdownRequest;
    }

    /** True while following. */
    public boolean isFollower() {
        return replicationClient != null;
    }

    /** Stops serving, stops replication, flushes and closes the collection. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        resp.close();
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        try {
            stopReplication();
        } finally {
            try {
                map.close();
            } catch (ArmDbException e) {
                LOG.warn("closing {} failed: {}", config.dir(), e.getMessage());
            }
        }
    }
}
