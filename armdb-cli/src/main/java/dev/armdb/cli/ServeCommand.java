package dev.armdb.cli;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.cluster.ClusterConfig;
import dev.armdb.cluster.ClusterNode;
import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.ReplicationTls;
import dev.armdb.replication.SecretFiles;
import dev.armdb.replication.follower.LeaderShape;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.server.ClientLimits;
import dev.armdb.server.Node;
import dev.armdb.server.NodeConfig;
import dev.armdb.server.RespPassword;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb serve}: runs a node (leader, or follower with {@code --follow}) until SIGTERM/SIGINT, then flushes,
 * closes and exits 0.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Run a node: the collection in --dir, a RESP (Redis protocol) front-end on --port, a replication",
            "server on --repl-port. With --follow HOST:PORT (a leader's replication port) it is a read-only",
            "follower. Binds 127.0.0.1 unless --bind (RESP), --repl-bind and --metrics-bind say otherwise; off",
            "loopback the replication port is off unless --repl-port is given. With --cluster it joins a replica group",
            "in ZooKeeper whose controller fails over automatically. SIGTERM/SIGINT: flush, close, exit 0."
        })
final class ServeCommand implements Callable<Integer> {
    /** Fewest and most shards a new collection gets by default (see {@link #defaultShards}). */
    private static final int MIN_DEFAULT_SHARDS = 2;

    private static final int MAX_DEFAULT_SHARDS = 16;
    private static final Duration PROBE_PATIENCE = Duration.ofSeconds(30);

    @Option(names = "--dir", required = true, description = "Collection directory (created if missing).")
    Path dir;

    /** Set by the commands that run nodes as their children (aot-train, cluster-demo), so none outlives them. */
    @Option(names = "--exit-with-parent", hidden = true)
    boolean exitWithParent;

    @Option(names = "--port", defaultValue = "6380", description = "RESP port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--bind",
            defaultValue = "127.0.0.1",
            description = "Address RESP binds, and by default replication and metrics (default ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--repl-bind", description = "Address the replication port binds (default: --bind).")
    String replBind;

    @Option(
            names = "--repl-port",
            description = {
                "Replication port. Default: ephemeral on a loopback --repl-bind, and OFF (no followers) on any other",
                "address, so that opening RESP to the network never opens replication by accident."
            })
    Integer replPort;

    @Option(
            names = "--repl-advertise",
            split = ",",
            description = {
                "HOST:PORT names followers dial to reach this node's replication port besides its own address",
                "(NAT, port forwards, DNS names). A follower's proof names the address it dialed; others are refused.",
                "With --cluster the first is the replication address this node publishes to its group."
            })
    List<String> replAdvertise = List.of();

    @Option(names = "--metrics-bind", description = "Address the metrics endpoint binds (default: --bind).")
    String metricsBind;

    @Option(
            names = "--key-size",
            description = "Key size in bytes (to create a collection; with --follow, the leader's by default).")
    Integer keySize;

    @Option(
            names = "--value-size",
            description = "Value size in bytes (to create a collection; with --follow, the leader's by default).")
    Integer valueSize;

    @Option(
            names = "--shards",
            description = "Shards when creating (default: one per core, rounded up to a power of two, 2 to 16;"
                    + " with --follow, the leader's; an existing collection keeps its own).")
    Integer shards;

    @Option(
            names = "--durability",
            defaultValue = "group",
            description = "none, group or sync (default ${DEFAULT-VALUE}).")
    Durability durability;

    /** How the slot files are mapped under group and sync durability (none always maps them shared). */
    enum SlotPages {
        /** Each written page is the process's own: no force ever write-protects a page a writer stores into. */
        PRIVATE,
        /** The page cache's pages: the kernel may evict written pages, at a fault per page a checkpoint wrote. */
        SHARED
    }

    @Option(
            names = "--slot-pages",
            defaultValue = "private",
            description = "private or shared: how group and sync durability map the slot files (default"
                    + " ${DEFAULT-VALUE}; shared for collections whose written part outgrows memory; none always"
                    + " maps them shared).")
    SlotPages slotPages;

