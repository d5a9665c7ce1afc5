package dev.armdb.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
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

/**
 * The in-memory bound: a presized {@link ConcurrentHashMap} from a 16-byte key wrapper to a 32-byte array, nothing
 * persisted. Lookups and updates use one reused probe key, so the only allocation left is what a put must keep:
 * the copy of the value (a map cannot keep the caller's buffer).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
public class ChmBench implements StoreBench {
    @Param({"1000000"})
    public int keys;

    ConcurrentHashMap<ByteKey, byte[]> map;
    final ByteKey probe = new ByteKey(new byte[Keys.KEY_SIZE]);
    Workload w;

    /** A byte array compared by content, with its hash cached. */
    static final class ByteKey {
        final byte[] bytes;
        int hash;

        ByteKey(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        /** Makes this key record {@code i}'s key (only for probes, never for keys inside the map). */
        void set(long i) {
            Keys.key(i, bytes);
            hash = Arrays.hashCode(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ByteKey k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    @Override
    public void records(int records) {
        keys = records;
    }

    @Override
    @Setup(Level.Trial)
    public void setup() {
        map = new ConcurrentHashMap<>(keys * 4 / 3 + 16);
        w = new Workload(keys, 1);
        for (int i = 0; i < keys; i++) {
            map.put(new ByteKey(Keys.key(i)), Keys.value(i, 0));
        }
    }

    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        map = null;
    }

    @Benchmark
    public boolean get() {
        probe.set(w.randomIndex());
        byte[] v = map.get(probe);
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, w.out, 0, Keys.VALUE_SIZE);
        return true;
    }

    /**
     * Uniform random existing key gets a new value. Putting with the probe is safe because the key exists: the map
     * keeps its own key object and only swaps the value.
     */
    @Benchmark
    public byte[] put() {
        int i = w.randomIndex();
        probe.set(i);
        w.nextValue(i);
        return map.put(probe, w.value.clone());
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        byte[] v = map.get(new ByteKey(Keys.key(i)));
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, out, 0, Keys.VALUE_SIZE);
        return true;
    }

    @Override
    public Path closeKeepingFiles() {
        return null;
    }

    @Override
    public Workload workload() {
        return w;
    }
}
