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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** armdb {@link FixedMap}, {@link Durability#NONE}, default 16 shards: random get into a caller buffer, random update. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
public class ArmdbMapBench implements StoreBench {
    @Param({"1000000"})
    public int keys;

    Path dir;
    FixedMap map;
    Workload w;

    static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(Keys.KEY_SIZE)
                .valueSize(Keys.VALUE_SIZE)
                .durability(Durability.NONE)
                .build();
    }

    @Override
    public void records(int records) {
        keys = records;
    }

    @Override
    @Setup(Level.Trial)
    public void setup() {
        dir = BenchDirs.create("armdb-map");
        map = FixedMap.open(dir, config());
        w = new Workload(keys, 1);
        for (int i = 0; i < keys; i++) {
            Keys.key(i, w.key);
            Keys.value(i, 0, w.value);
            map.put(w.key, w.value);
        }
    }

    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        if (map != null) {
            map.close();
        }
        BenchDirs.delete(dir);
    }

    /** Uniform random key; the value is copied into a reused caller buffer. */
    @Benchmark
    public boolean get() {
        w.randomKey();
        return map.get(w.key, w.out);
    }

    /** Uniform random existing key gets a new value (copy-on-write update). */
    @Benchmark
    public long put() {
        int i = w.randomKey();
        w.nextValue(i);
        return map.put(w.key, w.value);
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        return map.get(Keys.key(i), out);
    }

    @Override
    public Path closeKeepingFiles() {
        map.close();
        return dir;
    }

    @Override
    public Workload workload() {
        return w;
    }
}