    @Option(names = "--follow", description = "HOST:PORT of a leader's replication server to follow.")
    String follow;

    @Option(
            names = "--metrics-port",
            description = "Serve Prometheus text at GET /metrics on this port (--metrics-bind address).")
    Integer metricsPort;

    @Option(
            names = "--max-clients",
            defaultValue = "10000",
            description = "RESP connections served at once; more get an error reply (default ${DEFAULT-VALUE}).")
    int maxClients;

    @Option(
            names = "--group-interval",
            defaultValue = "10ms",
            converter = DurationConverter.class,
            description = "How often group durability forces writes, e.g. 10ms, 1s (default ${DEFAULT-VALUE}).")
    Duration groupInterval;

    @Option(
            names = "--io-threads",
            defaultValue = "0",
            description = "RESP event-loop threads (default: one per core but one, at least one).")
    int ioThreads;

    @Option(
            names = "--io-spin-micros",
            defaultValue = "" + NodeConfig.DEFAULT_IO_SPIN_MICROS,
            description = {
                "How long an event loop that just served requests polls its sockets before it sleeps, in",
                "microseconds, 0 to " + NodeConfig.MAX_IO_SPIN_MICROS
                        + " (default ${DEFAULT-VALUE}; 0: it sleeps at once, for",
                "machines where idle CPU matters more than latency). It polls only while requests come",
                "less than twice that apart."
            })
    int ioSpinMicros;

    @Option(
            names = "--client-query-buffer-limit",
            defaultValue = "64mb",
            converter = ByteSizeConverter.class,
            description = {
                "Largest request one RESP client may send, e.g. 64mb, 1gb (default ${DEFAULT-VALUE}); a client",
                "beyond it gets an error and is closed. Also bounds the bulk strings a request may announce."
            })
    long clientQueryBufferLimit;

    @Option(
            names = "--client-reply-buffer-limit",
            defaultValue = "256mb",
            converter = ByteSizeConverter.class,
            description =
                    "Most unread reply bytes one RESP client may leave before it is closed (default ${DEFAULT-VALUE}).")
    long clientReplyBufferLimit;

    @Option(
            names = "--repl-secret-file",
            description = {
                "File holding the replication secret (at least 16 bytes; a trailing newline is ignored). Leader and",
                "followers must use the same one: each proves it to the other at every handshake (HMAC-SHA256)."
            })
    Path replSecretFile;

    @Option(
            names = "--repl-tls-keystore",
            description = {
                "PKCS#12 key store with this node's key and certificate and the certificates it trusts: the",
                "replication port then speaks mutual TLS 1.3 (as leader and as follower). Needs --repl-tls-password-file."
            })
    Path replTlsKeyStore;

    @Option(
            names = "--repl-tls-password-file",
            description = "File holding the key store's password (a trailing newline is ignored).")
    Path replTlsPasswordFile;

    @Option(
            names = "--tls-keystore",
            description = {
                "PKCS#12 key store with the key and certificate the RESP port presents (bin/armdb tls-keystore makes",
                "one): the port then speaks only TLS 1.3 or 1.2, as redis-cli --tls. Needs --tls-password-file."
            })
    Path tlsKeyStore;

    @Option(
            names = "--tls-password-file",
            description = "File holding the RESP key store's password (a trailing newline is ignored).")
    Path tlsPasswordFile;

    @Option(
            names = "--requirepass-file",
            description = {
                "File holding the password RESP clients must give (AUTH, HELLO AUTH) before other commands, as",
                "Redis's requirepass; a trailing newline is ignored. Refused if its group or others may read it."
            })
    Path requirePassFile;

    @Option(
            names = "--no-protected-mode",
            description = {
                "Serve clients from any address even without --requirepass-file (by default, as Redis's protected",
                "mode, a node without a password answers only loopback clients)."
            })
    boolean noProtectedMode;

    @Option(
            names = "--cluster",
            description = {
                "ZooKeeper connect string HOST:PORT[,HOST:PORT...][/CHROOT]: join replica group --group as --node-id.",
                "The group's controller decides who leads (automatic failover); REPLICAOF and --follow are refused."
            })
    String cluster;

