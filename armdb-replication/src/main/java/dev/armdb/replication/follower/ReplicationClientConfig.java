package dev.armdb.replication.follower;

import dev.armdb.replication.ReplicationSecret;
import java.time.Duration;

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
 */
public record ReplicationClientConfig(
        Duration connectTimeout,
        Duration heartbeatInterval,
        Duration peerTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        ReplicationSecret secret) {
    /** 2 s connect, 250 ms heartbeats, 5 s timeout, backoff 50 ms doubling to 5 s, no secret. */
    public static ReplicationClientConfig defaults() {
        return new ReplicationClientConfig(
                Duration.ofSeconds(2),
                Duration.ofMillis(250),
                Duration.ofSeconds(5),
                Duration.ofMillis(50),
                Duration.ofSeconds(5),
                null);
    }

    /** The same settings with other heartbeat and timeout. */
    public ReplicationClientConfig withTimeouts(Duration heartbeat, Duration timeout) {
        return new ReplicationClientConfig(connectTimeout, heartbeat, timeout, initialBackoff, maxBackoff, secret);
    }

    /** The same settings with {@code secret} (null: none). */
    public ReplicationClientConfig withSecret(ReplicationSecret secret) {
        return new ReplicationClientConfig(
                connectTimeout, heartbeatInterval, peerTimeout, initialBackoff, maxBackoff, secret);
    }
}
