package dev.armdb.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileWriter;
import org.rocksdb.WriteOptions;

/**
 * RocksDB JNI with default options plus a 10-bit bloom filter; measured writes go through the WAL, never synced
 * (like armdb NONE, a returned write survives a process crash). The load is RocksDB's bulk load: one SST file
 * written in key order with {@link SstFileWriter} (same table options: bloom filter, Snappy) and ingested, which
 * leaves what loading, flushing and a full compaction would (one sorted run at the bottom level) in a fraction of
 * the time, so reads start from a settled LSM.
 *
 * <p>{@code blockCacheMb} 0 keeps RocksJava's default block cache (far smaller than the data, so most gets read and
 * decompress a block); a size that holds the 1M-record data set gives RocksDB what the mmap stores get from the page
 * cache. The targets are judged on the default.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms8g", "-Xmx8g", "--enable-native-access=ALL-UNNAMED"})
public class RocksDbBench extends EngineBench {
    /** Block cache in MB; 0 = RocksJava's default. */
    @Param({"0", "256"})
    public int blockCacheMb;

    Path dir;
    Options options;
    LRUCache cache;
    BloomFilter bloom;
    WriteOptions writeOptions;
    RocksDB db;

    /** Opens a new database and bulk-loads it. */
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
        Path sst = dir.resolve("load.sst");
        Shape s = shape();
        byte[] key = new byte[s.keySize()];
        byte[] value = new byte[s.valueSize()];
        try (EnvOptions envOptions = new EnvOptions();
                SstFileWriter writer = new SstFileWriter(envOptions, options)) {
            writer.open(sst.toString());
            for (int i : KeyOrder.of(keys)) {
                s.key(i, key);
                s.value(i, 0, value);
                writer.put(key, value);
            }
            writer.finish();
        }
        try (IngestExternalFileOptions ingest = new IngestExternalFileOptions().setMoveFiles(true)) {
            db.ingestExternalFile(List.of(sst.toString()), ingest);
        }
    }

    /** Closes the database and deletes its files. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    /** The next record's value into the thread's caller array. */
    @Benchmark
    public boolean get(Workload w) throws Exception {
        w.next();
        return db.get(w.key, w.out) == w.out.length;
    }

    /** The next record gets a new value. */
    @Benchmark
    public int put(Workload w) throws Exception {
        int i = w.next();
        w.nextValue(i);
        db.put(writeOptions, w.key, w.value);
        return i;
    }

    /** A batch of new records, one put each; see {@link InsertBatch}. */
    @Benchmark
    @OperationsPerInvocation(InsertBatch.SIZE)
    public long insert(Workload w, InsertBatch b) throws Exception {
        b.store = this;
        b.workload = w;
        for (long r : b.records) {
            w.shape.key(r, w.key);
            w.shape.value(r, 0, w.value);
            db.put(writeOptions, w.key, w.value);
        }
        return b.records[0];
    }

    /** Deletes the next record and puts it back with a new value. */
    @Benchmark
    public int deleteInsert(Workload w) throws Exception {
        int i = w.next();
        db.delete(writeOptions, w.key);
        w.nextValue(i);
        db.put(writeOptions, w.key, w.value);
        return i;
    }

    /** Every record once, in key order, with an iterator. */
    @Override
    @Benchmark
    public long iterate() {
        long n = 0;
        long sum = 0;
        try (RocksIterator it = db.newIterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                sum += it.value()[7];
                n++;
            }
        }
        checksum += sum;
        return n;
    }

    /** Up to 100 entries in key order from the next record on, with an iterator. */
    @Benchmark
    public int scan100(Workload w) {
        w.scanStart(ArmdbTreeBench.SCAN);
        return scanFrom(w.key, w);
    }

    /** Up to {@link ArmdbTreeBench#SCAN} entries from {@code from} on; adds their byte 7 to {@code w}'s checksum. */
    int scanFrom(byte[] from, Workload w) {
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
    public void remove(long[] records, Workload w) throws Exception {
        for (long r : records) {
            w.shape.key(r, w.key);
            db.delete(writeOptions, w.key);
        }
    }

    @Override
    public boolean lookup(long i, byte[] out) throws Exception {
        return db.get(shape().key(i), out) == out.length;
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
}