    @Option(names = "--group", description = "Replica group to join (with --cluster).")
    String group;

    @Option(names = "--node-id", description = "This node's id in the group, stable across restarts (with --cluster).")
    String nodeId;

    @Option(
            names = "--min-insync",
            defaultValue = "0",
            description =
                    "In-sync followers this node asks for when it leads (with --cluster; default ${DEFAULT-VALUE}).")
    int minInsync;

    @Option(
            names = "--session-timeout",
            converter = DurationConverter.class,
            description = {
                "ZooKeeper session timeout (with --cluster; default 6s): a leader whose session ends is",
                "replaced after it plus --failover-grace. The server may narrow it to its own bounds (2 to 20 ticks)."
            })
    Duration sessionTimeout;

    @Option(
            names = "--lease",
            converter = DurationConverter.class,
            description = {
                "How long a leader keeps taking writes after its last confirmed ZooKeeper round trip (with --cluster;",
                "default 3s); shorter than --session-timeout. A new leader waits one lease first."
            })
    Duration lease;

    @Option(
            names = "--cluster-tick",
            converter = DurationConverter.class,
            description = "How often a cluster node reads the group state and reports itself (default 200ms).")
    Duration clusterTick;

    @Option(
            names = "--failover-grace",
            converter = DurationConverter.class,
            description = "How long the controller waits once the leader is gone (default 500ms).")
    Duration failoverGrace;

    @Option(
            names = "--failover-block",
            converter = DurationConverter.class,
            description = "At most one automatic failover per group within this period (default 30s).")
    Duration failoverBlock;

