package dev.armdb.store;

import static dev.armdb.store.SlotLayout.*;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Classifies slots of a mapped shard file by reading them whole and checking their CRC. Used by recovery and by
 * the {@code Verifier}. One instance per thread; allocation-free per slot.
 */
final class SlotScanner {
    /** Never written. */
    static final int S_EMPTY = 0;
    /** Holds a key's value (maybe superseded by a newer slot of the same key). */
    static final int S_LIVE = 1;
    /** A tombstone. */
    static final int S_DELETED = 2;
    /** Released. */
    static final int S_FREE = 3;
    /** A write was interrupted (odd version): never acknowledged, safe to reuse. */
    static final int S_INCOMPLETE = 4;
    /** Bytes do not match the CRC, or the header is impossible. */
    static final int S_CORRUPT = 5;

    private final ShardFile file;
    private final int slotSize;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer[] views = new ByteBuffer[0];

    SlotScanner(ShardFile file, int slotSize) {
        this.file = file;
        this.slotSize = slotSize;
    }

    int classify(int slot) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        int word = seg.get(INT_LE, off + STATE_OFFSET);
        int storedCrc = seg.get(INT_LE, off + CRC_OFFSET);
        long lsn = seg.get(LONG_LE, off + LSN_OFFSET);
        if (word == 0 && storedCrc == 0 && lsn == 0) {
            return allZero(seg, off) ? S_EMPTY : S_CORRUPT;
        }
        if (inProgress(word)) {
            return S_INCOMPLETE;
        }
        if (crcOf(slot, off) != storedCrc) {
            return S_CORRUPT;
        }
        return switch (status(word)) {
            case LIVE -> S_LIVE;
            case DELETED -> S_DELETED;
            case FREE -> S_FREE;
            default -> S_CORRUPT;
        };
    }

    /** The status of a slot already classified (its state word, without checks). */
    int statusOf(int slot) {
        return SlotLayout.status(file.segment(slot).get(INT_LE, file.offset(slot) + STATE_OFFSET));
    }

    long lsn(int slot) {
        return file.segment(slot).get(LONG_LE, file.offset(slot) + LSN_OFFSET);
    }

    private boolean allZero(MemorySegment seg, long off) {
        for (int i = HEADER_SIZE; i < slotSize; i += 8) {
            if (seg.get(LONG_LE, off + i) != 0) {
                return false;
            }
        }
        return true;
    }

    private int crcOf(int slot, long off) {
        ByteBuffer bb = view(slot);
        int o = (int) off;
        crc.reset();
        bb.clear().position(o).limit(o + CRC_OFFSET);
        crc.update(bb);
        bb.clear().position(o + LSN_OFFSET).limit(o + slotSize);
        crc.update(bb);
        return (int) crc.getValue();
    }

    private ByteBuffer view(int slot) {
        int c = slot / file.slotsPerChunk();
        if (c >= views.length) {
            MemorySegment[] chunks = file.chunks();
            ByteBuffer[] v = new ByteBuffer[chunks.length];
            System.arraycopy(views, 0, v, 0, views.length);
            for (int i = views.length; i < chunks.length; i++) {
                v[i] = chunks[i].asByteBuffer();
            }
            views = v;
        }
        return views[c];
    }
}
