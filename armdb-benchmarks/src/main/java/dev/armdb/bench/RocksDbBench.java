package dev.armdb.bench;

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
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * RocksDB JNI with default options plus a 10-bit bloom filter, WAL on but never synced (like armdb NONE, a returned
 * write survives a process crash). After loading, the memtable is flushed and the tree compacted once, so reads
 * start from a settled LSM.
 *
 * <p>{@code blockCacheMb} 0 keeps RocksJava's default block cache (8 MB, far smaller than the data, so most gets
 * read and decompress a block); a size that holds the data set gives RocksDB what the mmap stores get from the page
 * cache. Both run by default.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms4g", "-Xmx4g", "--enable-native-access=ALL-UNNAMED"})
public class RocksDbBench implements StoreBench {
    @Param({"1000000"})
    public int keys;

    /** Block cache in MB; 0 = RocksJava's default. */
    @Param({"0", "256"})
    public int blockCacheMb;

    Path dir;
    Options options;
    LRUCache cache;
    BloomFilter bloom;
    WriteOptions writeOptions;
    RocksDB db;
    Workload w;

    @Override
    public void records(int records) {
        keys = records;
    }

    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        RocksDB.loadLibrary();
        dir = BenchDirs.create("rocksdb");
        bloom = new BloomFilter(10);
        BlockBasedTableConfig table = new BlockBasedTableConfig().setFilterPolicy(bloom);
        if (blockCacheMb > 0) {
            cache = new LRUCache((long) blockCacheMb << 20);
            table.setBlockCache(cache);
        }
        options = new Options().setCreateIfMissing(true).setTableFormatConfig(table);
        writeOptions = new WriteOptions().setSync(false);
        db = RocksDB.open(options, dir.toString());
        w = new Workload(keys, 1);
        for (int i = 0; i < keys; i++) {
            Keys.key(i, w.key);
            Keys.value(i, 0, w.value);
            db.put(writeOptions, w.key, w.value);
        }
        try (FlushOptions f = new FlushOptions().setWaitForFlush(true)) {
            db.flush(f);
        }
        db.compactRange();
    }

    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    /** Uniform random key; the value is copied into a reused caller array. */
    @Benchmark
    public boolean get() throws Exception {
        w.randomKey();
        return db.get(w.key, w.out) == Keys.VALUE_SIZE;
    }

    /** Uniform random existing key gets a new value. */
    @Benchmark
    public int put() throws Exception {
        int i = w.randomKey();
        w.nextValue(i);
        db.put(writeOptions, w.key, w.value);
        return i;
    }

    /** Up to 100 entries in key order from a uniform random existing key on, with an iterator. */
    @Benchmark
    public int scan100() {
        w.randomKey();
        return scanFrom(w.key);
    }

    int scanFrom(byte[] from) {
        int n = 0;
        long sum = 0;
        try (RocksIterator it = db.newIterator()) {
            for (it.seek(from); n < ArmdbTreeBench.SCAN && it.isValid(); it.next()) {
                sum += it.value()[7];
                n++;
            }
        }
        w.sink += sum;
        return n;
    }

    @Override
    public boolean lookup(long i, byte[] out) throws Exception {
        return db.get(Keys.key(i), out) == Keys.VALUE_SIZE;
    }

    @Override
    public Path closeKeepingFiles() {
        if (db != null) {
            db.close();
            db = null;
            writeOptions.close();
            options.close();
            bloom.close();
            if (cache != null) {
                cache.close();
            }
        }
        return dir;
    }

    @Override
    public Workload workload() {
        return w;
    }
}
