package dev.armdb.bench;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedStore;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What both armdb stores measure the same way: {@link Durability#NONE}, default 16 shards, the point operations
 * (get into the thread's caller buffer, copy-on-write put, insert, delete + insert). The subclass opens its kind
 * of store and adds its iteration. Shared by the benchmark threads, like every {@link EngineBench}.
 *
 * @param <S> the store
 */
@State(Scope.Benchmark)
public abstract class ArmdbStoreBench<S extends FixedStore> extends EngineBench {
    Path dir;
    S store;

    /** The collection config of both armdb stores for {@code shape}. */
    static FixedConfig config(Shape shape) {
        return FixedConfig.builder()
                .keySize(shape.keySize())
                .valueSize(shape.valueSize())
                .durability(Durability.NONE)
                .build();
    }

    /** Opens this kind of store in {@code dir}. */
    abstract S open(Path dir, FixedConfig config);

    /** Prefix of the temporary directory's name. */
    abstract String dirPrefix();

    /** Opens a new store and loads it. */
    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = BenchDirs.create(dirPrefix());
        store = open(dir, config(shape()));
        load((i, k, v) -> store.put(k, v));
    }

    /** Closes the store and deletes its files. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        if (store != null) {
            store.close();
        }
        BenchDirs.delete(dir);
    }

    /** The next record's value into the thread's caller buffer. */
    @Benchmark
    public boolean get(Workload w) {
        w.next();
        return store.get(w.key, w.out);
    }

    /** The next record gets a new value (copy-on-write update). */
    @Benchmark
    public long put(Workload w) {
        int i = w.next();
        w.nextValue(i);
        return store.put(w.key, w.value);
    }

    /** A batch of new records, one put each; see {@link InsertBatch}. */
    @Benchmark
    @OperationsPerInvocation(InsertBatch.SIZE)
    public long insert(Workload w, InsertBatch b) {
        b.store = this;
        b.workload = w;
        long lsn = 0;
        for (long r : b.records) {
            w.shape.key(r, w.key);
            w.shape.value(r, 0, w.value);
            lsn = store.put(w.key, w.value);
        }
        return lsn;
    }

    /** Deletes the next record and puts it back with a new value. */
    @Benchmark
    public long deleteInsert(Workload w) {
        int i = w.next();
        store.delete(w.key);
        w.nextValue(i);
        return store.put(w.key, w.value);
    }

    @Override
    public void remove(long[] records, Workload w) {
        for (long r : records) {
            w.shape.key(r, w.key);
            store.delete(w.key);
        }
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        return store.get(shape().key(i), out);
    }

    @Override
    public Path closeKeepingFiles() {
        store.close();
        return dir;
    }
}
