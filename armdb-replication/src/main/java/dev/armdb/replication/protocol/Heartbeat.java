package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;

/**
 * Leader → follower while idle: the shard's last LSN (so the follower can report lag), the leader's term and the
 * sender's clock.
 *
 * <pre>
 *  0                               8                               16                              24
 *  +-------------------------------+-------------------------------+-------------------------------+
 *  |          leader LSN           |      leader term (u64)        |     sender time (nanos)       |
 *  +-------------------------------+-------------------------------+-------------------------------+
 * </pre>
 *
 * Immutable.
 *
 * @param leaderLsn the shard's last LSN on the leader
 * @param term the leader's term now (never negative); the follower refuses a lower one than it has seen
 * @param senderNanos the sender's {@code System.nanoTime()}
 */
public record Heartbeat(long leaderLsn, long term, long senderNanos) {
    /** Payload length. */
    public static final int LENGTH = 24;
    /** Offset of the leader LSN. */
    public static final int LEADER_LSN_OFFSET = 0;
    /** Offset of the leader term. */
    public static final int TERM_OFFSET = 8;
    /** Offset of the sender's clock. */
    public static final int SENDER_NANOS_OFFSET = 16;

    /** Writes the payload at the buffer's position. */
    public void encode(ByteBuffer out) {
        out.putLong(leaderLsn).putLong(term).putLong(senderNanos);
    }

    /** Reads a payload; throws {@link ProtocolException} if the length is wrong or the term negative. */
    public static Heartbeat decode(ByteBuffer in) {
        Codec.expectLength(MessageType.HEARTBEAT, in, LENGTH);
        return new Heartbeat(in.getLong(), Codec.term(MessageType.HEARTBEAT, in.getLong()), in.getLong());
    }
}
