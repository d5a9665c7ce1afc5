package dev.armdb.bench;

import java.util.Arrays;

/**
 * Records {@code 0..n-1} listed in ascending key order: the walk of the {@code sequential} access pattern. Keys of
 * both {@link Shape}s start with {@code mix(i)}, which is unique, so key order is the unsigned order of {@code
 * mix(i)}; sorting those numbers and inverting {@code mix} gives the records without a table of keys.
 *
 * <p>Built once per JVM and record count (about a second for 10M records, outside any measurement); shared by all
 * benchmark threads, read only.
 */
final class KeyOrder {
    private static int cachedRecords = -1;
    private static int[] cached;

    private KeyOrder() {}

    /** The records {@code 0..records-1} in ascending key order. The array is shared: do not modify it. */
    static synchronized int[] of(int records) {
        if (records != cachedRecords) {
            cached = build(records);
            cachedRecords = records;
        }
        return cached;
    }

    private static int[] build(int records) {
        long[] flipped = new long[records];
        for (int i = 0; i < records; i++) {
            flipped[i] = Keys.mix(i) ^ Long.MIN_VALUE; // signed order of the flipped values is unsigned key order
        }
        Arrays.parallelSort(flipped);
        int[] order = new int[records];
        for (int p = 0; p < records; p++) {
            order[p] = (int) Keys.unmix(flipped[p] ^ Long.MIN_VALUE);
        }
        return order;
    }

    /** Sorts {@code records[0..n)} (any record numbers, also beyond a loaded range) into ascending key order. */
    static void sort(long[] records, int n) {
        for (int j = 0; j < n; j++) {
            records[j] = Keys.mix(records[j]) ^ Long.MIN_VALUE;
        }
        Arrays.sort(records, 0, n);
        for (int j = 0; j < n; j++) {
            records[j] = Keys.unmix(records[j] ^ Long.MIN_VALUE);
        }
    }
}
