package dev.armdb.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * LMDB through lmdbjava with direct {@link ByteBuffer}s and {@code MDB_NOSYNC | MDB_NOMETASYNC} (no fsync; like
 * armdb NONE, a returned write survives a process crash), {@code MDB_NORDAHEAD} for random access and {@code
 * MDB_NOTLS} so read transactions are not bound to threads. With {@code writeMap=true} (the configuration the
 * targets are judged on) writes go straight into the shared file mapping ({@code MDB_WRITEMAP}), as armdb's do;
 * {@code false} writes dirty pages with {@code pwrite} at each commit.
 *
 * <p>Each benchmark thread reuses one read transaction ({@code renew}/{@code reset} around each read, the
 * documented cheap way) and its own key and value buffers. Every write is its own write transaction, as a single
 * put is; {@code deleteInsert} is two. The load commits one transaction per 100,000 records.
 *
 * <p>lmdbjava reaches into direct buffers, so these forks (and only these) get {@code --add-opens}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Xms8g",
            "-Xmx8g",
            "--add-opens",
            "java.base/java.nio=ALL-UNNAMED",
            "--add-opens",
            "java.base/sun.nio.ch=ALL-UNNAMED",
            "--enable-native-access=ALL-UNNAMED"
        })
public class LmdbBench extends EngineBench {
    /** Records per write transaction while loading. */
    static final int LOAD_BATCH = 100_000;

    /** {@code MDB_WRITEMAP} on or off. */
    @Param({"true", "false"})
    public boolean writeMap;

    Path dir;
    Env<ByteBuffer> env;
    Dbi<ByteBuffer> dbi;
    private final List<Local> locals = new ArrayList<>();

    /** One thread's read transaction and buffers. */
    static final class Local {
        final Txn<ByteBuffer> readTxn;
        final ByteBuffer key;
        final ByteBuffer value;

        Local(Env<ByteBuffer> env, Shape shape) {
            readTxn = env.txnRead();
            readTxn.reset();
            key = ByteBuffer.allocateDirect(shape.keySize());
            value = ByteBuffer.allocateDirect(shape.valueSize());
        }
    }

    /** Opens a new environment and loads it. */
    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        Shape s = shape();
        dir = BenchDirs.create("lmdb");
        List<EnvFlags> flags = new ArrayList<>(
                List.of(EnvFlags.MDB_NOSYNC, EnvFlags.MDB_NOMETASYNC, EnvFlags.MDB_NORDAHEAD, EnvFlags.MDB_NOTLS));
        if (writeMap) {
            flags.add(EnvFlags.MDB_WRITEMAP);
        }
        env = Env.create()
                .setMapSize(Math.max(1L << 30, keys * (s.recordBytes() * 3L + 256)))
                .setMaxDbs(1)
                .open(dir.toFile(), flags.toArray(new EnvFlags[0]));
        dbi = env.openDbi("bench", DbiFlags.MDB_CREATE);
        ByteBuffer key = ByteBuffer.allocateDirect(s.keySize());
        ByteBuffer value = ByteBuffer.allocateDirect(s.valueSize());
        for (int start = 0; start < keys; start += LOAD_BATCH) {
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                for (int i = start; i < Math.min(keys, start + LOAD_BATCH); i++) {
                    s.key(i, key);
                    s.value(i, 0, value);
                    dbi.put(txn, key, value);
                }
                txn.commit();
            }
        }
    }

    /** Closes the environment and deletes its files. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    /** The calling thread's transaction and buffers, made on its first operation. */
    Local local(Workload w) {
        if (w.local instanceof Local l) {
            return l;
        }
        Local l = new Local(env, w.shape);
        synchronized (locals) {
            locals.add(l);
        }
        w.local = l;
        return l;
    }

    /** The next record's value, copied out of the map into the thread's caller array. */
    @Benchmark
    public boolean get(Workload w) {
        Local l = local(w);
        w.shape.key(w.next(), l.key);
        l.readTxn.renew();
        try {
            ByteBuffer v = dbi.get(l.readTxn, l.key);
            if (v == null) {
                return false;
            }
            v.get(0, w.out);
            return true;
        } finally {
            l.readTxn.reset();
        }
    }

    /** The next record gets a new value, one write transaction. */
    @Benchmark
    public boolean put(Workload w) {
        Local l = local(w);
        int i = w.next();
        w.shape.key(i, l.key);
        w.shape.value(i, ++w.version, l.value);
        return write(l);
    }

    private boolean write(Local l) {
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            boolean stored = dbi.put(txn, l.key, l.value);
            txn.commit();
            return stored;
        }
    }

    /** A batch of new records, one write transaction each; see {@link InsertBatch}. */
    @Benchmark
    @OperationsPerInvocation(InsertBatch.SIZE)
    public int insert(Workload w, InsertBatch b) {
        b.store = this;
        b.workload = w;
        Local l = local(w);
        int stored = 0;
        for (long r : b.records) {
            w.shape.key(r, l.key);
            w.shape.value(r, 0, l.value);
            stored += write(l) ? 1 : 0;
        }
        return stored;
    }

    /** Deletes the next record (one write transaction) and puts it back with a new value (another). */
    @Benchmark
    public boolean deleteInsert(Workload w) {
        Local l = local(w);
        int i = w.next();
        w.shape.key(i, l.key);
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            dbi.delete(txn, l.key);
            txn.commit();
        }
        w.shape.value(i, ++w.version, l.value);
        return write(l);
    }

    /** Every record once, in key order, with a cursor. */
    @Override
    @Benchmark
    public long iterate() {
        long n = 0;
        long sum = 0;
        try (Txn<ByteBuffer> txn = env.txnRead();
                Cursor<ByteBuffer> c = dbi.openCursor(txn)) {
            if (c.first()) {
                do {
                    sum += c.val().get(7);
                    n++;
                } while (c.next());
            }
        }
        checksum += sum;
        return n;
    }

    /** Up to 100 entries in key order from the next record on, with a cursor. */
    @Benchmark
    public int scan100(Workload w) {
        Local l = local(w);
        w.shape.key(w.scanStart(ArmdbTreeBench.SCAN), l.key);
        return scanFromKeyBuffer(l, w);
    }

    /** Scans from the key now in {@code l.key}. */
    int scanFromKeyBuffer(Local l, Workload w) {
        l.readTxn.renew();
        int n = 0;
        long sum = 0;
        try (Cursor<ByteBuffer> c = dbi.openCursor(l.readTxn)) {
            if (c.get(l.key, GetOp.MDB_SET_RANGE)) {
                do {
                    sum += c.val().get(7);
                    n++;
                } while (n < ArmdbTreeBench.SCAN && c.next());
            }
        } finally {
            l.readTxn.reset();
        }
        w.sink += sum;
        return n;
    }

    @Override
    public void remove(long[] records, Workload w) {
        Local l = local(w);
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            for (long r : records) {
                w.shape.key(r, l.key);
                dbi.delete(txn, l.key);
            }
            txn.commit();
        }
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        ByteBuffer key = ByteBuffer.allocateDirect(shape().keySize());
        shape().key(i, key);
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
        synchronized (locals) {
            for (Local l : locals) {
                l.readTxn.close();
            }
            locals.clear();
        }
        if (env != null) {
            env.sync(true);
            env.close();
            env = null;
        }
        return dir;
    }
}
