package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every engine benchmark's set-up and {@code @Benchmark} methods in-process at a few thousand records (not
 * through the JMH runner), for both shapes and both access patterns, and checks what they read and wrote, so the
 * benchmarks cannot rot.
 */
class EngineBenchSmokeTest {
    private static final int RECORDS = 3_000;
    private static final int OPS = 1_000;

    /** One benchmark operation of a store, called the way JMH calls it. */
    @FunctionalInterface
    interface Op {
        /** Runs the operation once; returns what the benchmark method returned. */
        Object run(EngineBench b, Workload w) throws Exception;
    }

    /** How to call one store's benchmark methods. */
    record Case(String name, Supplier<EngineBench> make, Op get, Op put, Op deleteInsert, InsertOp insert) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The insert benchmark method of a store. */
    @FunctionalInterface
    interface InsertOp {
        /** Inserts the batch. */
        Object run(EngineBench b, Workload w, InsertBatch batch) throws Exception;
    }

    static List<Case> cases() {
        return List.of(
                new Case(
                        "armdb FixedMap",
                        ArmdbMapBench::new,
                        (b, w) -> ((ArmdbMapBench) b).get(w),
                        (b, w) -> ((ArmdbMapBench) b).put(w),
                        (b, w) -> ((ArmdbMapBench) b).deleteInsert(w),
                        (b, w, i) -> ((ArmdbMapBench) b).insert(w, i)),
                new Case(
                        "armdb FixedTree",
                        ArmdbTreeBench::new,
                        (b, w) -> ((ArmdbTreeBench) b).get(w),
                        (b, w) -> ((ArmdbTreeBench) b).put(w),
                        (b, w) -> ((ArmdbTreeBench) b).deleteInsert(w),
                        (b, w, i) -> ((ArmdbTreeBench) b).insert(w, i)),
                new Case(
                        "LMDB",
                        () -> {
                            LmdbBench l = new LmdbBench();
                            l.writeMap = true;
                            return l;
                        },
                        (b, w) -> ((LmdbBench) b).get(w),
                        (b, w) -> ((LmdbBench) b).put(w),
                        (b, w) -> ((LmdbBench) b).deleteInsert(w),
                        (b, w, i) -> ((LmdbBench) b).insert(w, i)),
                new Case(
                        "RocksDB",
                        RocksDbBench::new,
                        (b, w) -> ((RocksDbBench) b).get(w),
                        (b, w) -> ((RocksDbBench) b).put(w),
                        (b, w) -> ((RocksDbBench) b).deleteInsert(w),
                        (b, w, i) -> ((RocksDbBench) b).insert(w, i)),
                new Case(
                        "MapDB",
                        MapDbBench::new,
                        (b, w) -> ((MapDbBench) b).get(w),
                        (b, w) -> ((MapDbBench) b).put(w),
                        (b, w) -> ((MapDbBench) b).deleteInsert(w),
                        (b, w, i) -> ((MapDbBench) b).insert(w, i)),
                new Case(
                        "Chronicle Map",
                        ChronicleMapBench::new,
                        (b, w) -> ((ChronicleMapBench) b).get(w),
                        (b, w) -> ((ChronicleMapBench) b).put(w),
                        (b, w) -> ((ChronicleMapBench) b).deleteInsert(w),
                        (b, w, i) -> ((ChronicleMapBench) b).insert(w, i)),
                new Case(
                        "ConcurrentHashMap",
                        ChmBench::new,
                        (b, w) -> ((ChmBench) b).get(w),
                        (b, w) -> ((ChmBench) b).put(w),
                        (b, w) -> ((ChmBench) b).deleteInsert(w),
                        (b, w, i) -> ((ChmBench) b).insert(w, i)));
    }

    static Stream<Arguments> storesShapesAccess() {
        return cases().stream()
                .flatMap(c -> Stream.of(Shape.K16_V32, Shape.K8_V256)
                        .flatMap(s -> Stream.of("random", "sequential").map(a -> Arguments.of(c, s, a))));
    }

