package dev.armdb.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * On-disk layout of one slot. Offsets in bytes from the slot's start; every number little-endian.
 *
 * <pre>
 *  0       1       2               4               8                              16
 *  +-------+-------+---------------+---------------+-------------------------------+
 *  | status|  0    |    version    |    CRC32C     |              LSN              |
 *  +-------+-------+---------------+---------------+-------------------------------+
 *  | key (keySize bytes) | value (valueSize bytes) | zero padding to a multiple of 8 |
 *  +---------------------+-------------------------+---------------------------------+
 * </pre>
 *
 * <p>Bytes 0..3 form the <em>state word</em> ({@code status | version << 16}); a writer makes the version odd
 * before it touches the rest of the slot and stores the final, even, state word last with release semantics, so
 * readers detect a slot in change and a crash mid-write leaves an odd version ("incomplete"), not a silent mix.
 * The CRC32C covers bytes 0..3 and 8..end, i.e. everything but itself. A slot of all zero bytes is {@link
 * #EMPTY}: never written.
 *
 * <p>Stateless; safe for any thread.
 */
public final class SlotLayout {
    /** Offset of the 32-bit state word (status in bits 0..7, version in bits 16..31). */
    public static final int STATE_OFFSET = 0;
    /** Offset of the CRC32C of the slot, computed with this field excluded. */
    public static final int CRC_OFFSET = 4;
    /** Offset of the 64-bit LSN of the mutation that last wrote this slot. */
    public static final int LSN_OFFSET = 8;
    /** Size of the header; the key starts here. */
    public static final int HEADER_SIZE = 16;
    /** Offset of the key. */
    public static final int KEY_OFFSET = HEADER_SIZE;

    /** Never written: every byte zero. */
    public static final int EMPTY = 0;
    /** Holds the current value of its key. */
    public static final int LIVE = 1;
    /** Tombstone: its key was deleted at its LSN. */
    public static final int DELETED = 2;
    /** Released after a newer slot superseded it; key and value are stale. */
    public static final int FREE = 3;

    /** Little-endian int, aligned (state words are 8-aligned in every mapping). */
    public static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Little-endian long, aligned. */
    public static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Little-endian long at any offset (keys and values have no alignment). */
    public static final ValueLayout.OfLong LONG_LE_UNALIGNED =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Little-endian int at any offset. */
    public static final ValueLayout.OfInt INT_LE_UNALIGNED =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Atomic access to a state word: coordinates (MemorySegment, long offset). */
    public static final VarHandle STATE_WORD = INT_LE.varHandle();

    private SlotLayout() {}

    /** Bytes of one slot for the given key and value sizes: header + key + value rounded up to 8. */
    public static int slotSize(int keySize, int valueSize) {
        return (HEADER_SIZE + keySize + valueSize + 7) & ~7;
    }

    /** Offset of the value for the given key size. */
    public static int valueOffset(int keySize) {
        return KEY_OFFSET + keySize;
    }

    /** The state word for a status and version. */
    public static int stateWord(int status, int version) {
        return (status & 0xFF) | (version << 16);
    }

    /** The status in a state word. */
    public static int status(int stateWord) {
        return stateWord & 0xFF;
    }

    /** The 16-bit version in a state word. */
    public static int version(int stateWord) {
        return stateWord >>> 16;
    }

    /** True if the state word marks a slot being written (odd version). */
    public static boolean inProgress(int stateWord) {
        return (stateWord & 0x1_0000) != 0;
    }

    /** Reads the state word with acquire semantics: pairs with the writer's release store of it. */
    public static int acquireStateWord(MemorySegment seg, long slotOffset) {
        return (int) STATE_WORD.getAcquire(seg, slotOffset + STATE_OFFSET);
    }

    private static final ThreadLocal<java.util.zip.CRC32C> CRC = ThreadLocal.withInitial(java.util.zip.CRC32C::new);

    /** True if the slot image of {@code slotSize} bytes at {@code offset} matches its CRC. Allocation-free. */
    public static boolean imageCrcMatches(byte[] image, int offset, int slotSize) {
        return imageCrcMatches(CRC.get(), image, offset, slotSize);
    }

    /** As {@link #imageCrcMatches(byte[], int, int)} with the caller's own checksum object (one per thread). */
    public static boolean imageCrcMatches(java.util.zip.CRC32C c, byte[] image, int offset, int slotSize) {
        c.reset();
        c.update(image, offset, CRC_OFFSET);
        c.update(image, offset + LSN_OFFSET, slotSize - LSN_OFFSET);
        int stored = (image[offset + CRC_OFFSET] & 0xFF)
                | (image[offset + CRC_OFFSET + 1] & 0xFF) << 8
                | (image[offset + CRC_OFFSET + 2] & 0xFF) << 16
                | (image[offset + CRC_OFFSET + 3] & 0xFF) << 24;
        return (int) c.getValue() == stored;
    }

    /** A readable name of a status, for reports and messages. */
    public static String statusName(int status) {
        return switch (status) {
            case EMPTY -> "EMPTY";
            case LIVE -> "LIVE";
            case DELETED -> "DELETED";
            case FREE -> "FREE";
            default -> "UNKNOWN(" + status + ")";
        };
    }
}
