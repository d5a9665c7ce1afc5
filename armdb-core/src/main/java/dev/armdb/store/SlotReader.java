package dev.armdb.store;

import static dev.armdb.store.SlotLayout.*;

import dev.armdb.index.CurrentSlots;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The reader's half of the slot seqlock ({@link SlotWriter} is the writer's): copies a value or a whole image out of
 * a slot without a lock and says whether the copy is of one finished image. A copy counts only if the slot's state
 * word, read with acquire before the copy, has an even version and the state word and LSN read again after it (behind
 * a load-load fence) are unchanged; otherwise the caller retries, and after a bounded number of attempts reads under
 * the shard's writer lock. The attempts are here; the loops, the index lookups and the locked fallbacks stay with
 * the {@link Shard}, which owns the lock and the index.
 *
 * <p>Besides, plain reads of one slot's fields ({@link #statusAt}, {@link #lsnAt}, {@link #keyAt}, ...) for the two
 * write protocols, which hold the writer lock, so no slot changes under them.
 *
 * <p>Threading: no state besides the file and the sizes; the seqlock reads are for any thread and allocate nothing,
 * the plain reads for a thread holding the shard's writer lock.
 */
final class SlotReader {
    /** An attempt copied a finished image of the key. */
    static final int FOUND = 1;
    /** An attempt found the key's tombstone, unchanged while it was read: the key is absent. */
    static final int ABSENT = 0;
    /** An attempt saw the slot change, or another key in it: look the key up again. */
    static final int RETRY = -1;
    /** {@link #readImage} could not copy the slot unchanged within its attempts. */
    static final long UNSTABLE = Long.MIN_VALUE;

    private static final VarHandle INT_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int IMAGE_ATTEMPTS = 64 * 16;
    private static final int HINT_ATTEMPTS = 4;

    private final ShardFile file;
    private final int keySize;
    private final int valueSize;
    private final int valueOffset;
    private final int slotSize;

    /** A reader of {@code file}'s slots holding keys of {@code keySize} and values of {@code valueSize} bytes. */
    SlotReader(ShardFile file, int keySize, int valueSize, int slotSize) {
        this.file = file;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.valueOffset = SlotLayout.valueOffset(keySize);
        this.slotSize = slotSize;
    }

