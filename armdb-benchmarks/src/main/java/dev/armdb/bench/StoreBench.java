package dev.armdb.bench;

import java.nio.file.Path;

/**
 * What every engine benchmark store offers besides its {@code @Benchmark} methods, for the smoke test, the
 * {@link InsertBatch} tear-down and the {@link Footprint} tool.
 *
 * <p>Every store benchmark has these {@code @Benchmark} methods (1 thread or more sharing the store):
 *
 * <ul>
 *   <li>{@code get(Workload)}: the next existing record's value into the thread's caller buffer;
 *   <li>{@code put(Workload)}: the next existing record gets a new value (an update);
 *   <li>{@code insert(Workload, InsertBatch)}: {@link InsertBatch#SIZE} new records, time per record;
 *   <li>{@code deleteInsert(Workload)}: one op deletes the next existing record and inserts it again;
 *   <li>{@code iterate()}: one op reads every live record once, in whatever order the store's iteration gives.
 * </ul>
 *
 * The ordered stores also have {@code scan100(Workload)}: 100 records in key order from the next record on.
 */
interface StoreBench {
    /** Sets the record count and shape (the JMH parameters {@code keys} and {@code shape}) before {@link #setup}. */
    void configure(int records, Shape shape);

    /** Opens the store in a new temporary directory and loads records {@code 0..records-1} at write number 0. */
    void setup() throws Exception;

    /** Closes the store and deletes its directory. */
    void tearDown() throws Exception;

    /** Copies record {@code i}'s value into {@code out}; false if absent. Not measured; allocation allowed. */
    boolean lookup(long i, byte[] out) throws Exception;

    /** Deletes {@code records}, using {@code w}'s buffers (the tear-down of an insert batch, not measured). */
    void remove(long[] records, Workload w) throws Exception;

    /** One full iteration; returns the number of records seen and adds their checksum to {@link #checksum()}. */
    long iterate() throws Exception;

    /** Sum over everything {@link #iterate()} has read of byte 7 of each value (the low byte of the record index). */
    long checksum();

    /** Flushes and closes the store but keeps its files (for measuring bytes on disk); null if in memory only. */
    Path closeKeepingFiles() throws Exception;
}
