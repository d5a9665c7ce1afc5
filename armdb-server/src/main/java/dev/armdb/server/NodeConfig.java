package dev.armdb.server;

import dev.armdb.FixedConfig;
import dev.armdb.replication.ReplicationSecret;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * How to run a {@link Node}. Immutable; the {@code with...} methods return changed copies.
 *
 * @param dir the collection directory
 * @param config sizes and durability used to create the collection (null: it must exist)
 * @param resp address of the RESP front-end
 * @param replication address of the replication server (port 0 = ephemeral), or null for none (the node then serves
 *     no followers while it leads)
 * @param follow the leader's replication address to follow at start, or null to lead
 * @param metrics address of the Prometheus {@code /metrics} endpoint, or null for none
 * @param ioThreads RESP event-loop threads (0: one per available processor but one, at least one)
 * @param ioSpinMicros how long, in microseconds, an event loop that just served requests polls its sockets before it
 *     sleeps in the selector (0: it sleeps at once), while requests come less than twice that apart; see {@link
 *     #DEFAULT_IO_SPIN_MICROS}
 * @param maxClients RESP connections served at once; more are refused with an error reply
 * @param replicationSecret the secret leader and followers prove to each other at every replication handshake, or
 *     null for none (anyone who reaches the replication port can follow)
 * @param replicationTls the TLS context of the replication port, used as leader and as follower (mutual TLS 1.3),
 *     or null for plain TCP
 * @param clientLimits the memory RESP clients may make the node hold (query and reply buffers)
 * @param replicationAdvertise {@code host:port} names followers may dial to reach this node's replication port besides
 *     the address a connection arrives on (NAT, DNS); see {@code ReplicationServerConfig#advertise}
 * @param requirePass the password RESP clients must give (AUTH, HELLO AUTH) before other commands, or null for none
 * @param protectedMode with no {@code requirePass}, serve only loopback clients (as Redis's protected mode); others
 *     get Redis's DENIED error and are closed
 * @param respTls the TLS context of the RESP port (server authentication only, TLS 1.3 and 1.2), or null for plain
 *     TCP; with it the port speaks only TLS
 */
public record NodeConfig(
        Path dir,
        FixedConfig config,
        InetSocketAddress resp,
        InetSocketAddress replication,
        InetSocketAddress follow,
        InetSocketAddress metrics,
        int ioThreads,
        int ioSpinMicros,
        int maxClients,
        ReplicationSecret replicationSecret,
        SSLContext replicationTls,
        ClientLimits clientLimits,
        List<String> replicationAdvertise,
        RespPassword requirePass,
        boolean protectedMode,
        SSLContext respTls) {
    /** Default of {@link #maxClients}, as Redis'. */
    public static final int DEFAULT_MAX_CLIENTS = 10_000;

    /**
     * Default of {@link #ioSpinMicros}. A loop that sleeps in the selector as soon as it finds no request costs each
     * later request a wake-up (a context switch, on a virtual machine an interrupt to another CPU); a client with one
     * request in flight per connection waits for it every time. Polling a little longer than the gap between
     * requests of a busy node keeps it awake while requests keep coming and lets it sleep when they stop. Measured
     * with redis-benchmark SET, 50 clients, on two cores, against 0 in alternating runs: with the node alone, 50 us
     * served 4-10% more requests at {@code -P 1} in most pairs and 3-7% fewer at {@code -P 16} (the polling takes
     * CPU the client needs); with a follower process, as many at both depths. A poll that finds nothing yields the
     * processor to any task waiting for it: with a follower process, SET {@code -P 1} served a median 3.5% more
     * requests (14 alternating pairs, 10 better), as many at {@code -P 16}, alone, and in the replication lag
     * benchmark. Not polling at all served 11% more with a follower process but 8% fewer alone at {@code -P 1}, so a
     * loop polls only while the machine has a processor free for it ({@link SpinGovernor}).
     */
    public static final int DEFAULT_IO_SPIN_MICROS = 50;

    /** Largest {@link #ioSpinMicros}: polling longer than a millisecond only burns CPU. */
    public static final int MAX_IO_SPIN_MICROS = 1_000;

    /** Checks the counts. */
    public NodeConfig {
        replicationAdvertise = List.copyOf(replicationAdvertise);
        if (ioThreads < 0) {
            throw new IllegalArgumentException("ioThreads must be >= 0 (0 = one per core), got " + ioThreads);
        }
        if (ioSpinMicros < 0 || ioSpinMicros > MAX_IO_SPIN_MICROS) {
            throw new IllegalArgumentException(
                    "ioSpinMicros must be 0 to " + MAX_IO_SPIN_MICROS + " (0 = no polling), got " + ioSpinMicros);
        }
        if (maxClients < 1) {
            throw new IllegalArgumentException("maxClients must be >= 1, got " + maxClients);
        }
        if (clientLimits == null) {
            throw new IllegalArgumentException("clientLimits must be given (ClientLimits.DEFAULTS), got null");
        }
    }

    /**
     * A configuration with one RESP event loop per available processor but one (at least one), polling {@value
     * #DEFAULT_IO_SPIN_MICROS} us after work, {@value #DEFAULT_MAX_CLIENTS} clients, no replication secret, no TLS
     * (replication or RESP), the default {@link ClientLimits}, no RESP password and protected mode on.
     */
    public NodeConfig(
            Path dir,
            FixedConfig config,
            InetSocketAddress resp,
            InetSocketAddress replication,
            InetSocketAddress follow,
            InetSocketAddress metrics) {
        this(
                dir,
                config,
                resp,
                replication,
                follow,
                metrics,
                0,
                DEFAULT_IO_SPIN_MICROS,
                DEFAULT_MAX_CLIENTS,
                null,
                null,
                ClientLimits.DEFAULTS,
                List.of(),
                null,
                true,
                null);
    }

    /** This configuration with {@code n} RESP event loops (0: one per available processor but one, at least one). */
    public NodeConfig withIoThreads(int n) {
        return with(c -> c.ioThreads = n);
    }

    /** This configuration with event loops polling {@code micros} after work before they sleep (0: not at all). */
    public NodeConfig withIoSpinMicros(int micros) {
        return with(c -> c.ioSpinMicros = micros);
    }

    /** This configuration serving at most {@code n} RESP clients at once. */
    public NodeConfig withMaxClients(int n) {
        return with(c -> c.maxClients = n);
    }

    /** This configuration with a replication secret (null: none). */
    public NodeConfig withReplicationSecret(ReplicationSecret secret) {
        return with(c -> c.replicationSecret = secret);
    }

    /** This configuration with TLS on the replication port (null: plain TCP). */
    public NodeConfig withReplicationTls(SSLContext tls) {
        return with(c -> c.replicationTls = tls);
    }

    /** This configuration with other memory limits for RESP clients. */
    public NodeConfig withClientLimits(ClientLimits limits) {
        return with(c -> c.clientLimits = limits);
    }

    /** This configuration accepting followers that dial the replication port by these {@code host:port} names. */
    public NodeConfig withReplicationAdvertise(List<String> names) {
        return with(c -> c.replicationAdvertise = names);
    }

    /** This configuration with a RESP password (null: none). */
    public NodeConfig withRequirePass(RespPassword password) {
        return with(c -> c.requirePass = password);
    }

    /** This configuration with protected mode on or off (it matters only without a RESP password). */
    public NodeConfig withProtectedMode(boolean on) {
        return with(c -> c.protectedMode = on);
    }

    /** This configuration with TLS on the RESP port (null: plain TCP). */
    public NodeConfig withRespTls(SSLContext tls) {
        return with(c -> c.respTls = tls);
    }

    /** A copy of this configuration with one component changed by {@code change}. */
    private NodeConfig with(java.util.function.Consumer<Components> change) {
        Components c = new Components(this);
        change.accept(c);
        return c.build();
    }

    /** The components of a configuration being copied; confined to one {@code with...} call. */
    private static final class Components {
        private Path dir;
        private FixedConfig config;
        private InetSocketAddress resp;
        private InetSocketAddress replication;
        private InetSocketAddress follow;
        private InetSocketAddress metrics;
        private int ioThreads;
        private int ioSpinMicros;
        private int maxClients;
        private ReplicationSecret replicationSecret;
        private SSLContext replicationTls;
        private ClientLimits clientLimits;
        private List<String> replicationAdvertise;
        private RespPassword requirePass;
        private boolean protectedMode;
        private SSLContext respTls;

        Components(NodeConfig from) {
            dir = from.dir;
            config = from.config;
            resp = from.resp;
            replication = from.replication;
            follow = from.follow;
            metrics = from.metrics;
            ioThreads = from.ioThreads;
            ioSpinMicros = from.ioSpinMicros;
            maxClients = from.maxClients;
            replicationSecret = from.replicationSecret;
            replicationTls = from.replicationTls;
            clientLimits = from.clientLimits;
            replicationAdvertise = from.replicationAdvertise;
            requirePass = from.requirePass;
            protectedMode = from.protectedMode;
            respTls = from.respTls;
        }

        NodeConfig build() {
            return new NodeConfig(
                    dir,
                    config,
                    resp,
                    replication,
                    follow,
                    metrics,
                    ioThreads,
                    ioSpinMicros,
                    maxClients,
                    replicationSecret,
                    replicationTls,
                    clientLimits,
                    replicationAdvertise,
                    requirePass,
                    protectedMode,
                    respTls);
        }
    }
}
