package dev.armdb.replication.leader;

import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.ReplicationTls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * Settings of a {@link ReplicationServer}. Immutable.
 *
 * @param bind address and port to listen on (port 0 = ephemeral); loopback by default
 * @param heartbeatInterval how often an idle session sends a heartbeat
 * @param peerTimeout a follower silent this long is dropped
 * @param window slot batches a session may have unacknowledged
 * @param batchBytes most payload bytes of one slot batch
 * @param secret the secret followers must prove they hold (and the leader proves to them), or null to serve
 *     anyone who can connect
 * @param tls the TLS context of the replication port (mutual TLS 1.3, see {@link ReplicationTls}), or null for
 *     plain TCP
 */
public record ReplicationServerConfig(
        InetSocketAddress bind,
        Duration heartbeatInterval,
        Duration peerTimeout,
        int window,
        int batchBytes,
        ReplicationSecret secret,
        SSLContext tls) {
    /**
     * Loopback, ephemeral port, 250 ms heartbeats, 5 s timeout, 16 batches of 256 KiB in flight, no secret, no TLS.
     */
    public static ReplicationServerConfig defaults() {
        return new ReplicationServerConfig(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMillis(250),
                Duration.ofSeconds(5),
                16,
                256 << 10,
                null,
                null);
    }

    /** The same settings listening on {@code address}. */
    public ReplicationServerConfig withBind(InetSocketAddress address) {
        return new ReplicationServerConfig(address, heartbeatInterval, peerTimeout, window, batchBytes, secret, tls);
    }

    /** The same settings with other timeouts. */
    public ReplicationServerConfig withTimeouts(Duration heartbeat, Duration timeout) {
        return new ReplicationServerConfig(bind, heartbeat, timeout, window, batchBytes, secret, tls);
    }

    /** The same settings with another window and batch size. */
    public ReplicationServerConfig withWindow(int batches, int bytesPerBatch) {
        return new ReplicationServerConfig(bind, heartbeatInterval, peerTimeout, batches, bytesPerBatch, secret, tls);
    }

    /** The same settings serving over TLS with {@code tls} (null: plain TCP). */
    public ReplicationServerConfig withTls(SSLContext tls) {
        return new ReplicationServerConfig(bind, heartbeatInterval, peerTimeout, window, batchBytes, secret, tls);
    }

    /** The same settings requiring {@code secret} of every follower (null: none). */
    public ReplicationServerConfig withSecret(ReplicationSecret secret) {
        return new ReplicationServerConfig(bind, heartbeatInterval, peerTimeout, window, batchBytes, secret, tls);
    }
}
