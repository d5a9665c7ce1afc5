package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every engine benchmark's setup and {@code @Benchmark} methods in-process at 10,000 keys (not through the JMH
 * runner) and checks what they read and wrote, so the benchmarks cannot rot.
 */
class EngineBenchSmokeTest {
    private static final int RECORDS = 10_000;
    private static final int OPS = 2_000;

    /** How to call one store's benchmark methods: get (true if found), put (any result). */
    record Case(String name, Supplier<StoreBench> make, Predicate<StoreBench> get, Predicate<StoreBench> put) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> stores() {
        return Stream.of(
                        new Case(
                                "armdb FixedMap",
                                ArmdbMapBench::new,
                                b -> ((ArmdbMapBench) b).get(),
                                b -> ((ArmdbMapBench) b).put() > 0),
                        new Case(
                                "armdb FixedTree",
                                ArmdbTreeBench::new,
                                b -> ((ArmdbTreeBench) b).get(),
                                b -> ((ArmdbTreeBench) b).put() > 0),
                        new Case("LMDB", LmdbBench::new, b -> ((LmdbBench) b).get(), b -> ((LmdbBench) b).put()),
                        new Case(
                                "RocksDB",
                                RocksDbBench::new,
                                b -> uncheckedGet((RocksDbBench) b),
                                b -> uncheckedPut((RocksDbBench) b) >= 0),
                        new Case(
                                "MapDB",
                                MapDbBench::new,
                                b -> ((MapDbBench) b).get(),
                                b -> ((MapDbBench) b).put() != null),
                        new Case(
                                "Chronicle Map",
                                ChronicleMapBench::new,
                                b -> ((ChronicleMapBench) b).get(),
                                b -> ((ChronicleMapBench) b).put() != null),
                        new Case(
                                "ConcurrentHashMap",
                                ChmBench::new,
                                b -> ((ChmBench) b).get(),
                                b -> ((ChmBench) b).put() != null))
                .map(Arguments::of);
    }

    private static boolean uncheckedGet(RocksDbBench b) {
        try {
            return b.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int uncheckedPut(RocksDbBench b) {
        try {
            return b.put();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void getFindsLoadedValuesAndPutUpdatesThem(Case c) throws Exception {
        assumeFlagsFor(c.name());
        StoreBench b = c.make().get();
        b.records(RECORDS);
        b.setup();
        Path dir = null;
        try {
            Workload w = b.workload();
            for (int n = 0; n < OPS; n++) {
                assertThat(c.get().test(b)).as("get #%d", n).isTrue();
                assertThat(w.last).isBetween(0, RECORDS - 1);
                assertThat(w.out).as("value of record %d", w.last).isEqualTo(Keys.value(w.last, 0));
            }
            Set<Integer> updated = new HashSet<>();
            for (int n = 0; n < OPS; n++) {
                long before = w.version;
                c.put().test(b);
                assertThat(w.version).isEqualTo(before + 1);
                updated.add(w.last);
                byte[] out = new byte[Keys.VALUE_SIZE];
                assertThat(b.lookup(w.last, out)).isTrue();
                assertThat(out).as("record %d after put", w.last).isEqualTo(Keys.value(w.last, w.version));
            }
            assertThat(updated).hasSizeGreaterThan(OPS / 2); // random keys, not one key over and over
            // the benchmark get now sees updated values of the right records
            for (int n = 0; n < 100; n++) {
                assertThat(c.get().test(b)).isTrue();
                assertThat(Keys.recordOf(w.out)).isEqualTo(w.last);
            }
            dir = b.closeKeepingFiles();
            if (dir != null) {
                assertThat(BenchDirs.bytes(dir)).isGreaterThan((long) RECORDS * (Keys.KEY_SIZE + Keys.VALUE_SIZE));
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

    /** Index of the record with the smallest key: a scan from it reads 100 entries. */
    private static int smallestKeyRecord() {
        int best = 0;
        for (int i = 1; i < RECORDS; i++) {
            if (Long.compareUnsigned(Keys.mix(i), Keys.mix(best)) < 0) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void rangeScansReadTheSameHundredEntriesInEveryOrderedStore() throws Exception {
        int start = smallestKeyRecord();
        long[] sums = new long[3];
        ArmdbTreeBench tree = new ArmdbTreeBench();
        tree.records(RECORDS);
        tree.setup();
        try {
            assertThat(tree.scanFrom(Keys.key(start))).isEqualTo(ArmdbTreeBench.SCAN);
            sums[0] = tree.w.sink;
            for (int n = 0; n < 200; n++) {
                assertThat(tree.scan100()).isBetween(1, ArmdbTreeBench.SCAN);
            }
        } finally {
            tree.tearDown();
        }
        RocksDbBench rocks = new RocksDbBench();
        rocks.records(RECORDS);
        rocks.setup();
        try {
            assertThat(rocks.scanFrom(Keys.key(start))).isEqualTo(ArmdbTreeBench.SCAN);
            sums[1] = rocks.w.sink;
            for (int n = 0; n < 200; n++) {
                assertThat(rocks.scan100()).isBetween(1, ArmdbTreeBench.SCAN);
            }
        } finally {
            rocks.tearDown();
        }
        assertThat(sums[1]).as("RocksDB scan checksum equals FixedTree's").isEqualTo(sums[0]);
        if (peerFlagsPresent()) {
            LmdbBench lmdb = new LmdbBench();
            lmdb.records(RECORDS);
            lmdb.setup();
            try {
                Keys.key(start, lmdb.key);
                assertThat(lmdb.scanFromKeyBuffer()).isEqualTo(ArmdbTreeBench.SCAN);
                sums[2] = lmdb.w.sink;
                for (int n = 0; n < 200; n++) {
                    assertThat(lmdb.scan100()).isBetween(1, ArmdbTreeBench.SCAN);
                }
            } finally {
                lmdb.tearDown();
            }
            assertThat(sums[2]).as("LMDB scan checksum equals FixedTree's").isEqualTo(sums[0]);
        }
    }

    @Test
    void keysAreDistinctAndValuesCarryRecordAndVersion() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < RECORDS; i++) {
            assertThat(seen.add(Arrays.toString(Keys.key(i)))).isTrue();
        }
        byte[] v = Keys.value(1234, 56);
        assertThat(Keys.recordOf(v)).isEqualTo(1234);
        assertThat(Keys.versionOf(v)).isEqualTo(56);
        ByteBuffer bb = ByteBuffer.allocate(Keys.VALUE_SIZE);
        Keys.value(1234, 56, bb);
        assertThat(bb.array()).isEqualTo(v);
    }

    @Test
    void recoveryMeasurementReopensTheCollection() {
        String json = Footprint.recovery(20_000, 2);
        assertThat(json).contains("\"slots\": 20000").contains("\"medianOpenSeconds\"");
    }
}
