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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * MapDB 3 {@link HTreeMap} of {@code byte[]} to {@code byte[]} in a file with mmap enabled, no transactions (no
 * write-ahead log, nothing forced). Its {@code get} returns a new array (no caller-buffer API), copied into the
 * caller's buffer here; its {@code put} returns the old value.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
public class MapDbBench implements StoreBench {
    @Param({"1000000"})
    public int keys;

    Path dir;
    DB db;
    HTreeMap<byte[], byte[]> map;
    Workload w;

    @Override
    public void records(int records) {
        keys = records;
    }

    @Override
    @Setup(Level.Trial)
    public void setup() {
        dir = BenchDirs.create("mapdb");
        db = DBMaker.fileDB(dir.resolve("bench.mapdb").toFile())
                .fileMmapEnable()
                .make();
        map = db.hashMap("bench", Serializer.BYTE_ARRAY, Serializer.BYTE_ARRAY).createOrOpen();
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
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    @Benchmark
    public boolean get() {
        w.randomKey();
        byte[] v = map.get(w.key);
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, w.out, 0, Keys.VALUE_SIZE);
        return true;
    }

    @Benchmark
    public byte[] put() {
        int i = w.randomKey();
        w.nextValue(i);
        return map.put(w.key, w.value);
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        byte[] v = map.get(Keys.key(i));
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, out, 0, Keys.VALUE_SIZE);
        return true;
    }

    @Override
    public Path closeKeepingFiles() {
        if (db != null) {
            db.close();
            db = null;
        }
        return dir;
    }

    @Override
    public Workload workload() {
        return w;
    }
}
