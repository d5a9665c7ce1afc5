package dev.armdb.replication.follower;

/**
 * Layout of {@code replica.state}, the follower's record of what it has applied from which leader. Little-endian;
 * updated in place through a memory mapping (8-byte aligned stores never tear).
 *
 * <pre>
 *  0                               8               12              16                              32
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  |      magic "ARMDBRPL"         | format version|  shard count  |          reserved 0           |
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  32 + 32 × shard:
 *  +---------------------------------------------------------------+-------------------------------+---------------+
 *  |          leader database id (16 bytes; zero = none)           |       applied LSN             | leader epoch  |
 *  +---------------------------------------------------------------+-------------------------------+---------------+
 * </pre>
 *
 * Stateless.
 */
public final class ReplicaStateLayout {
    /** File name in the follower's collection directory. */
    public static final String FILE_NAME = "replica.state";
    /** "ARMDBRPL" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'R', 'P', 'L'};
    /** Format version. */
    public static final int FORMAT_VERSION = 1;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the shard count. */
    public static final int SHARD_COUNT_OFFSET = 12;
    /** Size of the header. */
    public static final int HEADER_SIZE = 32;
    /** Size of one shard's entry. */
    public static final int ENTRY_SIZE = 32;
    /** Offset of the leader database id within an entry. */
    public static final int DATABASE_ID_OFFSET = 0;
    /** Offset of the applied LSN within an entry. */
    public static final int APPLIED_LSN_OFFSET = 16;
    /** Offset of the leader epoch the LSN was applied under (0 = unknown, as in files written before it). */
    public static final int LEADER_EPOCH_OFFSET = 24;

    private ReplicaStateLayout() {}

    /** Offset of shard {@code s}'s entry. */
    public static long entryOffset(int s) {
        return HEADER_SIZE + (long) s * ENTRY_SIZE;
    }

    /** File size for {@code shards} shards. */
    public static long fileSize(int shards) {
        return HEADER_SIZE + (long) shards * ENTRY_SIZE;
    }
}
