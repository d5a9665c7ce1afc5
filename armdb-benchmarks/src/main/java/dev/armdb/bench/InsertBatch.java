package dev.armdb.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The new keys of one {@code insert} invocation, and their removal afterwards, so inserts never grow the store
 * without bound. Owned by one benchmark thread.
 *
 * <p>Each invocation of an {@code insert} benchmark inserts {@link #SIZE} records that were never inserted before:
 * record numbers past the loaded range {@code 0..keys-1}, a fresh block for every batch and thread. Their keys are
 * spread over the whole key space like the loaded ones; with {@code access=sequential} a batch goes in ascending
 * key order, otherwise in record order (random key order). The invocation-level tear-down deletes the batch again
 * outside the measured time, so the store holds between {@code keys} and {@code keys + SIZE × threads} live records
 * during the run. JMH reports the time per inserted record ({@code @OperationsPerInvocation(SIZE)}); the timer is
 * read once per batch, so its cost is spread over {@value #SIZE} inserts. Allocation figures ({@code -prof gc}) cover
 * the whole iteration, deletions included.
 */
@State(Scope.Thread)
public class InsertBatch {
    /** Records per invocation. */
    public static final int SIZE = 1024;

    final long[] records = new long[SIZE];
    private int loaded;
    private boolean sequential;
    private int thread;
    private int threads;
    private long batches;
    /** The store and workload of the last invocation, set by the benchmark method, for the tear-down. */
    StoreBench store;

    Workload workload;

    /** For JMH; {@link #setup} initialises. */
    public InsertBatch() {}

    /** A batch source outside JMH (tests). */
    InsertBatch(int loaded, String access, int thread, int threads) {
        init(loaded, access, thread, threads);
    }

    /** Reads the loaded record count, access pattern and thread position of this run from JMH. */
    @Setup(Level.Trial)
    public void setup(BenchmarkParams params, ThreadParams threadParams) {
        init(
                Integer.parseInt(params.getParam("keys")),
                params.getParam("access"),
                threadParams.getThreadIndex(),
                threadParams.getThreadCount());
    }

    private void init(int loaded, String access, int thread, int threads) {
        this.loaded = loaded;
        this.sequential = "sequential".equals(access);
        this.thread = thread;
        this.threads = threads;
    }

    /** Picks the next batch of never-inserted records (not measured). */
    @Setup(Level.Invocation)
    public void next() {
        long first = loaded + (batches++ * threads + thread) * (long) SIZE;
        for (int j = 0; j < SIZE; j++) {
            records[j] = first + j;
        }
        if (sequential) {
            KeyOrder.sort(records, SIZE);
        }
    }

    /** Deletes the batch the last invocation inserted (not measured). */
    @TearDown(Level.Invocation)
    public void undo() throws Exception {
        if (store != null) {
            store.remove(records, workload);
        }
    }
}
