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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The in-memory bound: a presized {@link ConcurrentHashMap} from a key wrapper to a value array, nothing persisted.
 * Lookups and updates use one reused probe key per thread, so the only allocation left is what a write must keep:
 * the copy of the value, and for a new key the key, its wrapper and the map's node. Every fork gets the same 8 GB
 * heap, which the 10M x 256-byte data set needs here.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms8g", "-Xmx8g"})
public class ChmBench extends EngineBench {
    ConcurrentHashMap<ByteKey, byte[]> map;

    /** A byte array compared by content, with its hash cached. */
    static final class ByteKey {
        final byte[] bytes;
        int hash;

        ByteKey(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        /** Makes this probe hold the bytes now in {@code key} (only for probes, never for keys inside the map). */
        void set(byte[] key) {
            System.arraycopy(key, 0, bytes, 0, bytes.length);
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

    /** Makes a presized map and loads it. */
    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        map = new ConcurrentHashMap<>(keys * 4 / 3 + 16);
        load((i, k, v) -> map.put(new ByteKey(k.clone()), v.clone()));
    }

    /** Drops the map. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        map = null;
    }

    /** The calling thread's probe key holding the key now in {@code w.key}. */
    private static ByteKey probe(Workload w) {
        ByteKey p;
        if (w.local instanceof ByteKey k) {
            p = k;
        } else {
            p = new ByteKey(new byte[w.key.length]);
            w.local = p;
        }
        p.set(w.key);
        return p;
    }

    /** The next record's value copied into the thread's caller buffer. */
    @Benchmark
    public boolean get(Workload w) {
        w.next();
        byte[] v = map.get(probe(w));
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, w.out, 0, v.length);
        return true;
    }

    /**
     * The next record gets a new value. Putting with the probe is safe because the key exists: the map keeps its own
     * key object and only swaps the value.
     */
    @Benchmark
    public byte[] put(Workload w) {
        int i = w.next();
        w.nextValue(i);
        return map.put(probe(w), w.value.clone());
    }

    /** A batch of new records, one put each (new key wrapper and copies); see {@link InsertBatch}. */
    @Benchmark
    @OperationsPerInvocation(InsertBatch.SIZE)
    public int insert(Workload w, InsertBatch b) {
        b.store = this;
        b.workload = w;
        int added = 0;
        for (long r : b.records) {
            w.shape.key(r, w.key);
            w.shape.value(r, 0, w.value);
            added += map.put(new ByteKey(w.key.clone()), w.value.clone()) == null ? 1 : 0;
        }
        return added;
    }

    /** Deletes the next record and puts it back with a new value (a new key wrapper: the old one left the map). */
    @Benchmark
    public byte[] deleteInsert(Workload w) {
        int i = w.next();
        map.remove(probe(w));
        w.nextValue(i);
        return map.put(new ByteKey(w.key.clone()), w.value.clone());
    }

    /** Every entry once, with the map's {@code forEach} (hash order). */
    @Override
    @Benchmark
    public long iterate() {
        long[] acc = ByteArrayMaps.countAndSum(map);
        checksum += acc[1];
        return acc[0];
    }

    @Override
    public void remove(long[] records, Workload w) {
        for (long r : records) {
            w.shape.key(r, w.key);
            map.remove(probe(w));
        }
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        byte[] v = map.get(new ByteKey(shape().key(i)));
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, out, 0, v.length);
        return true;
    }

    @Override
    public Path closeKeepingFiles() {
        return null;
    }
}
