package dev.armdb.replication.leader;

import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.ReplicationTls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * Settings of a {@link ReplicationServer}. Immutable.
 *
 * @param bind address and port to listen on (port 0 = ephemeral); loopback by default
 * @param heartbeatInterval how often an idle session sends a heartbeat
 * @param peerTimeout a follower silent this long is dropped; also the longest a started frame may take, and the
 *     longest a whole handshake (TLS, challenge, proof) may take
 * @param window slot batches a session may have unacknowledged
 * @param batchBytes most payload bytes of one slot batch
 * @param secret the secret followers must prove they hold (and the leader proves to them), or null to serve
 *     anyone who can connect
 * @param tls the TLS context of the replication port (mutual TLS 1.3, see {@link ReplicationTls}), or null for
 *     plain TCP
 * @param advertise {@code host:port} names followers may dial to reach this leader besides the address a
 *     connection arrives on (a DNS name, a NAT address); a follower's proof over any other address is refused
 * @param respAddress the address this node serves RESP clients on, told to followers (null: none)
 * @param maxUnauthenticated connections that have not completed the handshake, at most, from all sources; more are
 *     closed at once
 * @param maxUnauthenticatedPerSource the same, per source IP address
 * @param maxSessions follower sessions (one per follower per shard) streaming at once, at most; a handshake beyond it
 *     is answered with a transient error (the follower retries), so peers that pass the handshake, which without a
 *     secret is anyone, cannot make the leader hold unbounded threads and buffers
 * @param workerThreads threads that drive the sessions after their handshake
 * @param ackReadInterval how often a session reads its follower's acks while nothing waits for them: no {@code
 *     WAIT}, no ack listener, the stream past its catch-up and its window open (then the leader reads them as they
 *     arrive)
 */
