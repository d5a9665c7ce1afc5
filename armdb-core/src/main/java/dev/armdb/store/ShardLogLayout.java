package dev.armdb.store;

/**
 * Layout of a shard's redo log files {@code shard-NNN.log.0} and {@code shard-NNN.log.1}: a 64-byte header at offset
 * 0, then fixed-size records back to back from offset {@value #RECORDS_OFFSET}. Little-endian.
 *
 * <pre>
 * header
 *  0                               8               12              16
 *  +-------------------------------+---------------+---------------+
 *  |      magic "ARMDBLOG"         | log version   |   shard id    |
 *  +-------------------------------+---------------+---------------+
 *  16                                                              32
 *  |                 database id (same as db.meta)                 |
 *  +-------------------------------+-------------------------------+
 *  32                              40                              48
 *  |          generation           |  previous generation (0: none)|
 *  +-------------------------------+---------------+---------------+
 *  48                              56              60              64
 *  |  previous end (byte offset)   |   slot size   |    CRC32C     |
 *  +-------------------------------+---------------+---------------+
 *
 * record (RECORD_HEADER_SIZE + slotSize bytes), record i at RECORDS_OFFSET + i * recordSize
 *  0                               8                              16
 *  +-------------------------------+-------------------------------+
 *  |          generation           |              LSN              |
 *  +---------------+---------------+-------------------------------+
 *  16              20              24
 *  |   slot id     |    CRC32C     | slot image (slotSize bytes, as in the slot file) ...
 *  +---------------+---------------+----------------------------------------------------
 * </pre>
 *
 * The header's CRC32C covers bytes 0..59; a record's covers its bytes 0..19 and its image. A record belongs to the
 * file only if its generation equals the header's and its CRC matches; the file's records are the longest run of
 * such records from {@value #RECORDS_OFFSET} (bytes after it are stale records of an older generation, zeros, or a
 * torn tail). A header is written only into a file none of whose records are still needed, and is never rewritten
 * while they are.
 *
 * <p>The staging file {@code shard-NNN.log.stage} holds the log's two buffers, memory-mapped, back to back: each a
 * whole number of records, in the record format above, from its first byte; no header. Records are appended there
 * before they are written to a log file, so a process crash keeps them in the page cache; replay applies those of
 * the active generation after the log files' (see {@link ShardLogReplay}). Stateless.
 */
public final class ShardLogLayout {
    /** Size of the header. */
    public static final int HEADER_SIZE = 64;
    /** Offset of the first record: the header has a 512-byte sector of its own. */
    public static final int RECORDS_OFFSET = 512;
    /** "ARMDBLOG" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'L', 'O', 'G'};
    /** Version of the log format. */
    public static final int LOG_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 8;
    public static final int SHARD_ID_OFFSET = 12;
    public static final int DATABASE_ID_OFFSET = 16;
    public static final int GENERATION_OFFSET = 32;
    public static final int PREVIOUS_GENERATION_OFFSET = 40;
    public static final int PREVIOUS_END_OFFSET = 48;
    public static final int SLOT_SIZE_OFFSET = 56;
    public static final int HEADER_CRC_OFFSET = 60;

    /** Bytes of a record before its slot image. */
    public static final int RECORD_HEADER_SIZE = 24;

    public static final int RECORD_GENERATION_OFFSET = 0;
    public static final int RECORD_LSN_OFFSET = 8;
    public static final int RECORD_SLOT_OFFSET = 16;
    public static final int RECORD_CRC_OFFSET = 20;
    public static final int RECORD_IMAGE_OFFSET = 24;

    private ShardLogLayout() {}

    /** File name of log file {@code which} (0 or 1) of a shard, e.g. {@code shard-007.log.1}. */
    public static String fileName(int shardId, int which) {
        return String.format("shard-%03d.log.%d", shardId, which);
    }

    /**
     * File name of a shard's staging file, e.g. {@code shard-007.log.stage}: the redo log's two buffers, each of
     * records back to back from its first byte, in the same format as the log files'.
     */
    public static String stagingFileName(int shardId) {
        return String.format("shard-%03d.log.stage", shardId);
    }

    /** Bytes of one record for slots of {@code slotSize} bytes. */
    public static int recordSize(int slotSize) {
        return RECORD_HEADER_SIZE + slotSize;
    }
}
