package dev.armdb.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashIndexTest {
    /** Slots hold keys in an array: slot i holds keys[i]. */
    private static final class ArrayKeys implements SlotKeys {
        final byte[][] keys = new byte[1 << 16][];

        @Override
        public boolean keyEquals(int slot, byte[] key) {
            return java.util.Arrays.equals(keys[slot], key);
        }

        @Override
        public boolean keysEqual(int a, int b) {
            return java.util.Arrays.equals(keys[a], keys[b]);
        }
    }

    private static byte[] key(int i) {
        return ByteBuffer.allocate(12)
                .putInt(i)
                .putLong(i * 0x9E3779B97F4A7C15L)
                .array();
    }

    @Test
    void insertReplaceRemoveAgreeWithAModelAndStayUnder16BytesPerKey() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("HashIndexTest seed " + seed);
        Random rnd = new Random(seed);
        ArrayKeys slots = new ArrayKeys();
        HashIndex index = new HashIndex(slots);
        Map<Integer, Integer> model = new HashMap<>();
        int nextSlot = 0;
        for (int op = 0; op < 40_000; op++) {
            int k = rnd.nextInt(5_000);
            byte[] key = key(k);
            long h = KeyHash.hash(key);
            Integer at = model.get(k);
            assertThat(index.find(h, key)).as("seed %d op %d", seed, op).isEqualTo(at == null ? -1 : at);
            int slot = nextSlot++ & 0xFFFF;
            if (rnd.nextInt(4) == 0 && at != null) {
                index.remove(h, at);
                model.remove(k);
            } else {
                slots.keys[slot] = key;
                if (at == null) {
                    index.insert(h, slot);
                } else {
                    index.replace(h, at, slot);
                }
                model.put(k, slot);
            }
        }
        assertThat(index.size()).isEqualTo(model.size());
        model.forEach((k, slot) ->
                assertThat(index.find(KeyHash.hash(key(k)), key(k))).isEqualTo(slot));
        assertThat((double) index.memoryBytes() / model.size()).isLessThanOrEqualTo(16.0);
    }

    @Test
    void hashOfArrayEqualsHashOfSegment() {
        Random rnd = new Random(1);
        for (int len = 1; len <= 40; len++) {
            byte[] k = new byte[len];
            rnd.nextBytes(k);
            byte[] padded = new byte[len + 3];
            System.arraycopy(k, 0, padded, 3, len);
            assertThat(KeyHash.hash(java.lang.foreign.MemorySegment.ofArray(padded), 3, len))
                    .isEqualTo(KeyHash.hash(k));
        }
    }
}
