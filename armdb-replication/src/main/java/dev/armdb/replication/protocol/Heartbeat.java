package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;

/**
 * Leader → follower while idle: the shard's last LSN (so the follower can report lag) and the sender's clock.
 *
 * <pre>
 *  0                               8                               16
 *  +-------------------------------+-------------------------------+
 *  |          leader LSN           |     sender time (nanos)       |
 *  +-------------------------------+-------------------------------+
 * </pre>
 *
 * Immutable.
 *
 * @param leaderLsn the shard's last LSN on the leader
 * @param senderNanos the sender's {@code System.nanoTime()}
 */
public record Heartbeat(long leaderLsn, long senderNanos) {
    /** Payload length. */
    public static final int LENGTH = 16;

    /** Writes the payload at the buffer's position. */
    public void encode(ByteBuffer out) {
        out.putLong(leaderLsn).putLong(senderNanos);
    }

    /** Reads a payload; throws {@link ProtocolException} if the length is wrong. */
    public static Heartbeat decode(ByteBuffer in) {
        Codec.expectLength(MessageType.HEARTBEAT, in, LENGTH);
        return new Heartbeat(in.getLong(), in.getLong());
    }
}
