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
        final byte[][] keys;

        ArrayKeys() {
            this(1 << 16);
        }

        ArrayKeys(int slots) {
            keys = new byte[slots][];
        }

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

    /**
     * One step of churn on key {@code k}, in {@code index} and in its {@code model}: one time in four, if present, it is
     * removed; otherwise it is stored in {@code slot} and indexed there (inserted, or moved from its slot).
     */
    private static void churn(
            Random rnd, HashIndex index, ArrayKeys slots, Map<Integer, Integer> model, int k, int slot) {
        byte[] key = key(k);
        long h = KeyHash.hash(key);
        Integer at = model.get(k);
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
            churn(rnd, index, slots, model, k, nextSlot++ & 0xFFFF);
        }
        assertThat(index.size()).isEqualTo(model.size());
        model.forEach((k, slot) ->
                assertThat(index.find(KeyHash.hash(key(k)), key(k))).isEqualTo(slot));
        assertThat((double) index.memoryBytes() / model.size()).isLessThanOrEqualTo(16.0);
    }

    /**
     * The writer's guesses (no key compared) under churn: a guess names a slot whose key carries the wanted tag, or
     * none; for an indexed key it is nearly always that key's slot (another key with the same 32-bit tag earlier on
     * the probe path, or a path longer than the probes looked at, are the only misses); and the home entry is what the
     * table holds where the key's probe starts. Seed printed, taken back through {@code armdb.seed}.
     */
    @Test
    void guessesNameASlotWithTheWantedTagAndMostlyTheKeysOwn() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("HashIndexTest guesses seed " + seed);
        Random rnd = new Random(seed);
        ArrayKeys slots = new ArrayKeys();
        HashIndex index = new HashIndex(slots);
        Map<Integer, Integer> model = new HashMap<>();
        int nextSlot = 0;
        int present = 0;
        int right = 0;
        for (int op = 0; op < 40_000; op++) {
            int k = rnd.nextInt(5_000);
            byte[] key = key(k);
            long h = KeyHash.hash(key);
            Integer at = model.get(k);
            int guess = index.guessSlot(h);
            if (guess >= 0) {
                assertThat((int) KeyHash.hash(slots.keys[guess]))
                        .as("seed %d op %d: the guessed slot's key carries the tag", seed, op)
                        .isEqualTo((int) h);
            }
            if (at != null) {
                present++;
                right += guess == at ? 1 : 0;
                assertThat(index.homeEntry(h)).as("seed %d op %d", seed, op).isNotZero();
            }
            churn(rnd, index, slots, model, k, nextSlot++ & 0xFFFF);
        }
        assertThat(present).isGreaterThan(10_000);
        assertThat((double) right / present)
                .as("seed %d: guesses that named the key's own slot", seed)
                .isGreaterThan(0.95);
        assertThat(new HashIndex(slots).guessSlot(KeyHash.hash(key(1)))).isEqualTo(-1);
        assertThat(new HashIndex(slots).homeEntry(KeyHash.hash(key(1)))).isZero();
    }

    /**
     * A bulk fill from entries holding up to three copies of each key, in random order, some marked: every key is
     * found at the copy the choice keeps (the highest "LSN"), the others are not indexed, marks come back on the kept
     * entries, and the index takes inserts and removals afterwards. Hashes are spread over the whole range, packed at
     * the top and the bottom (clusters that wrap around the table's end into entries placed there) or drawn from 8
     * tags (long runs of one tag, distinct keys among them). Seed printed, taken back through {@code armdb.seed}.
     */
    @Test
    void fillEmptyIndexesTheChosenCopyOfEveryKey() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("HashIndexTest fill seed " + seed);
        Random rnd = new Random(seed);
        for (int round = 0; round < 30; round++) {
            int mode = round % 3;
            ArrayKeys slots = new ArrayKeys();
            HashIndex index = new HashIndex(slots);
            int keys = 1 + rnd.nextInt(mode == 2 ? 300 : 5_000);
            long[] hashOfKey = new long[keys];
            long[] lsnOfSlot = new long[1 << 16];
            java.util.List<Long> entries = new java.util.ArrayList<>();
            Map<Integer, Integer> newest = new HashMap<>();
            Map<Integer, Long> markedEntryOfSlot = new HashMap<>();
            int nextSlot = 0;
            for (int k = 0; k < keys; k++) {
                hashOfKey[k] = switch (mode) {
                    case 0 -> KeyHash.hash(key(k));
                    case 1 -> rnd.nextBoolean() ? 0xFFFF_F000L + rnd.nextInt(0x1000) : 1 + rnd.nextInt(0x1000);
                    default -> 1 + rnd.nextInt(8);
                };
                for (int copy = 1 + rnd.nextInt(3); copy > 0; copy--) {
                    int slot = nextSlot++;
                    slots.keys[slot] = key(k);
                    lsnOfSlot[slot] = rnd.nextLong(1, Long.MAX_VALUE);
                    Integer best = newest.get(k);
                    if (best == null || lsnOfSlot[slot] > lsnOfSlot[best]) {
                        newest.put(k, slot);
                    }
                    long e = HashIndex.entryOf(hashOfKey[k], slot);
                    if (rnd.nextBoolean()) {
                        e |= 1L << 31;
                    }
                    markedEntryOfSlot.put(slot, e);
                    entries.add(e);
                }
            }
            java.util.Collections.shuffle(entries, rnd);
            long[] arr = entries.stream().mapToLong(Long::longValue).toArray();
            int kept = index.fillEmpty(arr, arr.length, (a, b) -> lsnOfSlot[a] >= lsnOfSlot[b] ? a : b);

            assertThat(kept).as("seed %d round %d", seed, round).isEqualTo(keys);
            assertThat(index.size()).isEqualTo(keys);
            java.util.Set<Long> expectedKept = new java.util.HashSet<>();
            newest.values().forEach(slot -> expectedKept.add(markedEntryOfSlot.get(slot)));
            java.util.Set<Long> actualKept = new java.util.HashSet<>();
            for (int i = 0; i < kept; i++) {
                actualKept.add(arr[i]);
            }
            assertThat(actualKept)
                    .as("seed %d round %d: kept entries, marks included", seed, round)
                    .isEqualTo(expectedKept);
            for (int k = 0; k < keys; k++) {
                assertThat(index.find(hashOfKey[k], key(k)))
                        .as("seed %d round %d key %d", seed, round, k)
                        .isEqualTo(newest.get(k));
            }
            for (int slot = 0; slot < nextSlot; slot++) {
                boolean chosen =
                        newest.get(java.nio.ByteBuffer.wrap(slots.keys[slot]).getInt()) == slot;
                assertThat(index.holdsSlot(slot))
                        .as("seed %d round %d slot %d", seed, round, slot)
                        .isEqualTo(chosen);
            }
            int victim = rnd.nextInt(keys);
            index.remove(hashOfKey[victim], newest.get(victim));
            assertThat(index.find(hashOfKey[victim], key(victim))).isEqualTo(-1);
            byte[] extra = key(keys);
            slots.keys[nextSlot] = extra;
            index.insert(KeyHash.hash(extra), nextSlot);
            assertThat(index.find(KeyHash.hash(extra), extra)).isEqualTo(nextSlot);
            assertThat(index.size()).isEqualTo(keys);
        }
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

    /**
     * Scans by tag (as SCAN cursors do) while keys are inserted, replaced, removed and the table is rebuilt between
     * calls: every key present through the whole scan is visited at least once, boundaries only grow, and a full
     * pass ends. Tags are drawn from the whole range, from a narrow band at the top (wrap-around clusters) or
     * all equal to one value, with a seed printed and taken back through {@code armdb.seed}.
     */
    @Test
    void tagScanVisitsEveryKeyPresentThroughoutUnderChurn() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("HashIndexTest tag scan seed " + seed);
        Random rnd = new Random(seed);
        for (int round = 0; round < 60; round++) {
            int mode = round % 3;
            HashIndex index = new HashIndex(new ArrayKeys());
            Map<Integer, Integer> slotOfKey = new HashMap<>();
            Map<Integer, Integer> keyOfSlot = new HashMap<>();
            long[] hashes = new long[4_000];
            for (int k = 0; k < hashes.length; k++) {
                long tag = switch (mode) {
                    case 0 -> rnd.nextLong();
                    case 1 -> rnd.nextBoolean() ? 0xFFFF_F000L + rnd.nextInt(0x1000) : 1 + rnd.nextInt(0x1000);
                    default -> 0x8000_0000L;
                };
                hashes[k] = (rnd.nextLong() << 32) | (tag & 0xFFFF_FFFFL);
            }
            int[] nextSlot = {0};
            java.util.function.IntConsumer put = k -> {
                int slot = nextSlot[0]++;
                Integer old = slotOfKey.put(k, slot);
                keyOfSlot.put(slot, k);
                if (old == null) {
                    index.insert(hashes[k], slot);
                } else {
                    index.replace(hashes[k], old, slot);
                    keyOfSlot.remove(old);
                }
            };
            int stable = 300 + rnd.nextInt(300);
            for (int k = 0; k < stable + rnd.nextInt(1_000); k++) {
                put.accept(k);
            }
            java.util.Set<Integer> visited = new java.util.HashSet<>();
            long from = 0;
            int calls = 0;
            do {
                int count = 1 + rnd.nextInt(20);
                long boundary = index.scanTags(from, count, slot -> visited.add(keyOfSlot.get(slot)));
                assertThat(boundary).as("seed %d round %d", seed, round).isGreaterThan(from);
                from = boundary;
                for (int op = rnd.nextInt(200); op > 0; op--) {
                    int k = rnd.nextInt(hashes.length);
                    Integer at = slotOfKey.get(k);
                    if (k >= stable && at != null && rnd.nextInt(3) == 0) {
                        index.remove(hashes[k], at);
                        slotOfKey.remove(k);
                        keyOfSlot.remove(at);
                    } else {
                        put.accept(k < stable ? rnd.nextInt(stable) : k);
                    }
                }
                assertThat(++calls).as("seed %d: a full scan ends", seed).isLessThan(100_000);
            } while (from < HashIndex.TAG_END);
            for (int k = 0; k < stable; k++) {
                assertThat(visited)
                        .as("seed %d round %d mode %d", seed, round, mode)
                        .contains(k);
            }
        }
    }

    @Test
    void sortByHomeOrdersSmallAndLargeBatchesByTheirTopBitsAndKeepsEveryEntry() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("sortByHome: seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        Random rnd = new Random(seed);
        for (int n : new int[] {0, 1, 2, 17, 4095, 4096, 50_000}) {
            long[] entries = new long[n + 3];
            for (int i = 0; i < entries.length; i++) {
                entries[i] = rnd.nextLong();
            }
            long[] before = entries.clone();
            HashIndex.sortByHome(entries, n);
            for (int i = 1; i < n; i++) {
                assertThat(entries[i - 1] >>> 48).as("n=%d, entry %d", n, i).isLessThanOrEqualTo(entries[i] >>> 48);
            }
            long[] sortedBefore = java.util.Arrays.copyOf(before, n);
            long[] sortedAfter = java.util.Arrays.copyOf(entries, n);
            java.util.Arrays.sort(sortedBefore);
            java.util.Arrays.sort(sortedAfter);
            assertThat(sortedAfter).as("n=%d: the same entries", n).isEqualTo(sortedBefore);
            assertThat(java.util.Arrays.copyOfRange(entries, n, n + 3))
                    .as("n=%d: entries past n untouched", n)
                    .isEqualTo(java.util.Arrays.copyOfRange(before, n, n + 3));
        }
    }

    /**
     * {@link HashIndex#holdsSlot} is true exactly for the slots the index points a key at, through inserts, copy-on-write
     * replacements, removals, rebuilds and a clear, with slot ids spread over several of its bit chunks (and beyond
     * any chunk allocated yet).
     */
    @Test
    void holdsSlotIsTrueExactlyForIndexedSlots() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("HashIndexTest holdsSlot seed " + seed);
        Random rnd = new Random(seed);
        Map<Integer, byte[]> slotKeys = new HashMap<>();
        SlotKeys keys = new SlotKeys() {
            @Override
            public boolean keyEquals(int slot, byte[] key) {
                return java.util.Arrays.equals(slotKeys.get(slot), key);
            }

            @Override
            public boolean keysEqual(int a, int b) {
                return java.util.Arrays.equals(slotKeys.get(a), slotKeys.get(b));
            }
        };
        HashIndex index = new HashIndex(keys);
        Map<Integer, Integer> model = new HashMap<>();
        java.util.Set<Integer> held = new java.util.HashSet<>();
        int slotSpace = 3 * IndexedSlots.CHUNK_BITS + 77;
        for (int op = 0; op < 60_000; op++) {
            int k = rnd.nextInt(4_000);
            byte[] key = key(k);
            long h = KeyHash.hash(key);
            Integer at = model.get(k);
            int slot = rnd.nextInt(slotSpace);
            while (held.contains(slot)) {
                slot = rnd.nextInt(slotSpace);
            }
            if (rnd.nextInt(3) == 0 && at != null) {
                index.remove(h, at);
                model.remove(k);
                held.remove(at);
            } else {
                slotKeys.put(slot, key);
                if (at == null) {
                    index.insert(h, slot);
                } else {
                    index.replace(h, at, slot);
                    held.remove(at);
                }
                model.put(k, slot);
                held.add(slot);
            }
            if (op % 5000 == 0 || op == 59_999) {
                for (int s = 0; s < slotSpace + IndexedSlots.CHUNK_BITS; s++) {
                    assertThat(index.holdsSlot(s))
                            .as("seed %d op %d slot %d", seed, op, s)
                            .isEqualTo(held.contains(s));
                }
            }
        }
        assertThat(index.holdsSlot(-1)).isFalse();
        index.clear();
        for (int s = 0; s < slotSpace; s++) {
            assertThat(index.holdsSlot(s)).as("slot %d after clear", s).isFalse();
        }
    }

    /**
     * {@link HashIndex#fillEmpty} of an index that held keys and was cleared: the slot bits afterwards are exactly the
     * kept entries' slots, spread over several chunks of {@link IndexedSlots} (none of the bits the index set before
     * its clear comes back), tombstone marks included; and inserts, moves and removals after the fill keep them exact.
     * Seed printed, taken back through {@code armdb.seed}.
     */
    @Test
    void slotBitsAfterAFillAreExactlyTheKeptSlots() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("HashIndexTest fill bits seed " + seed);
        Random rnd = new Random(seed);
        int slotSpace = 3 * IndexedSlots.CHUNK_BITS + 77;
        ArrayKeys keys = new ArrayKeys(slotSpace);
        byte[][] slotKeys = keys.keys;
        HashIndex index = new HashIndex(keys);
        for (int i = 0; i < 2_000; i++) {
            int slot = rnd.nextInt(slotSpace);
            slotKeys[slot] = key(1_000_000 + i);
            index.insert(KeyHash.hash(slotKeys[slot]), slot);
        }
        index.clear();
        java.util.BitSet held = new java.util.BitSet();
        java.util.List<Long> entries = new java.util.ArrayList<>();
        for (int slot = 0; slot < slotSpace; slot++) {
            if (rnd.nextInt(7) == 0) {
                slotKeys[slot] = key(slot);
                long e = HashIndex.entryOf(KeyHash.hash(slotKeys[slot]), slot);
                entries.add(rnd.nextBoolean() ? e | 1L << 31 : e);
                held.set(slot);
            } else {
                slotKeys[slot] = null;
            }
        }
        java.util.Collections.shuffle(entries, rnd);
        long[] arr = entries.stream().mapToLong(Long::longValue).toArray();
        assertThat(index.fillEmpty(arr, arr.length, (a, b) -> a)).isEqualTo(arr.length);
        assertBitsExact(index, held, slotSpace, seed, "after the fill");

        for (int op = 0; op < 3_000; op++) {
            int slot = held.nextSetBit(rnd.nextInt(slotSpace));
            if (slot < 0) {
                continue;
            }
            long h = KeyHash.hash(slotKeys[slot]);
            int free = held.nextClearBit(rnd.nextInt(slotSpace));
            if (rnd.nextBoolean() || free >= slotSpace) {
                index.remove(h, slot);
                held.clear(slot);
            } else {
                slotKeys[free] = slotKeys[slot];
                index.replace(h, slot, free);
                held.clear(slot);
                held.set(free);
            }
        }
        assertBitsExact(index, held, slotSpace, seed, "after moves and removals");
    }

    private static void assertBitsExact(HashIndex index, java.util.BitSet held, int slotSpace, long seed, String when) {
        for (int s = 0; s < slotSpace + IndexedSlots.CHUNK_BITS; s++) {
            assertThat(index.holdsSlot(s))
                    .as("seed %d slot %d %s", seed, s, when)
                    .isEqualTo(held.get(s));
        }
    }
}
