package dev.armdb.store;

/**
 * Layout of a shard file {@code shard-NNN.slots}: a 64-byte header, then slots back to back from offset 64.
 * Little-endian.
 *
 * <pre>
 *  0                               8               12              16
 *  +-------------------------------+---------------+---------------+
 *  |      magic "ARMDBSHD"         | format version|   shard id    |
 *  +-------------------------------+---------------+---------------+
 *  16                                                              32
 *  |                 database id (same as db.meta)                 |
 *  +---------------+---------------+---------------+---------------+
 *  32              36              40              44 .. 59        60
 *  |   slot size   |   key size    |  value size   |  reserved 0   | CRC32C |
 *  +---------------+---------------+---------------+---------------+--------+
 *  64: slot 0, 64 + slotSize: slot 1, ...
 * </pre>
 *
 * The CRC32C covers bytes 0..59. The file length is always 64 plus a whole number of slots; slots past the
 * last one written are zero (the file grows zero-filled, never sparse). Stateless.
 */
public final class ShardFileLayout {
    /** Size of the header; slot 0 starts here. */
    public static final int HEADER_SIZE = 64;
    /** "ARMDBSHD" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'S', 'H', 'D'};

    public static final int MAGIC_OFFSET = 0;
    public static final int FORMAT_VERSION_OFFSET = 8;
    public static final int SHARD_ID_OFFSET = 12;
    public static final int DATABASE_ID_OFFSET = 16;
    public static final int SLOT_SIZE_OFFSET = 32;
    public static final int KEY_SIZE_OFFSET = 36;
    public static final int VALUE_SIZE_OFFSET = 40;
    public static final int CRC_OFFSET = 60;

    private ShardFileLayout() {}

    /** File name of a shard inside the collection directory, e.g. {@code shard-007.slots}. */
    public static String fileName(int shardId) {
        return String.format("shard-%03d.slots", shardId);
    }

    /** Byte offset of a slot in the file. */
    public static long slotOffset(long slot, int slotSize) {
        return HEADER_SIZE + slot * slotSize;
    }
}
