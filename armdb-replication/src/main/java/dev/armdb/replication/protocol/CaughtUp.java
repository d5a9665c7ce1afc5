package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;

/**
 * Leader → follower: every change up to {@code lsn} is now reflected in what was sent; the follower may record
 * and acknowledge {@code lsn} once it has applied (and, per its durability, forced) every batch before this frame.
 *
 * <pre>
 *  0                               8                               16                              24
 *  +-------------------------------+-------------------------------+-------------------------------+
 *  |         slots scanned         |          slots sent           |              LSN              |
 *  +-------------------------------+-------------------------------+-------------------------------+
 * </pre>
 *
 * Immutable.
 *
 * @param slotsScanned slots the scan read (0 for a backlog catch-up)
 * @param slotsSent slot images the catch-up sent
 * @param lsn the LSN the follower is caught up to
 */
public record CaughtUp(long slotsScanned, long slotsSent, long lsn) {
    /** Payload length. */
    public static final int LENGTH = 24;

    /** Writes the payload at the buffer's position. */
    public void encode(ByteBuffer out) {
        out.putLong(slotsScanned).putLong(slotsSent).putLong(lsn);
    }

    /** Reads a payload; throws {@link ProtocolException} if the length is wrong. */
    public static CaughtUp decode(ByteBuffer in) {
        Codec.expectLength(MessageType.CAUGHT_UP, in, LENGTH);
        return new CaughtUp(in.getLong(), in.getLong(), in.getLong());
    }
}
