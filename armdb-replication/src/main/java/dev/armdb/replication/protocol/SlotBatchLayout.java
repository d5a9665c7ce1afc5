package dev.armdb.replication.protocol;

/**
 * Payload of a SLOT_BATCH frame: slot images, written straight from the leader's shard and validated whole
 * (count, slot ids, every image's CRC) before the follower applies any of them.
 *
 * <pre>
 *  0                               8                               16              20
 *  +-------------------------------+-------------------------------+---------------+
 *  |        batch sequence         |           up-to LSN           |     count     |
 *  +-------------------------------+-------------------------------+---------------+
 *  20: count entries, each:
 *  +---------------+-----------------------------------------------+
 *  |   slot id     |  slot image (slotSize bytes: header+key+value) |
 *  +---------------+-----------------------------------------------+
 * </pre>
 *
 * The batch sequence numbers a session's batches from 1. The up-to LSN is the LSN the follower may record once
 * it applied this batch: every change up to it is reflected in this or an earlier batch (during a scan it does
 * not move; {@link CaughtUp} moves it). Stateless.
 */
public final class SlotBatchLayout {
    /** Offset of the batch sequence number. */
    public static final int SEQ_OFFSET = 0;
    /** Offset of the up-to LSN. */
    public static final int UP_TO_LSN_OFFSET = 8;
    /** Offset of the entry count. */
    public static final int COUNT_OFFSET = 16;
    /** Size of the batch header; entries start here. */
    public static final int HEADER_SIZE = 20;
    /** Bytes before each image: the slot id. */
    public static final int ENTRY_HEADER_SIZE = 4;

    private SlotBatchLayout() {}

    /** Bytes of one entry. */
    public static int entrySize(int slotSize) {
        return ENTRY_HEADER_SIZE + slotSize;
    }

    /** Largest number of entries a batch of at most {@code maxBytes} payload holds (at least 1). */
    public static int maxEntries(int slotSize, int maxBytes) {
        return Math.max(1, (maxBytes - HEADER_SIZE) / entrySize(slotSize));
    }
}
