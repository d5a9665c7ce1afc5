package dev.armdb.bench;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
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
public class ArmdbMapBench extends ArmdbStoreBench<FixedMap> {
    @Override
    FixedMap open(Path dir, FixedConfig config) {
        return FixedMap.open(dir, config);
    }

    @Override
    String dirPrefix() {
        return "armdb-map";
    }

    /** Every live record once, with {@link FixedMap#scan}. */
    @Override
    @Benchmark
    public long iterate() {
        long[] acc = new long[1];
        long n = store.scan((k, v) -> {
            acc[0] += v[7];
            return true;
        });
        checksum += acc[0];
        return n;
    }
}
