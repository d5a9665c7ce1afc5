package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * get into a caller buffer, put (insert and update) and delete allocate nothing once compiled. Measured with the
 * JVM's per-thread allocation counter over many operations after a warm-up; JMH with -prof gc measures the same
 * in the benchmarks module.
 */
class AllocationFreeHotPathTest {
    private static final int KEYS = 20_000;

    @TempDir
    Path dir;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static void key(byte[] k, int i) {
        k[0] = (byte) i;
        k[1] = (byte) (i >>> 8);
        k[2] = (byte) (i >>> 16);
        k[3] = (byte) (i >>> 24);
    }

    private static long round(FixedStore map, byte[] k, byte[] v, byte[] out) {
        long sink = 0;
        for (int i = 0; i < KEYS; i++) {
            key(k, i);
            v[0] = (byte) i;
            sink += map.put(k, v);
        }
        for (int i = 0; i < KEYS; i++) {
            key(k, i);
            sink += map.get(k, out) ? out[0] : 0;
        }
        for (int i = 0; i < KEYS; i += 2) {
            key(k, i);
            sink += map.delete(k) != FixedStore.UNCHANGED ? 1 : 0;
        }
        return sink;
    }

    private void assertAllocationFree(FixedStore map) {
        byte[] k = new byte[16];
        byte[] v = new byte[32];
        byte[] out = new byte[32];
        long sink = 0;
        for (int warm = 0; warm < 30; warm++) {
            sink += round(map, k, v, out);
        }
        long before = allocatedBytes();
        for (int r = 0; r < 5; r++) {
            sink += round(map, k, v, out);
        }
        long perOp = (allocatedBytes() - before) / (5L * (KEYS * 2 + KEYS / 2));
        assertThat(sink).isNotZero();
        assertThat(perOp).as("bytes allocated per put/get/delete").isZero();
    }

    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(16)
                .valueSize(32)
                .shards(4)
                .durability(Durability.NONE)
                .build();
    }

    @Test
    void fixedMapHotPathsAllocateNothing() {
        try (FixedMap map = FixedMap.open(dir, config())) {
            assertAllocationFree(map);
        }
    }

    @Test
    void scanVisitsEveryLivePairOnceWithoutAllocatingPerPair() {
        try (FixedMap map = FixedMap.open(dir, config())) {
            round(map, new byte[16], new byte[32], new byte[32]);
            java.util.Map<String, String> expected = new java.util.HashMap<>();
            map.forEach((k, v) -> expected.put(
                    java.util.HexFormat.of().formatHex(k),
                    java.util.HexFormat.of().formatHex(v)));
            java.util.Map<String, String> seen = new java.util.HashMap<>();
            long n = map.scan((k, v) -> {
                seen.put(
                        java.util.HexFormat.of().formatHex(k),
                        java.util.HexFormat.of().formatHex(v));
                return true;
            });
            assertThat(n).isEqualTo(KEYS / 2).isEqualTo(map.size());
            assertThat(seen).isEqualTo(expected);
            assertThat(map.scan((k, v) -> false)).as("stops at the first false").isEqualTo(1);

            long[] sum = new long[1];
            FixedStore.PairVisitor visitor = (k, v) -> {
                sum[0] += v[0] + k[1];
                return true;
            };
            for (int warm = 0; warm < 300; warm++) {
                map.scan(visitor);
            }
            long before = allocatedBytes();
            for (int r = 0; r < 20; r++) {
                map.scan(visitor);
            }
            long perPair = (allocatedBytes() - before) / (20L * (KEYS / 2));
            assertThat(sum[0]).isNotZero();
            assertThat(perPair).as("bytes allocated per pair scanned").isZero();
        }
    }

    @Test
    void orderedScanAllocatesNothingPerPair() {
        try (FixedTree tree = FixedTree.open(dir, config())) {
            round(tree, new byte[16], new byte[32], new byte[32]);
            long[] sum = new long[1];
            FixedStore.PairVisitor visitor = (k, v) -> {
                sum[0] += v[0] + k[1];
                return true;
            };
            assertThat(tree.scan(null, null, visitor)).isEqualTo(KEYS / 2);
            for (int warm = 0; warm < 500; warm++) {
                tree.scan(null, null, visitor);
            }
            long pairs = 0;
            long before = allocatedBytes();
            for (int r = 0; r < 20; r++) {
                pairs += tree.scan(null, null, visitor);
            }
            long perPair = (allocatedBytes() - before) / pairs;
            assertThat(sum[0]).isNotZero();
            assertThat(perPair)
                    .as("bytes allocated per pair of an ordered scan")
                    .isZero();
        }
    }
}
