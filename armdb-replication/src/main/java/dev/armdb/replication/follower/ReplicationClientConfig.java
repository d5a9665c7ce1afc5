package dev.armdb.replication.follower;

import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.ReplicationTls;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * Settings of a {@link ReplicationClient}. Immutable.
 *
 * @param connectTimeout how long a connection attempt may take
 * @param heartbeatInterval how often an idle follower acknowledges (its heartbeat)
 * @param peerTimeout a leader silent this long is dropped and the follower reconnects
 * @param initialBackoff first delay before reconnecting; doubles per failure, with jitter
 * @param maxBackoff cap of the reconnect delay
 * @param secret the secret this follower proves it holds and requires the leader to prove, or null to follow a
 *     leader without a secret
 * @param tls the TLS context for connecting to the leader (mutual TLS 1.3, see {@link ReplicationTls}), or null
 *     for plain TCP
 * @param respAddress the address this node serves RESP clients on, told to the leader (null: none)
 * @param workerThreads threads that drive all of the client's shard sessions over non-blocking sockets (at least 1)
 */
public record ReplicationClientConfig(
        Duration connectTimeout,
        Duration heartbeatInterval,
        Duration peerTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        ReplicationSecret secret,
        SSLContext tls,
        InetSocketAddress respAddress,
        int workerThreads) {
    /** Default of {@link #workerThreads}: {@link #defaultWorkerThreads} of the available processors. */
    public static final int DEFAULT_WORKER_THREADS =
            defaultWorkerThreads(Runtime.getRuntime().availableProcessors());

    /**
     * The worker threads a follower runs by default on {@code cores} available processors: one per core but one,
     * at least one and at most two. The core left over serves the node's clients and its group commit. On two
     * cores, one worker took 14–18% less of the follower's CPU per streamed write than two, and its leader served
     * 8–12% more {@code SET}s (docs/benchmarks-server.md); beyond two, a follower's workers only wait for the
     * network.
     *
     * @param cores available processors, at least 1
     * @return worker threads, 1 or 2
     */
    public static int defaultWorkerThreads(int cores) {
        return Math.clamp(cores - 1L, 1, 2);
    }

    /** Checks the thread count. */
    public ReplicationClientConfig {
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads must be >= 1, got " + workerThreads);
        }
    }

    /** These settings with {@link #DEFAULT_WORKER_THREADS} worker threads. */
    public ReplicationClientConfig(
            Duration connectTimeout,
            Duration heartbeatInterval,
            Duration peerTimeout,
            Duration initialBackoff,
            Duration maxBackoff,
            ReplicationSecret secret,
            SSLContext tls,
            InetSocketAddress respAddress) {
        this(
                connectTimeout,
                heartbeatInterval,
                peerTimeout,
                initialBackoff,
                maxBackoff,
                secret,
                tls,
                respAddress,
                DEFAULT_WORKER_THREADS);
    }

    /**
     * 2 s connect, 250 ms heartbeats, 5 s timeout, backoff 50 ms doubling to 5 s, no secret, no TLS, no RESP, {@link
     * #DEFAULT_WORKER_THREADS} worker threads.
     */
    public static ReplicationClientConfig defaults() {
        return new ReplicationClientConfig(
                Duration.ofSeconds(2),
                Duration.ofMillis(250),
                Duration.ofSeconds(5),
                Duration.ofMillis(50),
                Duration.ofSeconds(5),
                null,
                null,
                null,
                DEFAULT_WORKER_THREADS);
    }

    /** The same settings with {@code n} worker threads. */
    public ReplicationClientConfig withWorkerThreads(int n) {
        return with(c -> c.workerThreads = n);
    }

    /** The same settings with other heartbeat and timeout. */
    public ReplicationClientConfig withTimeouts(Duration heartbeat, Duration timeout) {
        return with(c -> {
            c.heartbeatInterval = heartbeat;
            c.peerTimeout = timeout;
        });
    }

    /** The same settings connecting over TLS with {@code tls} (null: plain TCP). */
    public ReplicationClientConfig withTls(SSLContext tls) {
        return with(c -> c.tls = tls);
    }

    /** The same settings with {@code secret} (null: none). */
    public ReplicationClientConfig withSecret(ReplicationSecret secret) {
        return with(c -> c.secret = secret);
    }

    /** The same settings telling the leader this RESP address (null: none). */
    public ReplicationClientConfig withRespAddress(InetSocketAddress address) {
        return with(c -> c.respAddress = address);
    }

    /** A copy of these settings with the components {@code change} sets changed. */
    private ReplicationClientConfig with(Consumer<Components> change) {
        Components c = new Components(this);
        change.accept(c);
        return c.build();
    }

    /** The components of settings being copied; confined to one {@code with...} call. */
    private static final class Components {
        private Duration connectTimeout;
        private Duration heartbeatInterval;
        private Duration peerTimeout;
        private Duration initialBackoff;
        private Duration maxBackoff;
        private ReplicationSecret secret;
        private SSLContext tls;
        private InetSocketAddress respAddress;
        private int workerThreads;

        Components(ReplicationClientConfig from) {
            connectTimeout = from.connectTimeout;
            heartbeatInterval = from.heartbeatInterval;
            peerTimeout = from.peerTimeout;
            initialBackoff = from.initialBackoff;
            maxBackoff = from.maxBackoff;
            secret = from.secret;
            tls = from.tls;
            respAddress = from.respAddress;
            workerThreads = from.workerThreads;
        }

        ReplicationClientConfig build() {
            return new ReplicationClientConfig(
                    connectTimeout,
                    heartbeatInterval,
                    peerTimeout,
                    initialBackoff,
                    maxBackoff,
                    secret,
                    tls,
                    respAddress,
                    workerThreads);
        }
    }
}