    @Override
    public Integer call() throws Exception {
        ClusterConfig clusterConfig = clusterConfig();
        replAdvertise.forEach(ServeCommand::checkAdvertised);
        FixedConfig cfg = config();
        InetSocketAddress followAddr = follow == null ? null : parse(follow);
        NodeConfig nodeConfig = new NodeConfig(
                        dir,
                        cfg,
                        new InetSocketAddress(bind, port),
                        replicationAddress(),
                        followAddr,
                        metricsPort == null
                                ? null
                                : new InetSocketAddress(metricsBind == null ? bind : metricsBind, metricsPort))
                .withReplicationAdvertise(replAdvertise)
                .withIoThreads(ioThreads)
                .withIoSpinMicros(ioSpinMicros)
                .withMaxClients(maxClients)
                .withClientLimits(ClientLimits.DEFAULTS
                        .withQueryBufferBytes(clientQueryBufferLimit)
                        .withReplyBufferBytes(clientReplyBufferLimit))
                .withReplicationSecret(replSecretFile == null ? null : ReplicationSecret.fromFile(replSecretFile))
                .withReplicationTls(tls(replTlsKeyStore, replTlsPasswordFile, "--repl-tls"))
                .withRespTls(tls(tlsKeyStore, tlsPasswordFile, "--tls"))
                .withRequirePass(requirePassFile == null ? null : RespPassword.fromFile(requirePassFile))
                .withProtectedMode(!noProtectedMode);
        ClusterNode member = clusterConfig == null ? null : ClusterNode.start(nodeConfig, clusterConfig);
        Node node = member == null ? Node.start(nodeConfig) : member.node();
        CountDownLatch stopped = new CountDownLatch(1);
        // handle TERM/INT ourselves so a clean stop exits 0 (the JVM's default handler exits 143/130)
        sun.misc.SignalHandler stop = sig -> stopped.countDown();
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), stop);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), stop);
        node.onShutdownRequest(stopped::countDown);
        if (exitWithParent) {
            // a parent killed with SIGKILL cannot stop its children: they see it go and stop cleanly
            ProcessHandle.current()
                    .parent()
                    .ifPresentOrElse(p -> p.onExit().thenRun(stopped::countDown), stopped::countDown);
        }
        System.out.printf(
                "armdb node: RESP on %s, %s%n",
                node.respAddress(),
                member != null
                        ? "group " + group + " as node " + nodeId + " through ZooKeeper at " + cluster
                        : node.isFollower()
                                ? "following " + followAddr
                                : node.replicationServer() == null
                                        ? "replication off"
                                        : "replication on "
                                                + node.replicationServer().address());
        System.out.flush();
        stopped.await();
        if (member != null) {
            member.close();
        } else {
            node.close();
        }
        System.out.println("armdb node: stopped cleanly");
        return 0;
    }

    /** The cluster membership the options ask for, or null without {@code --cluster}. */
    private ClusterConfig clusterConfig() {
        if (cluster == null) {
            if (group != null || nodeId != null) {
                throw new IllegalArgumentException("--group and --node-id go with --cluster HOST:PORT[/CHROOT]");
            }
            return null;
        }
        if (group == null || nodeId == null) {
            throw new IllegalArgumentException("--cluster needs --group G and --node-id N");
        }
        if (follow != null) {
            throw new IllegalArgumentException(
                    "--follow and --cluster exclude each other: in a cluster the group's controller names the leader");
        }
        // the defaults are ClusterConfig's, so that the library and the command line cannot drift apart
        ClusterConfig d = ClusterConfig.of(cluster, group, nodeId);
        return d.withMinInsync(minInsync)
                .withTimings(
                        sessionTimeout == null ? d.sessionTimeout() : sessionTimeout,
                        lease == null ? d.lease() : lease,
                        clusterTick == null ? d.tick() : clusterTick,
                        failoverGrace == null ? d.grace() : failoverGrace,
                        failoverBlock == null ? d.block() : failoverBlock);
    }

    /**
     * The replication server's address: {@code --repl-port} on {@code --repl-bind}; without a port, ephemeral on a
     * loopback address and none (null) on any other.
     */
    private InetSocketAddress replicationAddress() {
        String host = replBind == null ? bind : replBind;
        if (replPort != null) {
            return new InetSocketAddress(host, replPort);
        }
        InetSocketAddress a = new InetSocketAddress(host, 0);
        return a.getAddress() != null && a.getAddress().isLoopbackAddress() ? a : null;
    }

    /**
     * The stored configuration with this command's run-time settings, or a new one from the size options. On the
     * command's thread (tests: after parsing the options).
     */
    FixedConfig config() throws IOException, InterruptedException {
        FixedConfig.Builder b;
        boolean exists = Files.exists(dir.resolve("db.meta"));
        if (exists && keySize == null && valueSize == null) {
            b = FixedMap.storedConfig(dir).toBuilder();
        } else if (!exists && follow != null && (keySize == null || valueSize == null || shards == null)) {
            LeaderShape shape = probeLeader(parse(follow));
            b = FixedConfig.builder()
                    .keySize(keySize == null ? shape.keySize() : keySize)
                    .valueSize(valueSize == null ? shape.valueSize() : valueSize)
                    .shards(shards == null ? shape.shardCount() : shards)
                    .routing(shape.routing());
        } else {
            if (keySize == null || valueSize == null) {
                throw new IllegalArgumentException("creating a collection in " + dir
                        + " needs --key-size and --value-size (or --follow, to take the leader's)");
            }
            FixedConfig stored = exists ? FixedMap.storedConfig(dir) : null;
            b = FixedConfig.builder()
                    .keySize(keySize)
                    .valueSize(valueSize)
                    .shards(shardsFor(shards, stored, Runtime.getRuntime().availableProcessors()));
        }
        return b.durability(durability)
                .groupInterval(groupInterval)
                .privateSlotPages(slotPages == SlotPages.PRIVATE)
                .build();
    }

    /**
     * The shard count to open with: the one given, else an existing collection's own (so a restart with the size
     * options opens what an earlier default created), else {@link #defaultShards} of {@code processors}.
     */
    static int shardsFor(Integer given, FixedConfig stored, int processors) {
        if (given != null) {
            return given;
        }
        return stored != null ? stored.shards() : defaultShards(processors);
    }

    /**
     * Shards of a new collection by default: one per processor, rounded up to a power of two, at least {@value
     * #MIN_DEFAULT_SHARDS} and at most {@value #MAX_DEFAULT_SHARDS}.
     *
     * <p>Design note: a shard is a unit of write parallelism, but every shard costs a node work per write that does not
     * shrink with its share of the writes: its own redo log, which the group commit forces every interval, and its own
     * replication session to each follower, which sends a frame and takes an acknowledgement whenever a pass of the
     * event loop wrote to it. The writers are the RESP event loops, one per core but one, so one shard per core still
     * leaves each writer a shard of its own on average. History: 16 shards on 2 cores forced 1,600 logs a second and
     * took a sixth of the node's CPU (4 against 16 shards, same runs: SET -P 1 29.9k against 26.1k, live lag p99 3.5
     * and 16.6 ms against 6.2 and 128 ms); with one event loop on 2 cores, 2 shards against 4 took 8% less CPU on the
     * leader and 15% less on its follower per SET -P 1 (fresh nodes, alternating pairs).
     */
    static int defaultShards(int processors) {
        int want = Math.max(MIN_DEFAULT_SHARDS, processors);
        int pow = Integer.highestOneBit(want);
        int rounded = pow == want ? want : pow << 1;
        return Math.min(MAX_DEFAULT_SHARDS, rounded);
    }

    /**
     * The shape of the leader this new follower is to follow, so that the collection is created to match it. Retries
     * for up to {@link #PROBE_PATIENCE} while the leader cannot be reached (it may be starting too); a refusal (wrong
     * secret, another protocol version) ends it at once.
     */
    private LeaderShape probeLeader(InetSocketAddress leader) throws IOException, InterruptedException {
        ReplicationClientConfig rc = new ReplicationClientConfig(
                Duration.ofSeconds(2),
                Duration.ofMillis(250),
                Duration.ofSeconds(5),
                Duration.ofMillis(50),
                Duration.ofSeconds(5),
                replSecretFile == null ? null : ReplicationSecret.fromFile(replSecretFile),
                tls(replTlsKeyStore, replTlsPasswordFile, "--repl-tls"),
                null);
        long deadline = System.nanoTime() + PROBE_PATIENCE.toNanos();
        while (true) {
            try {
                LeaderShape shape = LeaderShape.probe(leader, rc, Duration.ofSeconds(5));
                System.out.printf(
                        "armdb node: creating %s with the shape of leader %s: %d shards, %d-byte keys, %d-byte values%n",
                        dir, follow, shape.shardCount(), shape.keySize(), shape.valueSize());
                return shape;
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IOException(
                            "cannot learn the shape of leader " + follow + " within "
                                    + PROBE_PATIENCE.toSeconds() + " s to create " + dir + ": " + e.getMessage()
                                    + "; start the leader first, or give --key-size, --value-size and --shards",
                            e);
                }
                Thread.sleep(500);
            }
        }
    }

    /**
     * A TLS context from a key store option and its password file ({@code prefix}: the options' common start), or null
     * without them.
     */
    private static SSLContext tls(Path keyStore, Path passwordFile, String prefix) {
        if (keyStore == null && passwordFile == null) {
            return null;
        }
        if (keyStore == null || passwordFile == null) {
            throw new IllegalArgumentException(
                    prefix + "-keystore and " + prefix + "-password-file go together; got only " + prefix
                            + (keyStore == null ? "-password-file" : "-keystore"));
        }
        char[] password = SecretFiles.readChars(passwordFile, "key store password");
        try {
            return ReplicationTls.fromKeyStore(keyStore, password);
        } finally {
            java.util.Arrays.fill(password, '\0');
        }
    }

    /** Refuses a {@code --repl-advertise} entry that is not {@code HOST:PORT} with a port of 1 to 65535. */
    static void checkAdvertised(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        int port = -1;
        if (colon > 0 && hostPort.substring(colon + 1).matches("[0-9]{1,5}")) {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        }
        if (port < 1
                || port > 65_535
                || hostPort.substring(0, Math.max(colon, 0)).isBlank()) {
            throw new IllegalArgumentException(
                    "--repl-advertise expects HOST:PORT entries with a port of 1 to 65535, got '" + hostPort + "'");
        }
    }

    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + hostPort + "'");
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