public record ReplicationServerConfig(
        InetSocketAddress bind,
        Duration heartbeatInterval,
        Duration peerTimeout,
        int window,
        int batchBytes,
        ReplicationSecret secret,
        SSLContext tls,
        List<String> advertise,
        InetSocketAddress respAddress,
        int maxUnauthenticated,
        int maxUnauthenticatedPerSource,
        int maxSessions,
        int workerThreads,
        Duration ackReadInterval) {
    /** Default of {@link #maxUnauthenticated}. */
    public static final int DEFAULT_MAX_UNAUTHENTICATED = 256;

    /** Default of {@link #maxSessions}: 64 followers of 16 shards. */
    public static final int DEFAULT_MAX_SESSIONS = 1024;

    /** Default of {@link #maxUnauthenticatedPerSource}. */
    public static final int DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE = 64;

    /** Default of {@link #workerThreads}: one per core, at most four. */
    public static final int DEFAULT_WORKER_THREADS =
            Math.min(4, Runtime.getRuntime().availableProcessors());

    /**
     * Default of {@link #ackReadInterval}: a follower acknowledges each shard about every millisecond while writes
     * stream; read as they came, those acks woke a leader thread thousands of times a second for nothing.
     */
    public static final Duration DEFAULT_ACK_READ_INTERVAL = Duration.ofMillis(10);

    /** Checks the limits and copies the list. */
    public ReplicationServerConfig {
        advertise = List.copyOf(advertise);
        if (maxSessions < 1) {
            throw new IllegalArgumentException("maxSessions must be >= 1, got " + maxSessions);
        }
        if (maxUnauthenticated < 1 || maxUnauthenticatedPerSource < 1) {
            throw new IllegalArgumentException("unauthenticated connection limits must be >= 1, got "
                    + maxUnauthenticated + " and " + maxUnauthenticatedPerSource);
        }
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads must be >= 1, got " + workerThreads);
        }
        if (ackReadInterval == null || ackReadInterval.isNegative() || ackReadInterval.isZero()) {
            throw new IllegalArgumentException("ackReadInterval must be positive, got " + ackReadInterval);
        }
    }

    /**
     * Loopback, ephemeral port, 250 ms heartbeats, 5 s timeout, 16 batches of 256 KiB in flight, no secret, no TLS,
     * nothing advertised, no RESP address, at most {@value #DEFAULT_MAX_UNAUTHENTICATED} connections in their
     * handshake ({@value #DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE} per source address), at most {@value
     * #DEFAULT_MAX_SESSIONS} sessions streaming, {@link #DEFAULT_WORKER_THREADS} worker threads, acks nobody waits
     * for read every {@link #DEFAULT_ACK_READ_INTERVAL}.
     */
    public static ReplicationServerConfig defaults() {
        return new ReplicationServerConfig(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMillis(250),
                Duration.ofSeconds(5),
                16,
                256 << 10,
                null,
                null,
                List.of(),
                null,
                DEFAULT_MAX_UNAUTHENTICATED,
                DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE,
                DEFAULT_MAX_SESSIONS,
                DEFAULT_WORKER_THREADS,
                DEFAULT_ACK_READ_INTERVAL);
    }

    /** The same settings reading acks nobody waits for every {@code interval}. */
    public ReplicationServerConfig withAckReadInterval(Duration interval) {
        return with(c -> c.ackReadInterval = interval);
    }

    /** The same settings with {@code n} worker threads. */
    public ReplicationServerConfig withWorkerThreads(int n) {
        return with(c -> c.workerThreads = n);
    }

    /** The same settings with at most {@code n} sessions streaming at once. */
    public ReplicationServerConfig withMaxSessions(int n) {
        return with(c -> c.maxSessions = n);
    }

    /** The same settings listening on {@code address}. */
    public ReplicationServerConfig withBind(InetSocketAddress address) {
        return with(c -> c.bind = address);
    }

    /** The same settings with other timeouts. */
    public ReplicationServerConfig withTimeouts(Duration heartbeat, Duration timeout) {
        return with(c -> {
            c.heartbeatInterval = heartbeat;
            c.peerTimeout = timeout;
        });
    }

    /** The same settings with another window and batch size. */
    public ReplicationServerConfig withWindow(int batches, int bytesPerBatch) {
        return with(c -> {
            c.window = batches;
            c.batchBytes = bytesPerBatch;
        });
    }

    /** The same settings serving over TLS with {@code tls} (null: plain TCP). */
    public ReplicationServerConfig withTls(SSLContext tls) {
        return with(c -> c.tls = tls);
    }

    /** The same settings requiring {@code secret} of every follower (null: none). */
    public ReplicationServerConfig withSecret(ReplicationSecret secret) {
        return with(c -> c.secret = secret);
    }

    /** The same settings accepting proofs over these advertised {@code host:port} names too. */
    public ReplicationServerConfig withAdvertise(List<String> names) {
        return with(c -> c.advertise = names);
    }

    /** The same settings telling followers this RESP address (null: none). */
    public ReplicationServerConfig withRespAddress(InetSocketAddress address) {
        return with(c -> c.respAddress = address);
    }

    /** The same settings with other limits on connections still in their handshake. */
    public ReplicationServerConfig withUnauthenticatedLimits(int total, int perSource) {
        return with(c -> {
            c.maxUnauthenticated = total;
            c.maxUnauthenticatedPerSource = perSource;
        });
    }

    /** A copy of these settings with the components {@code change} sets changed, checked by the constructor. */
    private ReplicationServerConfig with(Consumer<Components> change) {
        Components c = new Components(this);
        change.accept(c);
        return c.build();
    }

    /** The components of settings being copied; confined to one {@code with...} call. */
    private static final class Components {
        private InetSocketAddress bind;
        private Duration heartbeatInterval;
        private Duration peerTimeout;
        private int window;
        private int batchBytes;
        private ReplicationSecret secret;
        private SSLContext tls;
        private List<String> advertise;
        private InetSocketAddress respAddress;
        private int maxUnauthenticated;
        private int maxUnauthenticatedPerSource;
        private int maxSessions;
        private int workerThreads;
        private Duration ackReadInterval;

        Components(ReplicationServerConfig from) {
            bind = from.bind;
            heartbeatInterval = from.heartbeatInterval;
            peerTimeout = from.peerTimeout;
            window = from.window;
            batchBytes = from.batchBytes;
            secret = from.secret;
            tls = from.tls;
            advertise = from.advertise;
            respAddress = from.respAddress;
            maxUnauthenticated = from.maxUnauthenticated;
            maxUnauthenticatedPerSource = from.maxUnauthenticatedPerSource;
            maxSessions = from.maxSessions;
            workerThreads = from.workerThreads;
            ackReadInterval = from.ackReadInterval;
        }

        ReplicationServerConfig build() {
            return new ReplicationServerConfig(
                    bind,
                    heartbeatInterval,
                    peerTimeout,
                    window,
                    batchBytes,
                    secret,
                    tls,
                    advertise,
                    respAddress,
                    maxUnauthenticated,
                    maxUnauthenticatedPerSource,
                    maxSessions,
                    workerThreads,
                    ackReadInterval);
        }
    }
}
