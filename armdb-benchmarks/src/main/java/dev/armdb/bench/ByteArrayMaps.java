package dev.armdb.bench;

import java.util.Map;

/**
 * The non-measured helpers of the peers that are a {@code Map<byte[], byte[]>} with content-compared keys (MapDB,
 * Chronicle Map): removing inserted records and reading one back. Stateless; used by the benchmark threads.
 */
final class ByteArrayMaps {
    private ByteArrayMaps() {}

    /** Removes {@code records} (their keys built in {@code w}'s key buffer). */
    static void remove(Map<byte[], byte[]> map, long[] records, Workload w) {
        for (long r : records) {
            w.shape.key(r, w.key);
            map.remove(w.key);
        }
    }

    /** Copies the value of {@code key} into {@code out}; false if absent. */
    static boolean lookup(Map<byte[], byte[]> map, byte[] key, byte[] out) {
        byte[] v = map.get(key);
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, out, 0, v.length);
        return true;
    }

    /**
     * One pass over every entry with the map's own {@code forEach}: returns {count, sum of each value's byte 7}
     * (the sum keeps the JIT from dropping the reads).
     */
    static long[] countAndSum(Map<?, byte[]> map) {
        long[] acc = new long[2];
        map.forEach((k, v) -> {
            acc[0]++;
            acc[1] += v[7];
        });
        return acc;
    }
}
