package dev.armdb.bench;

import dev.armdb.FixedTree;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** armdb {@link FixedTree} (same config as {@link ArmdbMapBench}): get, update, and a 100-key range scan. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
public class ArmdbTreeBench implements StoreBench {
    /** Entries one scan reads. */
    public static final int SCAN = 100;

    @Param({"1000000"})
    public int keys;

    Path dir;
    FixedTree tree;
    Workload w;

    @Override
    public void records(int records) {
        keys = records;
    }

    @Override
    @Setup(Level.Trial)
    public void setup() {
        dir = BenchDirs.create("armdb-tree");
        tree = FixedTree.open(dir, ArmdbMapBench.config());
        w = new Workload(keys, 1);
        for (int i = 0; i < keys; i++) {
            Keys.key(i, w.key);
            Keys.value(i, 0, w.value);
            tree.put(w.key, w.value);
        }
    }

    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        if (tree != null) {
            tree.close();
        }
        BenchDirs.delete(dir);
    }

    @Benchmark
    public boolean get() {
        w.randomKey();
        return tree.get(w.key, w.out);
    }

    @Benchmark
    public long put() {
        int i = w.randomKey();
        w.nextValue(i);
        return tree.put(w.key, w.value);
    }

    /** Reads up to 100 entries in key order from a uniform random existing key on. */
    @Benchmark
    public int scan100() {
        w.randomKey();
        return scanFrom(w.key);
    }

    /** Up to {@link #SCAN} entries from {@code from} on; adds their values' first bytes to the workload checksum. */
    int scanFrom(byte[] from) {
        Iterator<FixedTree.Entry> it = tree.range(from, null);
        int n = 0;
        long sum = 0;
        while (n < SCAN && it.hasNext()) {
            FixedTree.Entry e = it.next();
            sum += e.value()[7];
            n++;
        }
        w.sink += sum;
        return n;
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        return tree.get(Keys.key(i), out);
    }

    @Override
    public Path closeKeepingFiles() {
        tree.close();
        return dir;
    }

    @Override
    public Workload workload() {
        return w;
    }
}
