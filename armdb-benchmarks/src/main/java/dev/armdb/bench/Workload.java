package dev.armdb.bench;

import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * One benchmark thread's working set: which existing record comes next, and reusable key, value and output buffers,
 * so the measured loop allocates nothing of its own. Owned by one thread ({@code Scope.Thread}); the store it works
 * on is shared by all threads of a run.
 *
 * <p>The JMH parameter {@code access} picks the next record:
 *
 * <ul>
 *   <li>{@code random}: uniform random over the loaded records, from a generator seeded by the thread index;
 *   <li>{@code sequential}: ascending key order ({@link KeyOrder}), wrapping around at the end; with {@code T}
 *       threads, thread {@code t} starts {@code t/T} of the way through.
 * </ul>
 *
 * The record count and the shape come from the store's parameters {@code keys} and {@code shape}.
 */
@State(Scope.Thread)
public class Workload {
    /** {@code random} or {@code sequential}. */
    @Param({"random", "sequential"})
    public String access;

    int records;
    Shape shape;
    boolean sequential;
    int thread;
    byte[] key;
    byte[] value;
    byte[] out;
    private SplittableRandom random;
    private int[] order;
    private int position;
    /** Record index last drawn by {@link #next()} or {@link #scanStart()}. */
    int last = -1;
    /** Write number of the next update; the loaded data has write number 0. */
    long version;
    /** Checksum of what reads returned, kept in a field so the reads cannot be optimised away. */
    long sink;
    /** Per-thread objects of the store under test (an LMDB read transaction, a probe key), made on first use. */
    Object local;

    /** For JMH; {@link #setup} initialises. */
    public Workload() {}

    /** A workload outside JMH (tests, tools). */
    Workload(int records, Shape shape, String access, int thread, int threads) {
        init(records, shape, access, thread, threads);
    }

    /** Reads the record count, shape and thread position of this run from JMH. */
    @Setup(Level.Trial)
    public void setup(BenchmarkParams params, ThreadParams threadParams) {
        init(
                Integer.parseInt(params.getParam("keys")),
                Shape.of(params.getParam("shape")),
                access,
                threadParams.getThreadIndex(),
                threadParams.getThreadCount());
    }

    private void init(int records, Shape shape, String access, int thread, int threads) {
        if (records < 1) {
            throw new IllegalArgumentException("records must be positive, got " + records);
        }
        this.records = records;
        this.shape = shape;
        this.access = access;
        this.thread = thread;
        this.key = new byte[shape.keySize()];
        this.value = new byte[shape.valueSize()];
        this.out = new byte[shape.valueSize()];
        this.random = new SplittableRandom(1 + thread);
        this.sequential = switch (access) {
            case "random" -> false;
            case "sequential" -> true;
            default -> throw new IllegalArgumentException("access must be random or sequential, got " + access);
        };
        if (sequential) {
            order = KeyOrder.of(records);
            position = (int) ((long) records * thread / threads) - 1;
        }
    }

    /** The next existing record by the access pattern (also kept in {@link #last}); its key is now in {@link #key}. */
    int next() {
        int i;
        if (sequential) {
            if (++position == records) {
                position = 0;
            }
            i = order[position];
        } else {
            i = random.nextInt(records);
        }
        last = i;
        shape.key(i, key);
        return i;
    }

    /**
     * The first record of a range scan, its key in {@link #key}: random, or for sequential access the record after
     * the previous scan's {@code span} records, so consecutive scans read consecutive ranges.
     */
    int scanStart(int span) {
        if (!sequential) {
            return next();
        }
        int i = next();
        position = (position + span - 1) % records;
        return i;
    }

    /** Writes the next version of record {@code i}'s value into {@link #value}. */
    void nextValue(long i) {
        shape.value(i, ++version, value);
    }
}