    static Stream<Arguments> stores() {
        return cases().stream().map(Arguments::of);
    }

    /** True when this JVM runs with the --add-opens that lmdbjava and Chronicle Map need (surefire's argLine). */
    static boolean peerFlagsPresent() {
        Module me = EngineBenchSmokeTest.class.getModule();
        return ByteBuffer.class.getModule().isOpen("java.nio", me)
                && Object.class.getModule().isOpen("java.lang", me);
    }

    private static void assumeFlagsFor(String name) {
        if (name.equals("LMDB") || name.equals("Chronicle Map")) {
            assumeTrue(peerFlagsPresent(), name + " needs the --add-opens of this module's surefire argLine");
        }
    }

    /** Sum over records {@code 0..n-1} of byte 7 of their values (what a full iteration's checksum must be). */
    private static long expectedChecksum(int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (byte) i;
        }
        return sum;
    }

    private static byte[] valueOf(StoreBench b, long record, Shape s) throws Exception {
        byte[] out = new byte[s.valueSize()];
        return b.lookup(record, out) ? out : null;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("storesShapesAccess")
    void everyOperationReadsAndWritesTheRightRecords(Case c, Shape s, String access) throws Exception {
        assumeFlagsFor(c.name());
        EngineBench b = c.make().get();
        b.configure(RECORDS, s);
        b.setup();
        Path dir = null;
        try {
            Workload w = new Workload(RECORDS, s, access, 0, 1);
            byte[] previousKey = null;
            for (int n = 0; n < OPS; n++) {
                assertThat(c.get().run(b, w)).as("get #%d", n).isEqualTo(true);
                assertThat(w.last).isBetween(0, RECORDS - 1);
                assertThat(w.out).as("value of record %d", w.last).isEqualTo(s.value(w.last, 0));
                if (access.equals("sequential") && previousKey != null) {
                    assertThat(Arrays.compareUnsigned(previousKey, w.key))
                            .as("sequential access walks keys in ascending order")
                            .isNegative();
                }
                previousKey = w.key.clone();
            }
            Set<Integer> updated = new HashSet<>();
            for (int n = 0; n < OPS; n++) {
                long before = w.version;
                c.put().run(b, w);
                assertThat(w.version).isEqualTo(before + 1);
                updated.add(w.last);
                assertThat(valueOf(b, w.last, s))
                        .as("record %d after put", w.last)
                        .isEqualTo(s.value(w.last, w.version));
            }
            assertThat(updated).hasSizeGreaterThan(OPS / 2); // many keys, not one key over and over

            InsertBatch batch = new InsertBatch(RECORDS, access, 0, 1);
            for (int round = 0; round < 2; round++) {
                batch.next();
                for (long r : batch.records) {
                    assertThat(r).isGreaterThanOrEqualTo(RECORDS);
                    assertThat(valueOf(b, r, s))
                            .as("record %d before its insert", r)
                            .isNull();
                }
                c.insert().run(b, w, batch);
                for (long r : batch.records) {
                    assertThat(valueOf(b, r, s)).as("inserted record %d", r).isEqualTo(s.value(r, 0));
                }
                batch.undo();
                for (long r : batch.records) {
                    assertThat(valueOf(b, r, s))
                            .as("record %d after the batch's tear-down", r)
                            .isNull();
                }
            }

            for (int n = 0; n < OPS / 4; n++) {
                c.deleteInsert().run(b, w);
                assertThat(valueOf(b, w.last, s))
                        .as("record %d after delete+insert", w.last)
                        .isEqualTo(s.value(w.last, w.version));
            }

            assertThat(b.iterate()).as("full iteration sees every record once").isEqualTo(RECORDS);
            assertThat(b.checksum()).isEqualTo(expectedChecksum(RECORDS));

            dir = b.closeKeepingFiles();
            if (dir != null) {
                assertThat(BenchDirs.bytes(dir)).isGreaterThan((long) RECORDS * s.recordBytes());
            }
        } finally {
            b.tearDown();
        }
        if (dir != null) {
            assertThat(Files.exists(dir))
                    .as("tear-down deletes the store directory")
                    .isFalse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void twoThreadsShareOneStore(Case c) throws Exception {
        assumeFlagsFor(c.name());
        EngineBench b = c.make().get();
        b.configure(RECORDS, Shape.K16_V32);
        b.setup();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> done = new java.util.ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Workload w = new Workload(RECORDS, Shape.K16_V32, t == 0 ? "random" : "sequential", t, 2);
                InsertBatch batch = new InsertBatch(RECORDS, "random", t, 2);
                done.add(pool.submit(() -> {
                    int found = 0;
                    for (int n = 0; n < OPS; n++) {
                        if (Boolean.TRUE.equals(c.get().run(b, w)) && Keys.recordOf(w.out) == w.last) {
                            found++;
                        }
                        c.put().run(b, w);
                    }
                    batch.next();
                    c.insert().run(b, w, batch);
                    batch.undo();
                    return found;
                }));
            }
            for (Future<Integer> f : done) {
                assertThat(f.get()).as("gets that found their record").isEqualTo(OPS);
            }
            assertThat(b.iterate()).as("inserts were undone, nothing lost").isEqualTo(RECORDS);
        } finally {
            pool.shutdown();
            b.tearDown();
        }
    }

    /** Index of the record with the smallest key: a scan from it reads 100 entries. */
    private static int smallestKeyRecord() {
        return KeyOrder.of(RECORDS)[0];
    }

    @Test
    void rangeScansReadTheSameHundredEntriesInEveryOrderedStore() throws Exception {
        assumeTrue(peerFlagsPresent(), "LMDB needs the --add-opens of this module's surefire argLine");
        Shape s = Shape.K16_V32;
        int start = smallestKeyRecord();
        long[] sums = new long[3];
        for (String access : List.of("random", "sequential")) {
            ArmdbTreeBench tree = new ArmdbTreeBench();
            tree.configure(RECORDS, s);
            tree.setup();
            Workload w = new Workload(RECORDS, s, access, 0, 1);
            try {
                assertThat(tree.scanFrom(s.key(start), w)).isEqualTo(ArmdbTreeBench.SCAN);
                sums[0] = w.sink;
                for (int n = 0; n < 200; n++) {
                    assertThat(tree.scan100(w)).isBetween(1, ArmdbTreeBench.SCAN);
                }
            } finally {
                tree.tearDown();
            }
            RocksDbBench rocks = new RocksDbBench();
            rocks.configure(RECORDS, s);
            rocks.setup();
            w = new Workload(RECORDS, s, access, 0, 1);
            try {
                assertThat(rocks.scanFrom(s.key(start), w)).isEqualTo(ArmdbTreeBench.SCAN);
                sums[1] = w.sink;
                for (int n = 0; n < 200; n++) {
                    assertThat(rocks.scan100(w)).isBetween(1, ArmdbTreeBench.SCAN);
                }
            } finally {
                rocks.tearDown();
            }
            LmdbBench lmdb = new LmdbBench();
            lmdb.configure(RECORDS, s);
            lmdb.setup();
            w = new Workload(RECORDS, s, access, 0, 1);
            try {
                LmdbBench.Local l = lmdb.local(w);
                s.key(start, l.key);
                assertThat(lmdb.scanFromKeyBuffer(l, w)).isEqualTo(ArmdbTreeBench.SCAN);
                sums[2] = w.sink;
                for (int n = 0; n < 200; n++) {
                    assertThat(lmdb.scan100(w)).isBetween(1, ArmdbTreeBench.SCAN);
                }
            } finally {
                lmdb.tearDown();
            }
            assertThat(sums[1]).as("RocksDB scan checksum equals FixedTree's").isEqualTo(sums[0]);
            assertThat(sums[2]).as("LMDB scan checksum equals FixedTree's").isEqualTo(sums[0]);
        }
    }

    @Test
    void sequentialScansReadConsecutiveRanges() throws Exception {
        Shape s = Shape.K16_V32;
        int[] order = KeyOrder.of(RECORDS);
        Workload w = new Workload(RECORDS, s, "sequential", 0, 1);
        assertThat(w.scanStart(ArmdbTreeBench.SCAN)).isEqualTo(order[0]);
        assertThat(w.scanStart(ArmdbTreeBench.SCAN)).isEqualTo(order[ArmdbTreeBench.SCAN]);
        assertThat(w.scanStart(ArmdbTreeBench.SCAN)).isEqualTo(order[2 * ArmdbTreeBench.SCAN]);
    }

    @Test
    void keysAreDistinctAndValuesCarryRecordAndVersion() {
        for (Shape s : List.of(Shape.K16_V32, Shape.K8_V256)) {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < RECORDS; i++) {
                assertThat(seen.add(Arrays.toString(s.key(i)))).isTrue();
            }
            byte[] v = s.value(1234, 56);
            assertThat(v).hasSize(s.valueSize());
            assertThat(Keys.recordOf(v)).isEqualTo(1234);
            assertThat(Keys.versionOf(v)).isEqualTo(56);
            ByteBuffer bb = ByteBuffer.allocate(s.valueSize());
            s.value(1234, 56, bb);
            assertThat(bb.array()).isEqualTo(v);
            ByteBuffer kb = ByteBuffer.allocate(s.keySize());
            s.key(1234, kb);
            assertThat(kb.array()).isEqualTo(s.key(1234));
        }
        assertThat(Shape.of("8x256")).isEqualTo(Shape.K8_V256);
        assertThat(Shape.K8_V256.value(1, 0)).as("filler differs by record").isNotEqualTo(Shape.K8_V256.value(2, 0));
    }

    @Test
    void unmixInvertsMixAndKeyOrderIsSortedPermutation() {
        for (long x : new long[] {0, 1, -1, 42, Long.MIN_VALUE, 0x123456789ABCDEFL}) {
            assertThat(Keys.unmix(Keys.mix(x))).isEqualTo(x);
        }
        int[] order = KeyOrder.of(RECORDS);
        assertThat(Arrays.stream(order).sorted().toArray())
                .isEqualTo(java.util.stream.IntStream.range(0, RECORDS).toArray());
        for (int p = 1; p < RECORDS; p++) {
            assertThat(Arrays.compareUnsigned(Shape.K8_V256.key(order[p - 1]), Shape.K8_V256.key(order[p])))
                    .isNegative();
        }
    }

    @Test
    void insertBatchesAreFreshPerThreadAndSortedWhenSequential() {
        InsertBatch t0 = new InsertBatch(RECORDS, "random", 0, 2);
        InsertBatch t1 = new InsertBatch(RECORDS, "sequential", 1, 2);
        Set<Long> seen = new HashSet<>();
        for (int round = 0; round < 3; round++) {
            t0.next();
            t1.next();
            for (long r : t0.records) {
                assertThat(seen.add(r)).as("record %d inserted once", r).isTrue();
            }
            for (long r : t1.records) {
                assertThat(seen.add(r)).as("record %d inserted once", r).isTrue();
            }
            for (int j = 1; j < InsertBatch.SIZE; j++) {
                assertThat(t0.records[j]).isEqualTo(t0.records[j - 1] + 1);
                assertThat(Long.compareUnsigned(Keys.mix(t1.records[j - 1]), Keys.mix(t1.records[j])))
                        .isNegative();
            }
        }
        assertThat(seen).allMatch(r -> r >= RECORDS);
    }

    @Test
    void recoveryMeasurementReopensTheCollection() {
        String json = Footprint.recovery(20_000, 2);
        assertThat(json).contains("\"slots\": 20000").contains("\"medianOpenSeconds\"");
    }
}
