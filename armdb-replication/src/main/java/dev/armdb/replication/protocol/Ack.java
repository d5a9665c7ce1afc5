package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;

/**
 * Follower → leader: the LSN the follower has fully applied (and forced per its durability), and the sequence
 * number of the last slot batch it applied (drives the leader's send window). Also sent while idle, as the
 * follower's heartbeat.
 *
 * <pre>
 *  0                               8                               16
 *  +-------------------------------+-------------------------------+
 *  |          applied LSN          |        last batch seq         |
 *  +-------------------------------+-------------------------------+
 * </pre>
 *
 * Immutable.
 *
 * @param appliedLsn the follower's fully applied LSN
 * @param batchSeq sequence number of the last batch applied (0 = none)
 */
public record Ack(long appliedLsn, long batchSeq) {
    /** Payload length. */
    public static final int LENGTH = 16;

    /** Writes the payload at the buffer's position. */
    public void encode(ByteBuffer out) {
        out.putLong(appliedLsn).putLong(batchSeq);
    }

    /** Reads a payload; throws {@link ProtocolException} if the length is wrong. */
    public static Ack decode(ByteBuffer in) {
        Codec.expectLength(MessageType.ACK, in, LENGTH);
        return new Ack(in.getLong(), in.getLong());
    }
}
