package dev.armdb.store;

/**
 * Layout of {@code db.meta}, the 128-byte identity card of a collection. Little-endian.
 *
 * <pre>
 *  0                               8               12              16
 *  +-------------------------------+---------------+---------------+
 *  |      magic "ARMDBMET"         | format version|     flags     |
 *  +-------------------------------+---------------+---------------+
 *  16                                                              32
 *  |                 database id (16 random bytes)                 |
 *  +---------------+---------------+---------------+---------------+
 *  32              36              40              44              48
 *  |  shard count  |   key size    |  value size   |   slot size   |
 *  +---------------+---------------+---------------+---------------+
 *  48              52              56                              64
 *  |    routing    |   reserved 0  |   created (epoch millis)      |
 *  +---------------+---------------+-------------------------------+
 *  64 .. 123: reserved, zero                       124             128
 *                                                  |    CRC32C     |
 *                                                  +---------------+
 * </pre>
 *
 * The CRC32C covers bytes 0..123. Stateless.
 */
public final class DbMetaLayout {
    /** File name inside the collection directory. */
    public static final String FILE_NAME = "db.meta";
    /** Total size of the file. */
    public static final int SIZE = 128;
    /** "ARMDBMET" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'M', 'E', 'T'};
    /** The format version this code writes and reads. */
    public static final int FORMAT_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int FORMAT_VERSION_OFFSET = 8;
    public static final int FLAGS_OFFSET = 12;
    public static final int DATABASE_ID_OFFSET = 16;
    public static final int DATABASE_ID_SIZE = 16;
    public static final int SHARD_COUNT_OFFSET = 32;
    public static final int KEY_SIZE_OFFSET = 36;
    public static final int VALUE_SIZE_OFFSET = 40;
    public static final int SLOT_SIZE_OFFSET = 44;
    public static final int ROUTING_OFFSET = 48;
    public static final int CREATED_MILLIS_OFFSET = 56;
    public static final int CRC_OFFSET = 124;

    private DbMetaLayout() {}
}
