package dev.armdb.concurrency;

import dev.armdb.index.HashIndex;
import dev.armdb.index.SlotKeys;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A shard's use of a {@link HashIndex} over an array of slots, for {@link HashIndexLincheckTest}. One writer calls
 * {@link #put}, {@link #remove} and {@link #grow}; {@link #find} from any thread.
 */
final class IndexedSlots implements SlotKeys {
    // per slot: the key when live, minus the key once freed (a freed slot keeps its bytes), 0 never used
    private final AtomicIntegerArray slotKey = new AtomicIntegerArray(HashIndexLincheckTest.SLOTS);
    private final HashIndexLincheckTest.Allocator allocator = new HashIndexLincheckTest.Allocator();
    // key -> slot, -1 when absent: plain array, writer only
    private final int[] current = HashIndexLincheckTest.absentKeys();
    private final HashIndex index = new HashIndex(this);

    IndexedSlots() {
        for (int k = 100; k < 100 + HashIndexLincheckTest.BACKGROUND_KEYS; k++) {
            put(k);
        }
    }

    int put(int key) {
        int slot = allocator.allocate();
        slotKey.set(slot, key);
        int old = current[key];
        current[key] = slot;
        if (old < 0) {
            index.insert(HashIndexLincheckTest.hash(key), slot);
        } else {
            index.replace(HashIndexLincheckTest.hash(key), old, slot);
            free(old);
        }
        return slot;
    }

    boolean remove(int key) {
        int old = current[key];
        if (old < 0) {
            return false;
        }
        current[key] = -1;
        index.remove(HashIndexLincheckTest.hash(key), old);
        free(old);
        return true;
    }

    private void free(int slot) {
        slotKey.set(slot, -slotKey.get(slot));
        allocator.release(slot);
    }

    void grow() {
        int capacity = (int) ((index.memoryBytes() - 16) / 8);
        // bounded so a scenario's tables stay small enough for the model checker to walk every interleaving
        if (capacity < HashIndexLincheckTest.MAX_GROWN_CAPACITY) {
            index.reserve(capacity);
        }
    }

    int find(int key) {
        byte[] k = HashIndexLincheckTest.bytes(key);
        for (int attempt = 0; attempt < HashIndexLincheckTest.READ_ATTEMPTS; attempt++) {
            int slot = index.find(HashIndexLincheckTest.hash(key), k);
            if (slot < 0 || slotKey.get(slot) == key) {
                return slot;
            }
        }
        throw new IllegalStateException(
                "no stable answer for key " + key + " in " + HashIndexLincheckTest.READ_ATTEMPTS + " attempts");
    }

    @Override
    public boolean keyEquals(int slot, byte[] key) {
        return Math.abs(slotKey.get(slot)) == key[0];
    }

    @Override
    public boolean keysEqual(int slotA, int slotB) {
        return Math.abs(slotKey.get(slotA)) == Math.abs(slotKey.get(slotB));
    }
}
