package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.Durability;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Layout of a member znode ({@code /groups/G/members/N}, ephemeral: it lives as long as the node's ZooKeeper
 * session). Little-endian; strings as in {@link GroupStateLayout}.
 *
 * <pre>
 *  0                               8               12              16                              24
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  |      magic "ARMDBMEM"         | format version|     flags     |             term              |
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  24                              32                                                              48
 *  |          epoch                |                    database id (16 bytes)                     |
 *  +-------------------------------+---------------------------------------------------------------+
 *  48              52              56              60              64
 *  |  durability   |  min in-sync  |  shard count n|  reserved 0   | n applied LSNs (u64 each)     |
 *  +---------------+---------------+---------------+---------------+-------------------------------+
 *  | node id | RESP host:port | replication host:port | followed node id | CRC32C (u32) of all before |
 *  +---------+----------------+-----------------------+------------------+----------------------------+
 * </pre>
 *
 * Flags: bit 0 replica, bit 1 unclean start, bit 2 streaming; other bits zero. Durability: 0 NONE, 1 GROUP, 2 SYNC.
 * Stateless.
 */
public final class MemberLayout {
    /** "ARMDBMEM" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'M', 'E', 'M'};
    /** Format version. */
    public static final int FORMAT_VERSION = 1;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the flags. */
    public static final int FLAGS_OFFSET = 12;
    /** Offset of the term. */
    public static final int TERM_OFFSET = 16;
    /** Offset of the epoch. */
    public static final int EPOCH_OFFSET = 24;
    /** Offset of the database id. */
    public static final int DATABASE_ID_OFFSET = 32;
    /** Offset of the durability code. */
    public static final int DURABILITY_OFFSET = 48;
    /** Offset of the minimum in-sync count. */
    public static final int MIN_INSYNC_OFFSET = 52;
    /** Offset of the shard count. */
    public static final int SHARD_COUNT_OFFSET = 56;
    /** Offset of the first applied LSN. */
    public static final int LSNS_OFFSET = 64;
    /** Flag: the node is a read-only replica. */
    public static final int FLAG_REPLICA = 1;
    /** Flag: this run began after an unclean stop. */
    public static final int FLAG_UNCLEAN_START = 2;
    /** Flag: every shard streams live from the followed leader. */
    public static final int FLAG_STREAMING = 4;
    /** Most shards a member reports. */
    public static final int MAX_SHARDS = 65_536;
    /** Longest address string, in bytes. */
    public static final int MAX_ADDRESS_BYTES = 300;

    private static final int KNOWN_FLAGS = FLAG_REPLICA | FLAG_UNCLEAN_START | FLAG_STREAMING;

    private MemberLayout() {}

    /** The znode's bytes for {@code m}. */
    public static byte[] encode(MemberInfo m) {
        int size = LSNS_OFFSET + 8 * m.shards() + 4 * (2 + NodeIds.MAX_LENGTH) + 2 * MAX_ADDRESS_BYTES + 4;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        int flags = (m.replica() ? FLAG_REPLICA : 0)
                | (m.uncleanStart() ? FLAG_UNCLEAN_START : 0)
                | (m.streaming() ? FLAG_STREAMING : 0);
        b.put(MAGIC).putInt(FORMAT_VERSION).putInt(flags).putLong(m.term()).putLong(m.epoch());
        b.put(m.databaseId()).putInt(durabilityCode(m.durability())).putInt(m.minInsync());
        b.putInt(m.shards()).putInt(0);
        for (long lsn : m.appliedLsns()) {
            b.putLong(lsn);
        }
        GroupStateLayout.putString(b, m.nodeId());
        putAddress(b, m.respAddress());
        putAddress(b, m.replicationAddress());
        GroupStateLayout.putString(b, m.following());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return Arrays.copyOf(b.array(), b.position());
    }

    /** The code of a durability mode in this layout (not its ordinal: adding a mode must not renumber these). */
    static int durabilityCode(Durability d) {
        return switch (d) {
            case NONE -> 0;
            case GROUP -> 1;
            case SYNC -> 2;
        };
    }

    private static Durability durability(int code) {
        return switch (code) {
            case 0 -> Durability.NONE;
            case 1 -> Durability.GROUP;
            default -> Durability.SYNC;
        };
    }

    private static void putAddress(ByteBuffer b, String address) {
        if (address.length() > MAX_ADDRESS_BYTES) {
            throw new IllegalArgumentException(
                    "an address holds at most " + MAX_ADDRESS_BYTES + " bytes, got " + address.length());
        }
        GroupStateLayout.putString(b, address);
    }

    /**
     * Decodes a znode's bytes.
     *
     * @throws ArmDbCorruptException if they are not a member of format {@value #FORMAT_VERSION}, fail their CRC or
     *     hold fields out of range
     */
    public static MemberInfo decode(byte[] bytes) {
        if (bytes.length < LSNS_OFFSET + 4 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ArmDbCorruptException("not an armdb member: expected magic ARMDBMEM and at least "
                    + (LSNS_OFFSET + 4) + " bytes, got " + bytes.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getInt(VERSION_OFFSET);
        if (version != FORMAT_VERSION) {
            throw new ArmDbCorruptException(
                    "member format " + version + " is not the one this node reads, " + FORMAT_VERSION);
        }
        GroupStateLayout.checkCrc(bytes, "member");
        int flags = b.getInt(FLAGS_OFFSET);
        int durability = b.getInt(DURABILITY_OFFSET);
        int shards = b.getInt(SHARD_COUNT_OFFSET);
        if ((flags & ~KNOWN_FLAGS) != 0 || durability < 0 || durability > 2 || shards < 1 || shards > MAX_SHARDS) {
            throw new ArmDbCorruptException("member fields out of range: flags " + Integer.toHexString(flags)
                    + " (known " + Integer.toHexString(KNOWN_FLAGS) + "), durability " + durability + ", shards "
                    + shards);
        }
        try {
            byte[] id = new byte[16];
            b.get(DATABASE_ID_OFFSET, id);
            b.position(LSNS_OFFSET).limit(bytes.length - 4);
            long[] lsns = new long[shards];
            for (int s = 0; s < shards; s++) {
                lsns[s] = b.getLong();
            }
            String nodeId = GroupStateLayout.getString(b);
            String resp = GroupStateLayout.getString(b);
            String repl = GroupStateLayout.getString(b);
            String following = GroupStateLayout.getString(b);
            if (b.hasRemaining()) {
                throw new ArmDbCorruptException(
                        "member has " + b.remaining() + " bytes after its last field, expected none");
            }
            return new MemberInfo(
                    nodeId,
                    resp,
                    repl,
                    id,
                    b.getLong(EPOCH_OFFSET),
                    b.getLong(TERM_OFFSET),
                    durability(durability),
                    b.getInt(MIN_INSYNC_OFFSET),
                    (flags & FLAG_REPLICA) != 0,
                    (flags & FLAG_UNCLEAN_START) != 0,
                    (flags & FLAG_STREAMING) != 0,
                    following,
                    lsns);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new ArmDbCorruptException("member fields out of range: " + e);
        }
    }
}
