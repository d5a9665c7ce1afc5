package dev.armdb.bench;

import dev.armdb.FixedConfig;
import dev.armdb.FixedTree;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * armdb {@link FixedTree} (same config as {@link ArmdbMapBench}): the point operations, a full iteration in key
 * order and a 100-key range scan, both through the allocation-free {@link FixedTree#scan}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms8g", "-Xmx8g"})
public class ArmdbTreeBench extends ArmdbStoreBench<FixedTree> {
    /** Entries one scan reads. */
    public static final int SCAN = 100;

    @Override
    FixedTree open(Path dir, FixedConfig config) {
        return FixedTree.open(dir, config);
    }

    @Override
    String dirPrefix() {
        return "armdb-tree";
    }

    /** Every live record once, in key order. */
    @Override
    @Benchmark
    public long iterate() {
        long[] sum = new long[1];
        long n = store.scan(null, null, (k, v) -> {
            sum[0] += v[7];
            return true;
        });
        checksum += sum[0];
        return n;
    }

    /** Up to 100 entries in key order from the next record on (random, or the range after the previous scan). */
    @Benchmark
    public int scan100(Workload w) {
        w.scanStart(SCAN);
        return scanFrom(w.key, w);
    }

    /** Up to {@link #SCAN} entries from {@code from} on; adds their values' byte 7 to {@code w}'s checksum. */
    int scanFrom(byte[] from, Workload w) {
        long[] sum = new long[1];
        int[] n = new int[1];
        store.scan(from, null, (k, v) -> {
            sum[0] += v[7];
            return ++n[0] < SCAN;
        });
        w.sink += sum[0];
        return n[0];
    }
}
