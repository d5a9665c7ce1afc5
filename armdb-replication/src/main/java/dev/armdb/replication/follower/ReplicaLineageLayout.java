package dev.armdb.replication.follower;

/**
 * Layout of {@code replica.lineage}, written when a follower is promoted: which leader history each shard held at
 * that moment, so that the other followers of that leader can resume from the promoted node instead of copying
 * everything. Little-endian; written whole (temporary file, force, atomic rename).
 *
 * <pre>
 *  0                               8               12              16                              24
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  |      magic "ARMDBLIN"         | format version|  shard count  |   epoch of the promoting open |
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  24              28              32
 *  |  reserved 0   | CRC32C        |   CRC32C of the whole file, computed with this field zero
 *  +---------------+---------------+
 *  32 + 32 × shard:
 *  +---------------------------------------------------------------+-------------------------------+---------------+
 *  |            old leader's database id (16 bytes)                |  applied LSN  | leader epoch  |
 *  +---------------------------------------------------------------+-------------------------------+---------------+
 * </pre>
 *
 * Stateless.
 */
public final class ReplicaLineageLayout {
    /** File name in the promoted node's collection directory. */
    public static final String FILE_NAME = "replica.lineage";
    /** "ARMDBLIN" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'L', 'I', 'N'};
    /** Format version. */
    public static final int FORMAT_VERSION = 1;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the shard count. */
    public static final int SHARD_COUNT_OFFSET = 12;
    /** Offset of the epoch of the open that promoted. */
    public static final int PROMOTION_EPOCH_OFFSET = 16;
    /** Offset of the CRC32C. */
    public static final int CRC_OFFSET = 28;
    /** Size of the header. */
    public static final int HEADER_SIZE = 32;
    /** Size of one shard's entry. */
    public static final int ENTRY_SIZE = 32;
    /** Offset of the old leader's database id within an entry. */
    public static final int DATABASE_ID_OFFSET = 0;
    /** Offset of the applied LSN within an entry. */
    public static final int APPLIED_LSN_OFFSET = 16;
    /** Offset of the old leader's epoch within an entry. */
    public static final int LEADER_EPOCH_OFFSET = 24;

    private ReplicaLineageLayout() {}

    /** Offset of shard {@code s}'s entry. */
    public static int entryOffset(int s) {
        return HEADER_SIZE + s * ENTRY_SIZE;
    }

    /** File size for {@code shards} shards. */
    public static int fileSize(int shards) {
        return HEADER_SIZE + shards * ENTRY_SIZE;
    }
}
