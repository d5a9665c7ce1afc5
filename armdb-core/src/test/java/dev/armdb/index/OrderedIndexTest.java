package dev.armdb.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Queue;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link OrderedIndex} against a {@link TreeMap} model: random inserts, updates and removals over a small key space
 * (so leaves split, empty, merge and the root grows and shrinks), every navigation with bounds of every length, the
 * value copies beside the keys, cursor snapshots that must not move when the index changes, cursors racing writers,
 * and lock-free value updates racing the copies of their leaves. Seed: {@code armdb.seed} (printed).
 */
class OrderedIndexTest {
    private static final int KEY_SIZE = 3;
    private static final int VALUE_SIZE = 8;

    private static long seed(String what) {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("OrderedIndexTest " + what + ": seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        return seed;
    }

    /** A key of the small key space: {@code space} distinct values, spread over all three bytes. */
    private static byte[] key(Random rnd, int space) {
        int v = rnd.nextInt(space) * (0xFFFFFF / space);
        return new byte[] {(byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    /** A bound of length 0 to 4, often a prefix or extension of a key. */
    private static byte[] bound(Random rnd, int space) {
        byte[] k = key(rnd, space);
        int len = rnd.nextInt(5);
        byte[] b = Arrays.copyOf(k, len);
        if (len == 4) {
            b[3] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    /** The value stored with hint {@code hint} in these tests: its 8 bytes. */
    private static byte[] val(long hint) {
        byte[] v = new byte[VALUE_SIZE];
        for (int i = 0; i < VALUE_SIZE; i++) {
            v[i] = (byte) (hint >>> (8 * i));
        }
        return v;
    }

    private static long hintIn(byte[] v) {
        long h = 0;
        for (int i = 0; i < VALUE_SIZE; i++) {
            h |= (v[i] & 0xFFL) << (8 * i);
        }
        return h;
    }

    private static String hex(byte[] b) {
        return b == null ? "null" : HexFormat.of().formatHex(b);
    }

    /** The model's keys compare as OrderedIndex documents: unsigned, a prefix before its extensions. */
    private static NavigableMap<byte[], Long> model() {
        return new TreeMap<>(Arrays::compareUnsigned);
    }

    private static List<String> walkForward(OrderedIndex.Cursor c, boolean on, Map<String, Long> hints) {
        List<String> out = new ArrayList<>();
        for (; on; on = c.next()) {
            byte[] k = new byte[KEY_SIZE];
            c.copyKey(k);
            assertThat(Arrays.copyOfRange(c.keys(), c.keyOffset(), c.keyOffset() + KEY_SIZE))
                    .isEqualTo(k);
            out.add(hex(k));
            if (hints != null) {
                hints.put(hex(k), c.hint());
                byte[] v = new byte[VALUE_SIZE];
                assertThat(c.readValue(v))
                        .as("value of %s read without writers", hex(k))
                        .isTrue();
                assertThat(hintIn(v)).as("value of %s", hex(k)).isEqualTo(c.hint());
            }
        }
        return out;
    }

    private static List<String> walkBack(OrderedIndex.Cursor c, boolean on) {
        List<String> out = new ArrayList<>();
        for (; on; on = c.previous()) {
            byte[] k = new byte[KEY_SIZE];
            c.copyKey(k);
            out.add(hex(k));
        }
        return out;
    }

    private static List<String> hexKeys(Iterable<byte[]> keys) {
        List<String> out = new ArrayList<>();
        keys.forEach(k -> out.add(hex(k)));
        return out;
    }

    @Test
    void insertsAndRemovalsAgreeWithAModelInEveryNavigation() {
        long seed = seed("model");
        Random rnd = new Random(seed);
        for (int round = 0; round < 6; round++) {
            int space = new int[] {5, 70, 300, 3000, 20_000, 20_000}[round];
            OrderedIndex index = new OrderedIndex(KEY_SIZE, VALUE_SIZE);
            NavigableMap<byte[], Long> model = model();
            int ops = round < 4 ? 4000 : 60_000;
            for (int op = 0; op < ops; op++) {
                byte[] k = key(rnd, space);
                // phases: grow, churn, shrink to (nearly) nothing, so merges and root collapses happen too
                int phase = op * 3 / ops;
                int insertPercent = phase == 0 ? 80 : phase == 1 ? 50 : 15;
                if (rnd.nextInt(100) < insertPercent) {
                    long hint = rnd.nextLong(Long.MAX_VALUE);
                    if (model.containsKey(k) && rnd.nextBoolean()) {
                        index.update(k, hint, val(hint));
                    } else {
                        index.insert(k, hint, val(hint));
                    }
                    model.put(k, hint);
                } else {
                    index.remove(k);
                    model.remove(k);
                }
                if (op % 97 == 0 || op == ops - 1) {
                    check(index, model, rnd, space, "seed " + seed + " round " + round + " op " + op);
                }
            }
        }
    }

    private static void check(
            OrderedIndex index, NavigableMap<byte[], Long> model, Random rnd, int space, String where) {
        assertThat(index.size()).as(where).isEqualTo(model.size());
        Map<String, Long> hints = new TreeMap<>();
        OrderedIndex.Cursor c = index.cursor();
        assertThat(walkForward(c, c.first(), hints)).as(where).isEqualTo(hexKeys(model.keySet()));
        for (Map.Entry<byte[], Long> e : model.entrySet()) {
            assertThat(hints.get(hex(e.getKey()))).as(where + " hint").isEqualTo(e.getValue());
        }
        assertThat(walkBack(c, c.last())).as(where).isEqualTo(hexKeys(model.descendingKeySet()));
        for (int i = 0; i < 8; i++) {
            byte[] b = bound(rnd, space);
            boolean inclusive = rnd.nextBoolean();
            String at = where + " bound " + hex(b) + (inclusive ? " incl" : " excl");
            assertThat(walkForward(c, c.ceiling(b, inclusive), null))
                    .as(at + " ceiling")
                    .isEqualTo(hexKeys(model.tailMap(b, inclusive).keySet()));
            assertThat(walkBack(c, c.floor(b, inclusive)))
                    .as(at + " floor")
                    .isEqualTo(hexKeys(model.headMap(b, inclusive).descendingKeySet()));
        }
    }

    /**
     * Keys long enough for the eight-bytes-at-a-time comparison (19 bytes: two words and a tail), with every byte
     * value (so signed and unsigned order differ), against the model's order, with bounds of every length from 0 to
     * 20 bytes. Mutation check: comparing the words as signed longs fails it.
     */
    @Test
    void longKeysAndBoundsOrderAsUnsignedBytes() {
        long seed = seed("long keys");
        Random rnd = new Random(seed);
        int keySize = 19;
        OrderedIndex index = new OrderedIndex(keySize, VALUE_SIZE);
        NavigableMap<byte[], Long> model = model();
        for (int i = 0; i < 5000; i++) {
            byte[] k = new byte[keySize];
            rnd.nextBytes(k);
            // shared prefixes of every length, so the comparison reaches every word and the tail
            if (!model.isEmpty() && rnd.nextBoolean()) {
                byte[] other = model.ceilingKey(k) != null ? model.ceilingKey(k) : model.firstKey();
                System.arraycopy(other, 0, k, 0, rnd.nextInt(keySize));
            }
            index.insert(k, i + 1, val(i + 1));
            model.put(k, (long) i + 1);
        }
        OrderedIndex.Cursor c = index.cursor();
        List<String> walked = new ArrayList<>();
        for (boolean on = c.first(); on; on = c.next()) {
            walked.add(hex(Arrays.copyOfRange(c.keys(), c.keyOffset(), c.keyOffset() + keySize)));
        }
        assertThat(walked).as("seed %d", seed).isEqualTo(hexKeys(model.keySet()));
        for (int i = 0; i < 2000; i++) {
            byte[] b = Arrays.copyOf(
                    model.ceilingKey(new byte[] {(byte) rnd.nextInt(256)}) == null
                            ? model.firstKey()
                            : model.ceilingKey(new byte[] {(byte) rnd.nextInt(256)}),
                    rnd.nextInt(21));
            if (b.length > 0 && rnd.nextBoolean()) {
                b[b.length - 1] = (byte) rnd.nextInt(256);
            }
            boolean inclusive = rnd.nextBoolean();
            byte[] expected = model.ceilingKey(b);
            if (expected != null && !inclusive && Arrays.equals(expected, b)) {
                expected = model.higherKey(b);
            }
            boolean on = c.ceiling(b, inclusive);
            String at = "seed " + seed + " bound " + hex(b) + (inclusive ? " incl" : " excl");
            assertThat(on ? hex(Arrays.copyOfRange(c.keys(), c.keyOffset(), c.keyOffset() + keySize)) : null)
                    .as(at)
                    .isEqualTo(expected == null ? null : hex(expected));
        }
    }

    @Test
    void aCursorKeepsTheKeysItWasPositionedOnWhateverWritersDo() {
        long seed = seed("snapshot");
        Random rnd = new Random(seed);
        OrderedIndex index = new OrderedIndex(KEY_SIZE, VALUE_SIZE);
        NavigableMap<byte[], Long> model = model();
        for (int i = 0; i < 3000; i++) {
            byte[] k = key(rnd, 5000);
            index.insert(k, i, val(i));
            model.put(k, (long) i);
        }
        OrderedIndex.Cursor c = index.cursor();
        boolean on = c.first();
        List<String> expected = hexKeys(model.keySet());
        List<String> seen = new ArrayList<>();
        for (int step = 0; on; step++, on = c.next()) {
            byte[] k = new byte[KEY_SIZE];
            c.copyKey(k);
            seen.add(hex(k));
            // the writers empty the index and fill it with other keys while the cursor walks
            for (int j = 0; j < 3; j++) {
                Map.Entry<byte[], Long> victim = model.pollFirstEntry();
                if (victim != null) {
                    index.remove(victim.getKey());
                }
                index.insert(key(rnd, 5000), -step, val(-step));
            }
        }
        assertThat(seen).as("seed %d", seed).isEqualTo(expected);
    }

    @Test
    void buildsFromSortedKeysAsInsertsWouldAndRefusesUnsortedOnes() {
        long seed = seed("build");
        Random rnd = new Random(seed);
        for (int n : new int[] {0, 1, 55, 56, 57, 3137, 200_000}) {
            NavigableMap<byte[], Long> model = model();
            while (model.size() < n) {
                model.put(key(rnd, 1 << 23), rnd.nextLong());
            }
            byte[] packed = new byte[n * KEY_SIZE];
            long[] hints = new long[n];
            byte[] values = new byte[n * VALUE_SIZE];
            int i = 0;
            for (Map.Entry<byte[], Long> e : model.entrySet()) {
                System.arraycopy(e.getKey(), 0, packed, i * KEY_SIZE, KEY_SIZE);
                System.arraycopy(val(e.getValue()), 0, values, i * VALUE_SIZE, VALUE_SIZE);
                hints[i++] = e.getValue();
            }
            OrderedIndex index = new OrderedIndex(
                    KEY_SIZE,
                    VALUE_SIZE,
                    packed,
                    hints,
                    (k, out, offset) -> System.arraycopy(values, k * VALUE_SIZE, out, offset, VALUE_SIZE),
                    n);
            check(index, model, rnd, 1 << 23, "seed " + seed + " built " + n);
            for (int op = 0; op < 2000; op++) {
                byte[] k = key(rnd, 1 << 23);
                if (rnd.nextBoolean()) {
                    index.insert(k, op, val(op));
                    model.put(k, (long) op);
                } else {
                    byte[] present = model.isEmpty() ? k : model.ceilingKey(k);
                    present = present == null ? k : present;
                    index.remove(present);
                    model.remove(present);
                }
            }
            check(index, model, rnd, 1 << 23, "seed " + seed + " built " + n + " then changed");
        }
        byte[] twice = {0, 0, 1, 0, 0, 1};
        OrderedIndex.ValueSource zeros = (k, out, offset) -> {};
        assertThatThrownBy(() -> new OrderedIndex(KEY_SIZE, VALUE_SIZE, twice, new long[2], zeros, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("strictly ascending");
        assertThatThrownBy(() -> new OrderedIndex(KEY_SIZE, VALUE_SIZE, twice, new long[1], zeros, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("need 2 keys of 3 bytes and 2 hints, got 6 key bytes and 1 hints");
        assertThatThrownBy(() -> new OrderedIndex(KEY_SIZE, VALUE_SIZE).insert(new byte[2], 0, val(0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exactly 3 bytes, got 2");
        assertThatThrownBy(() -> new OrderedIndex(KEY_SIZE, VALUE_SIZE).update(new byte[3], 0, new byte[7]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exactly 8 bytes, got 7");
    }

    /**
     * Two writers insert and remove their own keys while readers walk: every walk is strictly ascending, holds every
     * key present throughout (the even keys, never removed) and no key that was never inserted; every hint a
     * reader sees is one stored for that key.
     */
    @Test
    void cursorsRacingWritersSeeOrderedCompleteSnapshots() throws Exception {
        long seed = seed("race");
        Random master = new Random(seed);
        OrderedIndex index = new OrderedIndex(KEY_SIZE, VALUE_SIZE);
        int space = 1 << 14;
        for (int v = 0; v < space; v += 2) {
            index.insert(keyOf(v), v, val(v));
        }
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int owner = w;
            long wseed = master.nextLong();
            threads.add(Thread.ofPlatform().start(() -> {
                Random rnd = new Random(wseed);
                for (int op = 0; op < 2_000_000 && !stop.get(); op++) {
                    // odd keys only: writer 0 owns 1 mod 4, writer 1 owns 3 mod 4
                    int v = rnd.nextInt(space / 4) * 4 + 1 + 2 * owner;
                    if (rnd.nextBoolean()) {
                        index.insert(keyOf(v), v, val(v));
                    } else {
                        index.remove(keyOf(v));
                    }
                }
            }));
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int walks = 0;
        for (; walks < 10_000 && (walks < 20 || System.nanoTime() < end); walks++) {
            OrderedIndex.Cursor c = index.cursor();
            int expectEven = 0;
            int previous = -1;
            for (boolean on = c.first(); on; on = c.next()) {
                int v = valueOf(c.keys(), c.keyOffset());
                if (v <= previous) {
                    failures.add("walk " + walks + ": " + v + " after " + previous);
                }
                if (c.hint() != v) {
                    failures.add("walk " + walks + ": key " + v + " has hint " + c.hint());
                }
                byte[] value = new byte[VALUE_SIZE];
                if (c.readValue(value) && hintIn(value) != v) {
                    failures.add("walk " + walks + ": key " + v + " has value " + hintIn(value));
                }
                if (v % 2 == 0) {
                    if (v != expectEven) {
                        failures.add("walk " + walks + ": even key " + expectEven + " missing (next " + v + ")");
                    }
                    expectEven = v + 2;
                }
                previous = v;
            }
            if (expectEven != space) {
                failures.add("walk " + walks + ": stopped before even key " + expectEven);
            }
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(60_000);
        }
        System.out.println("OrderedIndexTest race: " + walks + " walks");
        assertThat(failures).as("seed " + seed).isEmpty();
    }

    /**
     * Two threads update the values of their own keys lock-free while two others insert and remove keys between
     * them, so the leaves being updated are copied all the time: split when the churners grow the tree, merged with
     * a neighbour when they shrink it (the updated keys are one in eight). After each update returns, its thread
     * reads the key back through a fresh cursor: a read that the index vouches for must give that value. At the end,
     * with no writer left, every key must hold its last value. Mutation check: with {@link OrderedIndex#update}'s
     * second write (after it sees its leaf retired) removed, or a leaf copied by an insert without being retired
     * first, copies drop updates and the test failed in every run tried; with the leaves of a merge not retired, in
     * two runs of three (merges are rarer than splits).
     */
    @Test
    void updatesRacingLeafCopiesAreNeverLost() throws Exception {
        long seed = seed("updates");
        Random master = new Random(seed);
        OrderedIndex index = new OrderedIndex(KEY_SIZE, VALUE_SIZE);
        int space = 1 << 13;
        // keys 16k (updater 0) and 16k + 8 (updater 1) stay; 16k + 1..7 and 16k + 9..15 come and go (churners 0, 1)
        long[] last = new long[space];
        for (int v = 0; v < space; v += 8) {
            index.insert(keyOf(v), v, val(v));
            last[v] = v;
        }
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (int w = 0; w < 2; w++) {
            int owner = w;
            long useed = master.nextLong();
            long cseed = master.nextLong();
            threads.add(Thread.ofPlatform().start(() -> {
                Random rnd = new Random(useed);
                OrderedIndex.Cursor c = index.cursor();
                byte[] read = new byte[VALUE_SIZE];
                for (int op = 1; op < 3_000_000 && (op < 20_000 || System.nanoTime() < end); op++) {
                    int v = rnd.nextInt(space / 16) * 16 + 8 * owner;
                    long value = (long) op << 20 | v;
                    index.update(keyOf(v), value, val(value));
                    last[v] = value;
                    if (c.ceiling(keyOf(v), true) && c.readValue(read) && hintIn(read) != value) {
                        failures.add("key " + v + " read " + hintIn(read) + " after update to " + value);
                    }
                }
                stop.set(true);
            }));
            threads.add(Thread.ofPlatform().start(() -> {
                Random rnd = new Random(cseed);
                for (int op = 0; !stop.get(); op++) {
                    int v = rnd.nextInt(space / 16) * 16 + 8 * owner + 1 + rnd.nextInt(7);
                    // alternate growing and shrinking phases: splits, then merges
                    boolean grow = (op / 20_000) % 2 == 0;
                    if (rnd.nextInt(100) < (grow ? 80 : 10)) {
                        index.insert(keyOf(v), v, val(v));
                    } else {
                        index.remove(keyOf(v));
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        OrderedIndex.Cursor c = index.cursor();
        byte[] read = new byte[VALUE_SIZE];
        int lost = 0;
        for (int v = 0; v < space; v += 8) {
            assertThat(c.ceiling(keyOf(v), true)).isTrue();
            assertThat(c.readValue(read)).as("key %d read with no writer", v).isTrue();
            if (hintIn(read) != last[v]) {
                lost++;
                failures.add("key " + v + " holds " + hintIn(read) + ", last update " + last[v]);
            }
        }
        System.out.println("OrderedIndexTest updates: " + lost + " lost updates");
        assertThat(failures).as("seed " + seed).isEmpty();
    }

    private static byte[] keyOf(int v) {
        return new byte[] {(byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static int valueOf(byte[] keys, int off) {
        return (keys[off] & 0xFF) << 16 | (keys[off + 1] & 0xFF) << 8 | keys[off + 2] & 0xFF;
    }
}
