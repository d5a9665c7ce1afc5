package dev.armdb.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.Txn;
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
 * LMDB through lmdbjava with direct {@link ByteBuffer}s, {@code MDB_NOSYNC | MDB_NOMETASYNC} (no fsync; like armdb
 * NONE, a returned write survives a process crash), {@code MDB_NORDAHEAD} for random access. Reads reuse one
 * read transaction ({@code renew}/{@code reset} around each operation, the documented cheap way); each update is its
 * own write transaction, as a single put is.
 *
 * <p>lmdbjava reaches into direct buffers, so these forks (and only these) get {@code --add-opens}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Xms4g",
            "-Xmx4g",
            "--add-opens",
            "java.base/java.nio=ALL-UNNAMED",
            "--add-opens",
            "java.base/sun.nio.ch=ALL-UNNAMED",
            "--enable-native-access=ALL-UNNAMED"
        })
public class LmdbBench implements StoreBench {
    @Param({"1000000"})
    public int keys;

    Path dir;
    Env<ByteBuffer> env;
    Dbi<ByteBuffer> dbi;
    Txn<ByteBuffer> readTxn;
    final ByteBuffer key = ByteBuffer.allocateDirect(Keys.KEY_SIZE);
    final ByteBuffer value = ByteBuffer.allocateDirect(Keys.VALUE_SIZE);
    Workload w;

    @Override
    public void records(int records) {
        keys = records;
    }

    @Override
    @Setup(Level.Trial)
    public void setup() {
        dir = BenchDirs.create("lmdb");
        env = Env.create()
                .setMapSize(Math.max(1L << 30, keys * 400L))
                .setMaxDbs(1)
                .open(dir.toFile(), EnvFlags.MDB_NOSYNC, EnvFlags.MDB_NOMETASYNC, EnvFlags.MDB_NORDAHEAD);
        dbi = env.openDbi("bench", DbiFlags.MDB_CREATE);
        w = new Workload(keys, 1);
        int batch = 100_000;
        for (int start = 0; start < keys; start += batch) {
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                for (int i = start; i < Math.min(keys, start + batch); i++) {
                    Keys.key(i, key);
                    Keys.value(i, 0, value);
                    dbi.put(txn, key, value);
                }
                txn.commit();
            }
        }
        readTxn = env.txnRead();
        readTxn.reset();
    }

    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    /** Uniform random key; the value is copied out of the map into a reused caller array. */
    @Benchmark
    public boolean get() {
        Keys.key(w.randomIndex(), key);
        readTxn.renew();
        try {
            ByteBuffer v = dbi.get(readTxn, key);
            if (v == null) {
                return false;
            }
            v.get(0, w.out);
            return true;
        } finally {
            readTxn.reset();
        }
    }

    /** Uniform random existing key gets a new value, one write transaction per put. */
    @Benchmark
    public boolean put() {
        int i = w.randomIndex();
        Keys.key(i, key);
        Keys.value(i, ++w.version, value);
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            boolean stored = dbi.put(txn, key, value);
            txn.commit();
            return stored;
        }
    }

    /** Up to 100 entries in key order from a uniform random existing key on, with a cursor. */
    @Benchmark
    public int scan100() {
        Keys.key(w.randomIndex(), key);
        return scanFromKeyBuffer();
    }

    /** Scans from the key now in {@link #key}. */
    int scanFromKeyBuffer() {
        readTxn.renew();
        int n = 0;
        long sum = 0;
        try (Cursor<ByteBuffer> c = dbi.openCursor(readTxn)) {
            if (c.get(key, GetOp.MDB_SET_RANGE)) {
                do {
                    sum += c.val().get(7);
                    n++;
                } while (n < ArmdbTreeBench.SCAN && c.next());
            }
        } finally {
            readTxn.reset();
        }
        w.sink += sum;
        return n;
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        Keys.key(i, key);
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            ByteBuffer v = dbi.get(txn, key);
            if (v == null) {
                return false;
            }
            v.get(0, out);
            return true;
        }
    }

    @Override
    public Path closeKeepingFiles() {
        if (readTxn != null) {
            readTxn.close();
            readTxn = null;
        }
        if (env != null) {
            env.sync(true);
            env.close();
            env = null;
        }
        return dir;
    }

    @Override
    public Workload workload() {
        return w;
    }
}
