package dev.armdb.bench;

import java.nio.file.Path;

/**
 * What every engine benchmark state offers besides its {@code @Benchmark} methods, for the smoke test and the
 * {@link Footprint} tool: set the record count, load, read one record back, close without deleting.
 */
interface StoreBench {
    /** Sets the record count (the JMH {@code keys} parameter). */
    void records(int records);

    /** Opens the store in a new temporary directory and loads records {@code 0..records-1} at write number 0. */
    void setup() throws Exception;

    /** Closes the store and deletes its directory. */
    void tearDown() throws Exception;

    /** Copies record {@code i}'s value into {@code out}; false if absent. Not measured. */
    boolean lookup(long i, byte[] out) throws Exception;

    /** Flushes and closes the store but keeps its files (for measuring bytes on disk); null if in memory only. */
    Path closeKeepingFiles() throws Exception;

    /** The workload of the benchmark thread (last key, buffers, checksum). */
    Workload workload();
}
