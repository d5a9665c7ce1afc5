package dev.armdb;

import dev.armdb.index.KeyHash;
import java.util.ArrayList;
import java.util.List;

/**
 * An order-independent digest of the live key/value pairs of a collection, per shard and in total: the number of
 * pairs and the sum (mod 2^64) of a 64-bit hash of each pair. Two collections with the same pairs have the same
 * digest whatever their slot layout, so it compares a leader with its followers. Immutable.
 *
 * @param count live pairs in total
 * @param sum sum of the pair hashes of all shards
 * @param shardCounts live pairs per shard
 * @param shardSums sum of pair hashes per shard
 */
public record Digest(long count, long sum, List<Long> shardCounts, List<Long> shardSums) {
    /** Compact constructor: keeps unmodifiable copies. */
    public Digest {
        shardCounts = List.copyOf(shardCounts);
        shardSums = List.copyOf(shardSums);
    }

    /** Computes the digest of {@code store} with {@link FixedStore#forEach} (weakly consistent under writes). */
    public static Digest of(FixedStore store) {
        int shards = store.config().shards();
        long[] counts = new long[shards];
        long[] sums = new long[shards];
        store.forEach((k, v) -> {
            int s = store.engine().shardOf(k, KeyHash.hash(k));
            counts[s]++;
            sums[s] += pairHash(k, v);
        });
        List<Long> c = new ArrayList<>();
        List<Long> h = new ArrayList<>();
        long count = 0;
        long sum = 0;
        for (int i = 0; i < shards; i++) {
            c.add(counts[i]);
            h.add(sums[i]);
            count += counts[i];
            sum += sums[i];
        }
        return new Digest(count, sum, c, h);
    }

    /** The hash of one pair. */
    public static long pairHash(byte[] key, byte[] value) {
        long h = KeyHash.hash(key) * 0x9E37_79B9_7F4A_7C15L + Long.rotateLeft(KeyHash.hash(value), 29);
        h ^= h >>> 31;
        h *= 0xBF58_476D_1CE4_E5B9L;
        return h ^ (h >>> 29);
    }

    /** The total digest as {@code <count>-<16 hex digits>}, e.g. {@code 1000000-3f0a...}. */
    public String hex() {
        return count + "-" + String.format("%016x", sum);
    }

    /** Shard {@code s}'s digest in the same form as {@link #hex()}. */
    public String shardHex(int s) {
        return shardCounts.get(s) + "-" + String.format("%016x", shardSums.get(s));
    }
}
