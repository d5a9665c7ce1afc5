package dev.armdb.replication.leader;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Settings of a {@link ReplicationServer}. Immutable.
 *
 * @param bind address and port to listen on (port 0 = ephemeral); loopback by default
 * @param heartbeatInterval how often an idle session sends a heartbeat
 * @param peerTimeout a follower silent this long is dropped
 * @param window slot batches a session may have unacknowledged
 * @param batchBytes most payload bytes of one slot batch
 */
public record ReplicationServerConfig(
        InetSocketAddress bind, Duration heartbeatInterval, Duration peerTimeout, int window, int batchBytes) {
    /** Loopback, ephemeral port, 250 ms heartbeats, 5 s timeout, 16 batches of 256 KiB in flight. */
    public static ReplicationServerConfig defaults() {
        return new ReplicationServerConfig(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMillis(250),
                Duration.ofSeconds(5),
                16,
                256 << 10);
    }

    /** The same settings listening on {@code address}. */
    public ReplicationServerConfig withBind(InetSocketAddress address) {
        return new ReplicationServerConfig(address, heartbeatInterval, peerTimeout, window, batchBytes);
    }

    /** The same settings with other timeouts. */
    public ReplicationServerConfig withTimeouts(Duration heartbeat, Duration timeout) {
        return new ReplicationServerConfig(bind, heartbeat, timeout, window, batchBytes);
    }

    /** The same settings with another window and batch size. */
    public ReplicationServerConfig withWindow(int batches, int bytesPerBatch) {
        return new ReplicationServerConfig(bind, heartbeatInterval, peerTimeout, batches, bytesPerBatch);
    }
}
