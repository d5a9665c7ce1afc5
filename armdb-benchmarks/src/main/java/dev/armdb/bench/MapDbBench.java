package dev.armdb.bench;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;
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
 * MapDB 3 {@link HTreeMap} of {@code byte[]} to {@code byte[]} in a file with mmap enabled, no transactions (no
 * write-ahead log, nothing forced). Its {@code get} returns a new array (no caller-buffer API), copied into the
 * caller's buffer here; its {@code put} and {@code remove} return the old value (MapDB 3.1 has no variant that does
 * not). {@code iterate} is the map's {@code forEach} (hash order).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms8g", "-Xmx8g"})
public class MapDbBench extends EngineBench {
    Path dir;
    DB db;
    HTreeMap<byte[], byte[]> map;

    /** Opens a new file store and loads it. */
    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = BenchDirs.create("mapdb");
        db = DBMaker.fileDB(dir.resolve("bench.mapdb").toFile())
                .fileMmapEnable()
                .make();
        map = db.hashMap("bench", Serializer.BYTE_ARRAY, Serializer.BYTE_ARRAY).createOrOpen();
        load((i, k, v) -> map.put(k, v));
    }

    /** Closes the store and deletes its files. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    /** The next record's value (a new array from MapDB) copied into the thread's caller buffer. */
    @Benchmark
    public boolean get(Workload w) {
        w.next();
        byte[] v = map.get(w.key);
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, w.out, 0, v.length);
        return true;
    }

    /** The next record gets a new value. */
    @Benchmark
    public byte[] put(Workload w) {
        int i = w.next();
        w.nextValue(i);
        return map.put(w.key, w.value);
    }

    /** A batch of new records, one put each; see {@link InsertBatch}. */
    @Benchmark
    @OperationsPerInvocation(InsertBatch.SIZE)
    public int insert(Workload w, InsertBatch b) {
        b.store = this;
        b.workload = w;
        int added = 0;
        for (long r : b.records) {
            w.shape.key(r, w.key);
            w.shape.value(r, 0, w.value);
            added += map.put(w.key, w.value) == null ? 1 : 0;
        }
        return added;
    }

    /** Deletes the next record and puts it back with a new value. */
    @Benchmark
    public byte[] deleteInsert(Workload w) {
        int i = w.next();
        map.remove(w.key);
        w.nextValue(i);
        return map.put(w.key, w.value);
    }

    /** Every record once, with the map's {@code forEach}. */
    @Override
    @Benchmark
    public long iterate() {
        long[] acc = ByteArrayMaps.countAndSum(map);
        checksum += acc[1];
        return acc[0];
    }

    @Override
    public void remove(long[] records, Workload w) {
        ByteArrayMaps.remove(map, records, w);
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        return ByteArrayMaps.lookup(map, shape().key(i), out);
    }

    @Override
    public Path closeKeepingFiles() {
        if (db != null) {
            db.close();
            db = null;
        }
        return dir;
    }
}
