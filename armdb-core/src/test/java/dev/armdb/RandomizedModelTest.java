package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random operations on {@link FixedMap} and {@link FixedTree}, checked step by step against an in-memory
 * model ({@link HashMap} for maps, {@link TreeMap} ordered by {@link Arrays#compareUnsigned} for trees), with
 * close/reopen at random points.
 *
 * <p>The seed comes from {@code -Darmdb.seed=N} or is random; it is printed at start and appears in every
 * assertion description, so a failure re-runs with the same operations.
 */
class RandomizedModelTest {
    private static final long SEED = initialSeed();
    private static final HexFormat HEX = HexFormat.of();
    /** Byte values that make keys share prefixes and that sit at the signed/unsigned boundaries. */
    private static final byte[] ALPHABET = {0x00, 0x01, 0x7F, (byte) 0x80, (byte) 0xFE, (byte) 0xFF};

    @TempDir
    Path dir;

    private Case c;
    private Random rnd;
    private FixedStore store;
    private FixedConfig config;
    private byte[][] universe;
    /** The model of every case, keyed by hex key. */
    private final Map<String, byte[]> model = new HashMap<>();
    /** The ordered model of tree cases (null for maps). */
    private TreeMap<byte[], byte[]> sorted;

    private int opIndex;
    private String opName = "setup";
    private int reopens;
    private int maxSize;

    private static long initialSeed() {
        String s = System.getProperty("armdb.seed");
        return s != null && !s.isBlank() ? Long.parseLong(s.trim()) : new SecureRandom().nextLong();
    }

    @BeforeAll
    static void announceSeed() {
        System.out.println("RandomizedModelTest: armdb.seed=" + SEED + " (re-run with -Darmdb.seed=" + SEED + ")");
    }

    /**
     * One configuration.
     *
     * @param universe number of distinct keys operations pick from
     * @param ops number of random operations
     */
    record Case(
            String name,
            boolean tree,
            int shards,
            int keySize,
            int valueSize,
            Durability durability,
            ShardRouting routing,
            int universe,
            int ops) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("map s1 k1 v1 NONE", false, 1, 1, 1, Durability.NONE, ShardRouting.HASH, 256, 5000),
                new Case(
                        "tree s1 k1 v1 SYNC prefix",
                        true,
                        1,
                        1,
                        1,
                        Durability.SYNC,
                        ShardRouting.KEY_PREFIX,
                        256,
                        2500),
                new Case("map s4 k8 v0 GROUP", false, 4, 8, 0, Durability.GROUP, ShardRouting.HASH, 400, 4000),
                new Case(
                        "tree s4 k8 v0 NONE prefix",
                        true,
                        4,
                        8,
                        0,
                        Durability.NONE,
                        ShardRouting.KEY_PREFIX,
                        400,
                        4000),
                new Case("map s3 k16 v32 SYNC", false, 3, 16, 32, Durability.SYNC, ShardRouting.HASH, 300, 2500),
                new Case("tree s3 k16 v32 GROUP", true, 3, 16, 32, Durability.GROUP, ShardRouting.HASH, 300, 3000),
                new Case(
                        "map s16 k13 v1024 GROUP prefix",
                        false,
                        16,
                        13,
                        1024,
                        Durability.GROUP,
                        ShardRouting.KEY_PREFIX,
                        200,
                        2500),
                new Case("tree s16 k13 v1024 NONE", true, 16, 13, 1024, Durability.NONE, ShardRouting.HASH, 200, 2500),
                // many keys in one shard: the hash index grows past 1024 entries and shrinks again
                new Case(
                        "map s1 k4 v8 NONE many keys", false, 1, 4, 8, Durability.NONE, ShardRouting.HASH, 2500, 9000));
    }

    /** The operations, with their weights in a growing and in a shrinking phase. */
    private enum Op {
        PUT(22, 6),
        PUT_EXISTING(10, 6),
        DELETE(6, 20),
        DELETE_EXISTING(2, 14),
        CAS_RIGHT(6, 6),
        CAS_WRONG(6, 6),
        PUT_IF_ABSENT(8, 4),
        PUT_IF_ABSENT_PRESENT(4, 4),
        GET(12, 12),
        GET_INTO_BUFFER(8, 8),
        CONTAINS(6, 6),
        SIZE(2, 2),
        NAVIGATE(8, 6);

        final int growWeight;
        final int shrinkWeight;

        Op(int growWeight, int shrinkWeight) {
            this.growWeight = growWeight;
            this.shrinkWeight = shrinkWeight;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void randomOperationsMatchModel(Case testCase) {
        c = testCase;
        rnd = new Random(SEED ^ (0x9E37_79B9_7F4A_7C15L * (c.name().hashCode() + 1L)));
        sorted = c.tree() ? new TreeMap<>(Arrays::compareUnsigned) : null;
        config = FixedConfig.builder()
                .keySize(c.keySize())
                .valueSize(c.valueSize())
                .shards(c.shards())
                .routing(c.routing())
                .durability(c.durability())
                .growthStepBytes(4096)
                .build();
        universe = makeUniverse();
        store = c.tree() ? FixedTree.open(dir, config) : FixedMap.open(dir, config);
        try {
            int reopenEvery = Math.max(50, c.ops() / 8);
            int phaseLength = Math.max(100, c.ops() / 6);
            // once per run every key of the universe is stored, and later every key is deleted
            int fillAt = c.ops() / 4 + rnd.nextInt(c.ops() / 4);
            int emptyAt = c.ops() / 2 + rnd.nextInt(c.ops() / 4);
            for (opIndex = 0; opIndex < c.ops(); opIndex++) {
                boolean shrinking = (opIndex / phaseLength) % 2 == 1;
                if (rnd.nextInt(reopenEvery) == 0) {
                    opName = "reopen";
                    reopen();
                }
                if (opIndex == fillAt) {
                    fillUniverse();
                }
                if (opIndex == emptyAt) {
                    deleteEverything();
                }
                step(pick(shrinking));
                maxSize = Math.max(maxSize, model.size());
            }
            opName = "final reopen";
            reopen();
        } finally {
            store.close();
        }
        System.out.printf(
                "RandomizedModelTest [%s]: %d ops, %d reopens, at most %d keys, %d at end (seed %d)%n",
                c, c.ops(), reopens, maxSize, model.size(), SEED);
    }

    // ------------------------------------------------------------------ operations

    private Op pick(boolean shrinking) {
        int total = 0;
        for (Op op : Op.values()) {
            total += shrinking ? op.shrinkWeight : op.growWeight;
        }
        int r = rnd.nextInt(total);
        for (Op op : Op.values()) {
            r -= shrinking ? op.shrinkWeight : op.growWeight;
            if (r < 0) {
                return op;
            }
        }
        throw new AssertionError("unreachable");
    }

    private void step(Op op) {
        opName = op.name();
        switch (op) {
            case PUT -> put(randomKey());
            case PUT_EXISTING -> put(existingKeyOrRandom());
            case DELETE -> delete(randomKey());
            case DELETE_EXISTING -> delete(existingKeyOrRandom());
            case CAS_RIGHT -> casRight(existingKeyOrRandom());
            case CAS_WRONG -> casWrong(rnd.nextBoolean() ? existingKeyOrRandom() : randomKey());
            case PUT_IF_ABSENT -> putIfAbsent(randomKey());
            case PUT_IF_ABSENT_PRESENT -> putIfAbsent(existingKeyOrRandom());
            case GET -> checkGet(randomKey());
            case GET_INTO_BUFFER -> checkGetIntoBuffer(randomKey());
            case CONTAINS -> checkContains(randomKey());
            case SIZE -> checkSize();
            case NAVIGATE -> {
                if (store instanceof FixedTree tree) {
                    navigate(tree);
                } else {
                    checkGet(existingKeyOrRandom());
                }
            }
        }
    }

    private void put(byte[] key) {
        byte[] value = randomValue();
        long lsn = store.put(key, value);
        assertThat(lsn).as(at("put %s returns an LSN", hex(key))).isPositive();
        modelPut(key, value);
        checkGet(key);
    }

    private void delete(byte[] key) {
        boolean expected = model.containsKey(hex(key));
        long lsn = store.delete(key);
        assertThat(lsn != FixedStore.UNCHANGED)
                .as(at("delete %s changed something (LSN %d)", hex(key), lsn))
                .isEqualTo(expected);
        modelRemove(key);
        assertThat(store.get(key)).as(at("get %s after delete", hex(key))).isNull();
        assertThat(store.containsKey(key))
                .as(at("containsKey %s after delete", hex(key)))
                .isFalse();
    }

    private void casRight(byte[] key) {
        byte[] current = model.get(hex(key));
        byte[] expected = current != null ? current.clone() : randomValue();
        byte[] update = randomValue();
        boolean shouldSucceed = current != null;
        assertThat(store.compareAndSet(key, expected, update) != FixedStore.UNCHANGED)
                .as(at("compareAndSet %s with the current value (present=%s)", hex(key), shouldSucceed))
                .isEqualTo(shouldSucceed);
        if (shouldSucceed) {
            modelPut(key, update);
        }
        checkGet(key);
    }

    private void casWrong(byte[] key) {
        byte[] current = model.get(hex(key));
        byte[] expected = randomValue();
        if (current != null && Arrays.equals(current, expected)) {
            if (expected.length == 0) {
                // a zero-byte value always equals the current one: the swap must succeed
                byte[] update = randomValue();
                assertThat(store.compareAndSet(key, expected, update))
                        .as(at("compareAndSet %s with an empty value", hex(key)))
                        .isPositive();
                modelPut(key, update);
                checkGet(key);
                return;
            }
            expected[rnd.nextInt(expected.length)] ^= (byte) (1 + rnd.nextInt(255));
        }
        byte[] update = randomValue();
        assertThat(store.compareAndSet(key, expected, update))
                .as(at("compareAndSet %s with a wrong expected value (present=%s)", hex(key), current != null))
                .isZero();
        checkGet(key);
    }

    private void putIfAbsent(byte[] key) {
        byte[] value = randomValue();
        boolean absent = !model.containsKey(hex(key));
        assertThat(store.putIfAbsent(key, value) != FixedStore.UNCHANGED)
                .as(at("putIfAbsent %s (absent=%s)", hex(key), absent))
                .isEqualTo(absent);
        if (absent) {
            modelPut(key, value);
        }
        checkGet(key);
    }

    private void checkGet(byte[] key) {
        byte[] expected = model.get(hex(key));
        assertThat(store.get(key)).as(at("get %s", hex(key))).isEqualTo(expected);
    }

    private void checkGetIntoBuffer(byte[] key) {
        byte[] expected = model.get(hex(key));
        byte[] buffer = randomValue();
        boolean found = store.get(key, buffer);
        assertThat(found).as(at("get %s into a buffer: found", hex(key))).isEqualTo(expected != null);
        if (expected != null) {
            assertThat(buffer).as(at("get %s into a buffer: value", hex(key))).isEqualTo(expected);
        }
    }

    private void checkContains(byte[] key) {
        assertThat(store.containsKey(key)).as(at("containsKey %s", hex(key))).isEqualTo(model.containsKey(hex(key)));
    }

    private void checkSize() {
        assertThat(store.size()).as(at("size")).isEqualTo(model.size());
        assertThat(store.stats().liveSlots()).as(at("stats().liveSlots()")).isEqualTo(model.size());
    }

    private void fillUniverse() {
        opName = "fill";
        for (byte[] key : universe) {
            if (rnd.nextBoolean()) {
                putIfAbsent(key.clone());
            } else {
                put(key.clone());
            }
        }
        maxSize = Math.max(maxSize, model.size());
        assertThat(store.size()).as(at("size with every key stored")).isEqualTo(universe.length);
        checkEverything("every key stored");
    }

    private void deleteEverything() {
        opName = "delete everything";
        while (!model.isEmpty()) {
            delete(existingKeyOrRandom());
        }
        checkEverything("every key deleted");
        assertThat(store.size()).as(at("size when empty")).isZero();
        if (store instanceof FixedTree tree) {
            byte[] probe = randomProbe();
            assertThat(tree.first()).as(at("first when empty")).isNull();
            assertThat(tree.last()).as(at("last when empty")).isNull();
            assertThat(tree.floor(probe)).as(at("floor when empty")).isNull();
            assertThat(tree.ceiling(probe)).as(at("ceiling when empty")).isNull();
            assertThat(tree.range(null, null).hasNext())
                    .as(at("range when empty"))
                    .isFalse();
            assertThat(tree.prefix(new byte[0]).hasNext())
                    .as(at("prefix when empty"))
                    .isFalse();
        }
    }

    // ------------------------------------------------------------------ tree navigation

    private void navigate(FixedTree tree) {
        byte[] probe = randomProbe();
        String p = hex(probe);
        switch (rnd.nextInt(9)) {
            case 0 -> {
                assertThat(show(tree.first())).as(at("first")).isEqualTo(show(sorted.firstEntry()));
                assertThat(show(tree.last())).as(at("last")).isEqualTo(show(sorted.lastEntry()));
            }
            case 1 ->
                assertThat(show(tree.floor(probe))).as(at("floor %s", p)).isEqualTo(show(sorted.floorEntry(probe)));
            case 2 ->
                assertThat(show(tree.ceiling(probe)))
                        .as(at("ceiling %s", p))
                        .isEqualTo(show(sorted.ceilingEntry(probe)));
            case 3 ->
                assertThat(show(tree.lower(probe))).as(at("lower %s", p)).isEqualTo(show(sorted.lowerEntry(probe)));
            case 4 ->
                assertThat(show(tree.higher(probe))).as(at("higher %s", p)).isEqualTo(show(sorted.higherEntry(probe)));
            case 5 -> {
                byte[] from = rnd.nextInt(5) == 0 ? null : probe;
                byte[] to = rnd.nextInt(5) == 0 ? null : randomProbe();
                assertThat(list(tree.range(from, to)))
                        .as(at("range [%s, %s)", hexOrNull(from), hexOrNull(to)))
                        .containsExactlyElementsOf(expectedRange(from, to));
                List<String> scanned = new ArrayList<>();
                int limit = rnd.nextInt(4) == 0 ? rnd.nextInt(5) + 1 : Integer.MAX_VALUE;
                long visited = tree.scan(from, to, (k, v) -> {
                    scanned.add(show(k, v));
                    return scanned.size() < limit;
                });
                List<String> expected = expectedRange(from, to);
                assertThat(scanned)
                        .as(at("scan [%s, %s) limit %d", hexOrNull(from), hexOrNull(to), limit))
                        .containsExactlyElementsOf(expected.subList(0, Math.min(limit, expected.size())));
                assertThat(visited).isEqualTo(scanned.size());
            }
            case 6 -> {
                byte[] prefix = Arrays.copyOf(probe, Math.min(probe.length, rnd.nextInt(c.keySize() + 1)));
                List<String> expected = new ArrayList<>();
                for (Map.Entry<byte[], byte[]> e : sorted.entrySet()) {
                    if (e.getKey().length >= prefix.length
                            && Arrays.equals(e.getKey(), 0, prefix.length, prefix, 0, prefix.length)) {
                        expected.add(show(e.getKey(), e.getValue()));
                    }
                }
                assertThat(list(tree.prefix(prefix)))
                        .as(at("prefix %s", hex(prefix)))
                        .containsExactlyElementsOf(expected);
            }
            case 7 ->
                assertThat(list(tree.descending())).as(at("descending")).containsExactlyElementsOf(descendingModel());
            default ->
                assertThat(list(tree.range(null, null)))
                        .as(at("range(null, null)"))
                        .containsExactlyElementsOf(ascendingModel());
        }
    }

    private List<String> expectedRange(byte[] from, byte[] to) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> e : sorted.entrySet()) {
            boolean aboveFrom = from == null || Arrays.compareUnsigned(e.getKey(), from) >= 0;
            boolean belowTo = to == null || Arrays.compareUnsigned(e.getKey(), to) < 0;
            if (aboveFrom && belowTo) {
                out.add(show(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    private List<String> ascendingModel() {
        List<String> out = new ArrayList<>();
        sorted.forEach((k, v) -> out.add(show(k, v)));
        return out;
    }

    private List<String> descendingModel() {
        List<String> out = new ArrayList<>();
        sorted.descendingMap().forEach((k, v) -> out.add(show(k, v)));
        return out;
    }

    private static List<String> list(Iterator<FixedTree.Entry> it) {
        List<String> out = new ArrayList<>();
        while (it.hasNext()) {
            FixedTree.Entry e = it.next();
            out.add(show(e.key(), e.value()));
        }
        return out;
    }

    // ------------------------------------------------------------------ reopen and full checks

    private void reopen() {
        StoreStats before = store.stats();
        store.close();
        reopens++;
        assertThat(store.isClosed()).as(at("isClosed after close")).isTrue();

        VerifyReport report = Verifier.verify(dir);
        assertThat(report.clean())
                .as(at("verifier finds no corrupt slot: %s", report))
                .isTrue();
        assertThat(report.shards().stream()
                        .mapToLong(VerifyReport.ShardReport::incompleteSlots)
                        .sum())
                .as(at("verifier: incomplete slots"))
                .isZero();
        assertThat(report.liveKeys()).as(at("verifier: live keys")).isEqualTo(model.size());
        assertThat(report.shards()).as(at("verifier: shards")).hasSize(c.shards());

        boolean withoutConfig = rnd.nextInt(3) == 0;
        if (withoutConfig) {
            store = c.tree() ? FixedTree.open(dir) : FixedMap.open(dir);
            FixedConfig effective = store.config();
            assertThat(List.of(effective.keySize(), effective.valueSize(), effective.shards()))
                    .as(at("sizes read from db.meta"))
                    .containsExactly(c.keySize(), c.valueSize(), c.shards());
            assertThat(effective.routing()).as(at("routing read from db.meta")).isEqualTo(c.routing());
        } else {
            store = c.tree() ? FixedTree.open(dir, config) : FixedMap.open(dir, config);
        }
        String how = withoutConfig ? "reopen without config" : "reopen with config";

        StoreStats after = store.stats();
        assertThat(after.databaseId()).as(at("%s: database id", how)).isEqualTo(before.databaseId());
        for (int s = 0; s < c.shards(); s++) {
            assertThat(after.shards().get(s).maxLsn())
                    .as(at("%s: shard %d LSN never goes back", how, s))
                    .isGreaterThanOrEqualTo(before.shards().get(s).maxLsn())
                    .isGreaterThanOrEqualTo(report.shards().get(s).maxLsn());
        }
        checkEverything(how);
    }

    private void checkEverything(String when) {
        assertThat(store.size()).as(at("%s: size", when)).isEqualTo(model.size());
        StoreStats stats = store.stats();
        assertThat(stats.corruptSlots()).as(at("%s: corrupt slots", when)).isZero();
        assertThat(stats.incompleteSlots()).as(at("%s: incomplete slots", when)).isZero();
        assertThat(stats.liveSlots()).as(at("%s: live slots", when)).isEqualTo(model.size());

        Map<String, String> seen = new LinkedHashMap<>();
        List<String> duplicates = new ArrayList<>();
        store.forEach((k, v) -> {
            if (seen.put(hex(k), digest(v)) != null) {
                duplicates.add(hex(k));
            }
        });
        assertThat(duplicates).as(at("%s: keys forEach reports twice", when)).isEmpty();
        Map<String, String> expected = new HashMap<>();
        model.forEach((k, v) -> expected.put(k, digest(v)));
        assertThat(seen).as(at("%s: forEach content", when)).isEqualTo(expected);

        for (byte[] key : universe) {
            checkGet(key);
        }
        if (store instanceof FixedTree tree) {
            assertThat(list(tree.range(null, null)))
                    .as(at("%s: ascending order", when))
                    .containsExactlyElementsOf(ascendingModel());
            assertThat(list(tree.descending()))
                    .as(at("%s: descending order", when))
                    .containsExactlyElementsOf(descendingModel());
        }
    }

    // ------------------------------------------------------------------ model and data

    private void modelPut(byte[] key, byte[] value) {
        model.put(hex(key), value.clone());
        if (sorted != null) {
            sorted.put(key.clone(), value.clone());
        }
    }

    private void modelRemove(byte[] key) {
        model.remove(hex(key));
        if (sorted != null) {
            sorted.remove(key);
        }
    }

    private byte[][] makeUniverse() {
        if (c.keySize() == 1) {
            byte[][] all = new byte[Math.min(256, c.universe())][];
            for (int i = 0; i < all.length; i++) {
                all[i] = new byte[] {(byte) i};
            }
            return all;
        }
        Map<String, byte[]> keys = new LinkedHashMap<>();
        byte[] zeros = new byte[c.keySize()];
        byte[] ones = new byte[c.keySize()];
        Arrays.fill(ones, (byte) 0xFF);
        keys.put(hex(zeros), zeros);
        keys.put(hex(ones), ones);
        while (keys.size() < c.universe()) {
            byte[] k = new byte[c.keySize()];
            for (int i = 0; i < k.length; i++) {
                k[i] = rnd.nextInt(10) < 6 ? ALPHABET[rnd.nextInt(ALPHABET.length)] : (byte) rnd.nextInt(256);
            }
            keys.putIfAbsent(hex(k), k);
        }
        return keys.values().toArray(new byte[0][]);
    }

    /** A key of the universe; a fresh copy, so the store never shares an array with the model. */
    private byte[] randomKey() {
        return universe[rnd.nextInt(universe.length)].clone();
    }

    /** A key present in the model if there is one, else any key of the universe. */
    private byte[] existingKeyOrRandom() {
        if (model.isEmpty()) {
            return randomKey();
        }
        int start = rnd.nextInt(universe.length);
        for (int i = 0; i < universe.length; i++) {
            byte[] k = universe[(start + i) % universe.length];
            if (model.containsKey(hex(k))) {
                return k.clone();
            }
        }
        throw new AssertionError("model holds a key outside the universe");
    }

    private byte[] randomValue() {
        byte[] v = new byte[c.valueSize()];
        if (rnd.nextInt(4) == 0) {
            // a value of repeated bytes: makes equal values (and CAS on them) more likely
            Arrays.fill(v, ALPHABET[rnd.nextInt(ALPHABET.length)]);
        } else {
            rnd.nextBytes(v);
        }
        return v;
    }

    /** A navigation bound: a key, a neighbour of a key, or an array of another length. */
    private byte[] randomProbe() {
        int kind = rnd.nextInt(4);
        if (kind <= 1) {
            return randomKey();
        }
        if (kind == 2) {
            byte[] k = randomKey();
            int i = rnd.nextInt(k.length);
            k[i] = (byte) (k[i] + (rnd.nextBoolean() ? 1 : -1));
            return k;
        }
        byte[] b = new byte[rnd.nextInt(c.keySize() + 2)];
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextBoolean() ? ALPHABET[rnd.nextInt(ALPHABET.length)] : (byte) rnd.nextInt(256);
        }
        return b;
    }

    // ------------------------------------------------------------------ formatting

    /** A description naming the seed, the case and the operation; built only when an assertion fails. */
    private Supplier<String> at(String what, Object... args) {
        int op = opIndex;
        String name = opName;
        return () -> String.format(
                "seed %d [%s] op #%d %s: %s (re-run with -Darmdb.seed=%d)",
                SEED, c, op, name, String.format(what, args), SEED);
    }

    private static String hex(byte[] b) {
        return HEX.formatHex(b);
    }

    private static String hexOrNull(byte[] b) {
        return b == null ? "null" : hex(b);
    }

    /** A short, faithful rendering of a value: whole if small, else its start, length and CRC. */
    private static String digest(byte[] v) {
        if (v.length <= 32) {
            return hex(v);
        }
        CRC32 crc = new CRC32();
        crc.update(v);
        return HEX.formatHex(v, 0, 8) + "..(" + v.length + " bytes, crc " + Long.toHexString(crc.getValue()) + ")";
    }

    private static String show(byte[] key, byte[] value) {
        return hex(key) + "=" + digest(value);
    }

    private static String show(FixedTree.Entry e) {
        return e == null ? "null" : show(e.key(), e.value());
    }

    private static String show(Map.Entry<byte[], byte[]> e) {
        return e == null ? "null" : show(e.getKey(), e.getValue());
    }
}
