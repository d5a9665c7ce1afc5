package dev.armdb.bench;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
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
 * armdb {@link FixedMap}, {@link Durability#NONE}, default 16 shards. {@code get} copies into the thread's caller
 * buffer; {@code iterate} is {@link FixedMap#scan}, the allocation-free iteration (slot order, each pair in
 * reused buffers).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms8g", "-Xmx8g"})
public class ArmdbMapBench extends EngineBench {
    Path dir;
    FixedMap map;

    /** The collection config of both armdb stores for {@code shape}. */
    static FixedConfig config(Shape shape) {
        return FixedConfig.builder()
                .keySize(shape.keySize())
                .valueSize(shape.valueSize())
                .durability(Durability.NONE)
                .build();
    }

    /** Opens a new FixedMap and loads it. */
    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = BenchDirs.create("armdb-map");
        map = FixedMap.open(dir, config(shape()));
        load((i, k, v) -> map.put(k, v));
    }

    /** Closes the map and deletes its files. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        if (map != null) {
            map.close();
        }
        BenchDirs.delete(dir);
    }

    /** The next record's value into the thread's caller buffer. */
    @Benchmark
    public boolean get(Workload w) {
        w.next();
        return map.get(w.key, w.out);
    }

    /** The next record gets a new value (copy-on-write update). */
    @Benchmark
    public long put(Workload w) {
        int i = w.next();
        w.nextValue(i);
        return map.put(w.key, w.value);
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
            lsn = map.put(w.key, w.value);
        }
        return lsn;
    }

    /** Deletes the next record and puts it back with a new value. */
    @Benchmark
    public long deleteInsert(Workload w) {
        int i = w.next();
        map.delete(w.key);
        w.nextValue(i);
        return map.put(w.key, w.value);
    }

    /** Every live record once, with {@link FixedMap#forEach}. */
    @Override
    @Benchmark
    public long iterate() {
        long[] acc = new long[1];
        long n = map.scan((k, v) -> {
            acc[0] += v[7];
            return true;
        });
        checksum += acc[0];
        return n;
    }

    @Override
    public void remove(long[] records, Workload w) {
        for (long r : records) {
            w.shape.key(r, w.key);
            map.delete(w.key);
        }
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        return map.get(shape().key(i), out);
    }

    @Override
    public Path closeKeepingFiles() {
        map.close();
        return dir;
    }
}
