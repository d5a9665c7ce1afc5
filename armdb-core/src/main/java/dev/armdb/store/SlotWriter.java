package dev.armdb.store;

import static dev.armdb.store.SlotLayout.*;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.zip.CRC32C;

/**
 * The writer's half of the slot seqlock: builds a slot image in a scratch buffer (state word, LSN, CRC32C) and
 * publishes it into the shard file so that lock-free readers and crash recovery never take a half-written slot for
 * a whole one: the version is made odd before any other byte changes, the image is copied, and the final, even state
 * word is stored last with release semantics. Each write protocol of a shard has its own instance, so neither
 * builds an image in the other's scratch buffer: user writes (copy-on-write images) and replica apply ({@link
 * ReplicaApplier}: images shipped as they are).
 *
 * <p>Threading: used by the shard's writer (under its write lock); the scratch buffer and checksum are its only
 * state. Readers pair with it through {@link SlotReader} ({@link SlotLayout#acquireStateWord}).
 */
final class SlotWriter {
    private final ShardFile file;
    private final int keySize;
    private final int valueSize;
    private final int valueOffset;
    private final int slotSize;
    private final byte[] scratch;
    private final MemorySegment scratchSeg;
    private final CRC32C crc = new CRC32C();
    private final ShardLog log;

    /** A writer into {@code file} that appends every image it stores to {@code log} (null: no redo log). */
    SlotWriter(ShardFile file, int keySize, int valueSize, int slotSize, ShardLog log) {
        this.file = file;
        this.log = log;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.valueOffset = SlotLayout.valueOffset(keySize);
        this.slotSize = slotSize;
        this.scratch = new byte[slotSize];
        this.scratchSeg = MemorySegment.ofArray(scratch);
    }

    /** Writes a new image ({@code status}, {@code lsn}, key, value) into {@code slot} and marks it dirty. */
    void write(int slot, int status, long lsn, byte[] key, byte[] value) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        int oldWord = seg.get(INT_LE, off);
        System.arraycopy(key, 0, scratch, KEY_OFFSET, keySize);
        System.arraycopy(value, 0, scratch, valueOffset, valueSize);
        for (int i = valueOffset + valueSize; i < slotSize; i++) {
            scratch[i] = 0;
        }
        finish(status, lsn, oldWord);
        publish(seg, off, oldWord);
        logged(slot, lsn, scratch, 0);
    }

    /** Rewrites {@code slot} with a new status and LSN, key and value kept, and marks it dirty. */
    void rewriteStatus(int slot, int status, long lsn) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        int oldWord = seg.get(INT_LE, off);
        MemorySegment.copy(seg, off, scratchSeg, 0, slotSize);
        finish(status, lsn, oldWord);
        publish(seg, off, oldWord);
        logged(slot, lsn, scratch, 0);
    }

    /** Publishes a finished image ({@link #slotSize} bytes at {@code offset}) into {@code slot} as it is. */
    void copy(int slot, byte[] image, int offset) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        int oldWord = seg.get(INT_LE, off);
        System.arraycopy(image, offset, scratch, 0, slotSize);
        publish(seg, off, oldWord);
        logged(slot, scratchSeg.get(LONG_LE_UNALIGNED, LSN_OFFSET), scratch, 0);
    }

    /**
     * Copies a finished image into {@code slot} without the seqlock's odd version (a bulk load, which no reader sees
     * until it ends), marks it dirty and logs it.
     */
    void store(int slot, byte[] image, int offset, long lsn) {
        MemorySegment.copy(
                image,
                offset,
                file.segment(slot),
                java.lang.foreign.ValueLayout.JAVA_BYTE,
                file.offset(slot),
                slotSize);
        file.stored();
        logged(slot, lsn, image, offset);
    }

    /**
     * Copies a finished image into {@code slot} during a first copy's bulk load and marks it dirty, without logging
     * it: a bulk-loaded shard is marked incomplete until {@link Shard#forceCopied} has forced the slot file, so the
     * log would only write the copy a second time.
     */
    void storeUnlogged(int slot, byte[] image, int offset) {
        MemorySegment.copy(
                image,
                offset,
                file.segment(slot),
                java.lang.foreign.ValueLayout.JAVA_BYTE,
                file.offset(slot),
                slotSize);
        file.stored();
        file.markDirty(slot);
    }

    /**
     * Marks {@code slot} dirty and appends its new image to the redo log: after the store, so a checkpoint whose
     * switch follows this record also finds the store in the slot file it forces.
     */
    private void logged(int slot, long lsn, byte[] image, int offset) {
        file.markDirty(slot);
        if (log != null) {
            log.append(slot, lsn, image, offset);
        }
    }

    /** True if the bytes of {@code slot} match their CRC. */
    boolean holdsValidImage(int slot) {
        MemorySegment.copy(file.segment(slot), file.offset(slot), scratchSeg, 0, slotSize);
        return SlotLayout.imageCrcMatches(crc, scratch, 0, slotSize);
    }

    private void finish(int status, long lsn, int oldWord) {
        int version = ((version(oldWord) | 1) + 1) & 0xFFFF;
        scratchSeg.set(INT_LE_UNALIGNED, STATE_OFFSET, stateWord(status, version));
        scratchSeg.set(LONG_LE_UNALIGNED, LSN_OFFSET, lsn);
        crc.reset();
        crc.update(scratch, 0, CRC_OFFSET);
        crc.update(scratch, LSN_OFFSET, slotSize - LSN_OFFSET);
        scratchSeg.set(INT_LE_UNALIGNED, CRC_OFFSET, (int) crc.getValue());
    }

    private void publish(MemorySegment seg, long off, int oldWord) {
        STATE_WORD.setOpaque(seg, off, stateWord(status(oldWord), version(oldWord) | 1));
        file.stored();
        // the odd version must reach memory before any byte of the new image (readers and crash recovery)
        VarHandle.storeStoreFence();
        MemorySegment.copy(scratchSeg, CRC_OFFSET, seg, off + CRC_OFFSET, slotSize - CRC_OFFSET);
        file.stored();
        // release: every byte of the image is visible before the even version that validates it
        STATE_WORD.setRelease(seg, off, scratchSeg.get(INT_LE_UNALIGNED, STATE_OFFSET));
        file.stored();
    }
}
