package dev.armdb.bench;

import dev.armdb.FixedTree;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

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
public class ArmdbTreeBench extends EngineBench {
    /** Entries one scan reads. */
    public static final int SCAN = 100;

    Path dir;
    FixedTree tree;

    /** Opens a new FixedTree and loads it. */
    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = BenchDirs.create("armdb-tree");
        tree = FixedTree.open(dir, ArmdbMapBench.config(shape()));
        load((i, k, v) -> tree.put(k, v));
    }

    /** Closes the tree and deletes its files. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        if (tree != null) {
            tree.close();
        }
        BenchDirs.delete(dir);
    }

    /** The next record's value into the thread's caller buffer. */
    @Benchmark
    public boolean get(Workload w) {
        w.next();
        return tree.get(w.key, w.out);
    }

    /** The next record gets a new value. */
    @Benchmark
    public long put(Workload w) {
        int i = w.next();
        w.nextValue(i);
        return tree.put(w.key, w.value);
    }

    /** A batch of new records, one put each; see {@link InsertBatch}. */
    @Benchmark
    @OperationsPerInvocation(InsertBatch.SIZE)
    public long insert(Workload w, InsertBatch b) {
        b.store = this;
        b.workload = w;
        long lsn = 0;
        for (long r : b.records) {
            w.shape.key(r, w.key);
            w.shape.value(r, 0, w.value);
            lsn = tree.put(w.key, w.value);
        }
        return lsn;
    }

    /** Deletes the next record and puts it back with a new value. */
    @Benchmark
    public long deleteInsert(Workload w) {
        int i = w.next();
        tree.delete(w.key);
        w.nextValue(i);
        return tree.put(w.key, w.value);
    }

    /** Every live record once, in key order. */
    @Override
    @Benchmark
    public long iterate() {
        long[] sum = new long[1];
        long n = tree.scan(null, null, (k, v) -> {
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
        tree.scan(from, null, (k, v) -> {
            sum[0] += v[7];
            return ++n[0] < SCAN;
        });
        w.sink += sum[0];
        return n[0];
    }

    @Override
    public void remove(long[] records, Workload w) {
        for (long r : records) {
            w.shape.key(r, w.key);
            tree.delete(w.key);
        }
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        return tree.get(shape().key(i), out);
    }

    @Override
    public Path closeKeepingFiles() {
        tree.close();
        return dir;
    }
}
