package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Layout of a group's switchover znode ({@code /groups/G/switchover}, persistent while a planned switchover runs).
 * Little-endian; strings as in {@link GroupStateLayout}.
 *
 * <pre>
 *  0                               8               12              16                              24
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  |      magic "ARMDBSWO"         | format version|     phase     |           from term           |
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  24                              32                              40              44              48
 *  |            to term            |     deadline (epoch millis)   | shard count n |  reserved 0   |
 *  +-------------------------------+-------------------------------+---------------+---------------+
 *  | n stopped LSNs (u64 each) | from (string) | target (string) | CRC32C (u32) of every byte before it |
 *  +---------------------------+---------------+-----------------+--------------------------------------+
 * </pre>
 *
 * Phase: 1 requested, 2 stopped, 3 done. The shard count is 0 until the leader stopped. Stateless.
 */
public final class SwitchoverLayout {
    /** "ARMDBSWO" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'S', 'W', 'O'};
    /** Format version. */
    public static final int FORMAT_VERSION = 1;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the phase. */
    public static final int PHASE_OFFSET = 12;
    /** Offset of the term the leader hands over from. */
    public static final int FROM_TERM_OFFSET = 16;
    /** Offset of the term the target leads in once done. */
    public static final int TO_TERM_OFFSET = 24;
    /** Offset of the deadline. */
    public static final int DEADLINE_OFFSET = 32;
    /** Offset of the shard count. */
    public static final int SHARD_COUNT_OFFSET = 40;
    /** Offset of the first stopped LSN. */
    public static final int LSNS_OFFSET = 48;

    private SwitchoverLayout() {}

    /** The znode's bytes for {@code r}. */
    public static byte[] encode(SwitchoverRequest r) {
        long[] lsns = r.stoppedLsns();
        ByteBuffer b = ByteBuffer.allocate(LSNS_OFFSET + 8 * lsns.length + 2 * (2 + NodeIds.MAX_LENGTH) + 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC)
                .putInt(FORMAT_VERSION)
                .putInt(r.phase().code)
                .putLong(r.fromTerm())
                .putLong(r.toTerm())
                .putLong(r.deadlineMillis())
                .putInt(lsns.length)
                .putInt(0);
        for (long lsn : lsns) {
            b.putLong(lsn);
        }
        GroupStateLayout.putString(b, r.from());
        GroupStateLayout.putString(b, r.target());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return Arrays.copyOf(b.array(), b.position());
    }

    /**
     * Decodes a znode's bytes.
     *
     * @throws ArmDbCorruptException if they are not a switchover of format {@value #FORMAT_VERSION}, fail their CRC,
     *     or hold fields out of range
     */
    public static SwitchoverRequest decode(byte[] bytes) {
        if (bytes.length < LSNS_OFFSET + 4 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ArmDbCorruptException("not an armdb switchover: expected magic ARMDBSWO and at least "
                    + (LSNS_OFFSET + 4) + " bytes, got " + bytes.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getInt(VERSION_OFFSET);
        if (version != FORMAT_VERSION) {
            throw new ArmDbCorruptException(
                    "switchover format " + version + " is not the one this node reads, " + FORMAT_VERSION);
        }
        GroupStateLayout.checkCrc(bytes, "switchover");
        int shards = b.getInt(SHARD_COUNT_OFFSET);
        if (shards < 0 || shards > MemberLayout.MAX_SHARDS || b.getInt(SHARD_COUNT_OFFSET + 4) != 0) {
            throw new ArmDbCorruptException("switchover fields out of range: shards " + shards + ", reserved "
                    + b.getInt(SHARD_COUNT_OFFSET + 4));
        }
        try {
            b.position(LSNS_OFFSET).limit(bytes.length - 4);
            long[] lsns = new long[shards];
            for (int s = 0; s < shards; s++) {
                lsns[s] = b.getLong();
            }
            String from = GroupStateLayout.getString(b);
            String target = GroupStateLayout.getString(b);
            if (b.hasRemaining()) {
                throw new ArmDbCorruptException(
                        "switchover has " + b.remaining() + " bytes after its last field, expected none");
            }
            return new SwitchoverRequest(
                    SwitchoverRequest.Phase.of(b.getInt(PHASE_OFFSET)),
                    from,
                    target,
                    b.getLong(FROM_TERM_OFFSET),
                    b.getLong(TO_TERM_OFFSET),
                    b.getLong(DEADLINE_OFFSET),
                    lsns);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new ArmDbCorruptException("switchover fields out of range: " + e);
        }
    }
}
