package dev.armdb.bench;

import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The parameters and loading loop every store benchmark shares. A subclass is one store: a JMH state of scope
 * {@code Benchmark} (one store per run, shared by all benchmark threads) whose trial set-up opens the store and loads
 * it; see {@link StoreBench} for the operations.
 */
@State(Scope.Benchmark)
public abstract class EngineBench implements StoreBench {
    /** Loaded records. */
    @Param({"1000000"})
    public int keys;

    /** Record shape, {@code KEYxVALUE} bytes; see {@link Shape}. */
    @Param({"16x32", "8x256"})
    public String shape;

    /** Sum of byte 7 of every value {@link #iterate()} read. */
    long checksum;

    /** Receives one record of the initial load. */
    @FunctionalInterface
    interface Loader {
        /** Stores record {@code i}; {@code key} and {@code value} are reused for the next record. */
        void put(int i, byte[] key, byte[] value) throws Exception;
    }

    @Override
    public void configure(int records, Shape s) {
        keys = records;
        shape = s.name();
    }

    /** The record shape of this run. */
    Shape shape() {
        return Shape.of(shape);
    }

    /** Calls {@code loader} with records {@code 0..keys-1} in record order (random key order), write number 0. */
    void load(Loader loader) throws Exception {
        Shape s = shape();
        byte[] key = new byte[s.keySize()];
        byte[] value = new byte[s.valueSize()];
        for (int i = 0; i < keys; i++) {
            s.key(i, key);
            s.value(i, 0, value);
            loader.put(i, key, value);
        }
    }

    @Override
    public long checksum() {
        return checksum;
    }
}