    /**
     * One attempt to copy the value of {@code key} out of {@code slot} (where the index pointed it) into {@code out}:
     * {@link #FOUND}, {@link #ABSENT} (the slot is the key's tombstone: a replica indexes tombstones) or {@link
     * #RETRY}. {@code out} may be overwritten whatever the answer. Lock-free, allocation-free.
     */
    int readValue(int slot, byte[] key, byte[] out) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        int w1 = acquireStateWord(seg, off);
        int st = status(w1);
        if (inProgress(w1) || (st != LIVE && st != DELETED)) {
            Thread.onSpinWait();
            return RETRY;
        }
        long lsn1 = seg.get(LONG_LE, off + LSN_OFFSET);
        if (!FileSlotKeys.keyEqualsAt(seg, off, key, keySize)) {
            return RETRY;
        }
        if (st == DELETED) {
            // the key is absent only if the tombstone held still while its key was compared
            VarHandle.loadLoadFence();
            return unchanged(seg, off, w1, lsn1) ? ABSENT : RETRY;
        }
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off + valueOffset, out, 0, valueSize);
        // the copy must complete before the re-check of the version
        VarHandle.loadLoadFence();
        return unchanged(seg, off, w1, lsn1) ? FOUND : RETRY;
    }

    /**
     * One attempt to tell whether {@code slot} holds {@code key}: {@link #FOUND} (live), {@link #ABSENT} (its
     * tombstone) or {@link #RETRY} (spun once already). Lock-free, allocation-free.
     */
    int probe(int slot, byte[] key) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        int w1 = acquireStateWord(seg, off);
        int st = status(w1);
        if (!inProgress(w1) && (st == LIVE || st == DELETED) && FileSlotKeys.keyEqualsAt(seg, off, key, keySize)) {
            // the key compare must complete before the re-check of the state word
            VarHandle.loadLoadFence();
            if (seg.get(INT_LE, off) == w1) {
                return st == LIVE ? FOUND : ABSENT;
            }
        }
        Thread.onSpinWait();
        return RETRY;
    }

    /**
     * Copies into {@code out} the value of the key at {@code keys[keyOffset ..]} if {@code slot} (below the
     * high-water mark) holds it live and {@code current} names {@code slot} both before and after the copy; false
     * otherwise, or if the slot would not hold still for a few attempts. Lock-free, allocation-free, never blocks.
     */
    boolean readIfIndexed(CurrentSlots current, int slot, byte[] keys, int keyOffset, byte[] out) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        for (int attempt = 0; attempt < HINT_ATTEMPTS; attempt++) {
            // the bit is read before the slot: a slot superseded before this call reads false here
            if (!current.holdsSlot(slot)) {
                return false;
            }
            int w1 = acquireStateWord(seg, off);
            if (inProgress(w1)) {
                Thread.onSpinWait();
                continue;
            }
            if (status(w1) != LIVE || !FileSlotKeys.keyEqualsAt(seg, off, keys, keyOffset, keySize)) {
                return false;
            }
            long lsn1 = seg.get(LONG_LE, off + LSN_OFFSET);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off + valueOffset, out, 0, valueSize);
            // the copy must complete before the re-check of the version
            VarHandle.loadLoadFence();
            if (unchanged(seg, off, w1, lsn1)) {
                // and the slot's re-check before the bit's: a slot freed and reused for a newer write of the key
                // before this read carries that write's image before the index points there (see Shard.get)
                VarHandle.loadLoadFence();
                return current.holdsSlot(slot);
            }
        }
        return false;
    }

    /**
     * Copies the whole image of {@code slot} into {@code out} at {@code offset} and returns what {@link
     * dev.armdb.changes.ShardView#readSlotImage} returns for it (its LSN; 0 if never written; -1 if torn or corrupt),
     * or {@link #UNSTABLE} if no attempt saw the slot hold still (then copy it under the lock with {@link
     * #copyImage}). Lock-free, allocation-free.
     */
    long readImage(int slot, byte[] out, int offset) {
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        for (int attempt = 0; attempt < IMAGE_ATTEMPTS; attempt++) {
            int w1 = acquireStateWord(seg, off);
            if (inProgress(w1)) {
                Thread.onSpinWait();
                continue;
            }
            long lsn1 = seg.get(LONG_LE, off + LSN_OFFSET);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, out, offset, slotSize);
            // the copy must complete before the re-check of the version
            VarHandle.loadLoadFence();
            if (unchanged(seg, off, w1, lsn1)) {
                return imageLsn(w1, lsn1, out, offset);
            }
        }
        return UNSTABLE;
    }

    /**
     * Loads the first and the last word of each of the first {@code count} slots in {@code slots} that lie inside
     * the file (a slot may span two cache lines) and returns their sum. Lock-free, allocation-free.
     */
    long touch(int[] slots, int count) {
        int capacity = file.capacity();
        long sink = 0;
        for (int i = 0; i < count; i++) {
            int slot = slots[i];
            if (slot >= 0 && slot < capacity) {
                MemorySegment seg = file.segment(slot);
                long off = file.offset(slot);
                sink += seg.get(INT_LE, off) + seg.get(INT_LE, off + slotSize - Integer.BYTES);
            }
        }
        return sink;
    }

    /** Copies the whole image of {@code slot} into {@code out} at {@code offset}. Writer lock held. */
    void copyImage(int slot, byte[] out, int offset) {
        MemorySegment.copy(file.segment(slot), ValueLayout.JAVA_BYTE, file.offset(slot), out, offset, slotSize);
    }

    /** What {@link #readImage} returns for an image {@link #copyImage copied} into {@code out} at {@code offset}. */
    long imageLsn(byte[] out, int offset) {
        return imageLsn(
                (int) INT_LE_ARRAY.get(out, offset + STATE_OFFSET),
                (long) LONG_LE_ARRAY.get(out, offset + LSN_OFFSET),
                out,
                offset);
    }

    private long imageLsn(int word, long lsn, byte[] out, int offset) {
        if (word == 0 && lsn == 0) {
            return 0;
        }
        return !inProgress(word) && SlotLayout.imageCrcMatches(out, offset, slotSize) ? lsn : -1;
    }

    private static boolean unchanged(MemorySegment seg, long off, int w1, long lsn1) {
        return seg.get(INT_LE, off) == w1 && seg.get(LONG_LE, off + LSN_OFFSET) == lsn1;
    }

    /** The state word of {@code slot}, read plainly (a prefetch for scans, or a writer's read under the lock). */
    int stateWordAt(int slot) {
        return file.segment(slot).get(INT_LE, file.offset(slot));
    }

    /** The status of {@code slot}. Writer lock held. */
    int statusAt(int slot) {
        return status(stateWordAt(slot));
    }

    /** The LSN of {@code slot}. Writer lock held. */
    long lsnAt(int slot) {
        return file.segment(slot).get(LONG_LE, file.offset(slot) + LSN_OFFSET);
    }

    /** A fresh copy of the key in {@code slot}. Writer lock held. */
    byte[] keyAt(int slot) {
        byte[] key = new byte[keySize];
        MemorySegment.copy(file.segment(slot), ValueLayout.JAVA_BYTE, file.offset(slot) + KEY_OFFSET, key, 0, keySize);
        return key;
    }

    /** Copies the value in {@code slot} into {@code out}. Writer lock held. */
    void copyValue(int slot, byte[] out) {
        copyValue(slot, out, 0);
    }

    /** Copies the value in {@code slot} into {@code out} at {@code offset}. Writer lock held. */
    void copyValue(int slot, byte[] out, int offset) {
        MemorySegment.copy(
                file.segment(slot), ValueLayout.JAVA_BYTE, file.offset(slot) + valueOffset, out, offset, valueSize);
    }

    /** True if the value in {@code slot} equals {@code expected}. Writer lock held; allocation-free. */
    boolean valueEquals(int slot, byte[] expected) {
        MemorySegment seg = file.segment(slot);
        long base = file.offset(slot) + valueOffset;
        for (int i = 0; i < valueSize; i++) {
            if (seg.get(ValueLayout.JAVA_BYTE, base + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }
}
