package dev.armdb.bench;

import java.util.SplittableRandom;

/**
 * Per-benchmark-thread working set: a seeded random source of uniform record indexes and reusable key, value and
 * output buffers, so the measured loop allocates nothing of its own.
 */
final class Workload {
    final int records;
    final byte[] key = new byte[Keys.KEY_SIZE];
    final byte[] value = new byte[Keys.VALUE_SIZE];
    final byte[] out = new byte[Keys.VALUE_SIZE];
    private final SplittableRandom random;
    /** Record index last drawn by {@link #randomIndex()} or {@link #randomKey()}. */
    int last = -1;
    /** Write number of the next update; the loaded data has write number 0. */
    long version;
    /** Checksum of what scans read, kept in a field so the reads cannot be optimised away. */
    long sink;

    Workload(int records, long seed) {
        if (records < 1) {
            throw new IllegalArgumentException("records must be positive, got " + records);
        }
        this.records = records;
        this.random = new SplittableRandom(seed);
    }

    /** A uniform random record index (also kept in {@link #last}). */
    int randomIndex() {
        int i = random.nextInt(records);
        last = i;
        return i;
    }

    /** Writes a uniform random record's key into {@link #key}; returns the record index. */
    int randomKey() {
        int i = randomIndex();
        Keys.key(i, key);
        return i;
    }

    /** Writes the next version of record {@code i}'s value into {@link #value}. */
    void nextValue(int i) {
        Keys.value(i, ++version, value);
    }
}
