package dev.armdb.store;

import static dev.armdb.store.SlotLayout.KEY_OFFSET;
import static dev.armdb.store.SlotLayout.LONG_LE_UNALIGNED;

import dev.armdb.index.SlotKeys;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Key comparisons against the slots of a {@link ShardFile}. Stateless besides the file; safe for any thread,
 * but answers about a slot being rewritten may be stale (callers validate).
 */
public final class FileSlotKeys implements SlotKeys {
    private static final VarHandle LONG_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final ShardFile file;
    private final int keySize;

    /** Compares keys of {@code keySize} bytes stored in {@code file}'s slots. */
    public FileSlotKeys(ShardFile file, int keySize) {
        this.file = file;
        this.keySize = keySize;
    }

    @Override
    public boolean keyEquals(int slot, byte[] key) {
        return keyEqualsAt(file.segment(slot), file.offset(slot), key, keySize);
    }

    @Override
    public boolean keysEqual(int slotA, int slotB) {
        MemorySegment segA = file.segment(slotA);
        MemorySegment segB = file.segment(slotB);
        long a = file.offset(slotA) + KEY_OFFSET;
        long b = file.offset(slotB) + KEY_OFFSET;
        int i = 0;
        for (; i + 8 <= keySize; i += 8) {
            if (segA.get(LONG_LE_UNALIGNED, a + i) != segB.get(LONG_LE_UNALIGNED, b + i)) {
                return false;
            }
        }
        return i == keySize || MemorySegment.mismatch(segA, a + i, a + keySize, segB, b + i, b + keySize) < 0;
    }

    /** True if the key of the slot at {@code slotOffset} in {@code seg} equals {@code key}. Allocation-free. */
    static boolean keyEqualsAt(MemorySegment seg, long slotOffset, byte[] key, int keySize) {
        return keyEqualsAt(seg, slotOffset, key, 0, keySize);
    }

    /**
     * True if the key of the slot at {@code slotOffset} in {@code seg} equals the {@code keySize} bytes of {@code
     * keys} from {@code keyOffset}. Allocation-free.
     */
    static boolean keyEqualsAt(MemorySegment seg, long slotOffset, byte[] keys, int keyOffset, int keySize) {
        long base = slotOffset + KEY_OFFSET;
        int i = 0;
        for (; i + 8 <= keySize; i += 8) {
            if (seg.get(LONG_LE_UNALIGNED, base + i) != (long) LONG_LE_ARRAY.get(keys, keyOffset + i)) {
                return false;
            }
        }
        for (; i < keySize; i++) {
            if (seg.get(ValueLayout.JAVA_BYTE, base + i) != keys[keyOffset + i]) {
                return false;
            }
        }
        return true;
    }
}
