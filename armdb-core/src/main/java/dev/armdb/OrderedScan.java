package dev.armdb;

import dev.armdb.index.KeyHash;
import dev.armdb.store.Shard;
import dev.armdb.store.Store;
import java.util.Iterator;

/**
 * One {@link FixedTree#scan}: reads keys from the ordered set a batch ahead of the visitor and warms each batch's
 * index entries and slots before the first of them is looked up.
 *
 * <p>Design note: in key order the slots of consecutive keys lie anywhere in the shard files, so a scan that looks
 * each key up in turn pays the index miss, then the slot miss, then the next key's, one after another (a 100-key
 * range cost 42 µs). Warming a batch issues those loads back to back, independent of each other, so the memory
 * system serves them in parallel; the lookups that follow hit the cache. Values still come from the ordinary
 * lock-free {@code get} when the visitor reaches the key, so a scan promises exactly what it promised before: a key
 * deleted before the visitor reaches it is skipped, and each value is one the key held during the scan.
 *
 * <p>Owned by the one thread running the scan. Allocates its buffers once per scan, nothing per pair.
 */
final class OrderedScan {
    /** Keys warmed before the first visit: small, as a range scan often stops after a few dozen pairs. */
    private static final int FIRST_BATCH = 16;

    /** Largest batch: enough independent misses in flight to keep the memory system busy. */
    static final int MAX_BATCH = 64;

    private final Store store;
    private final byte[] value;
    private final byte[][] keys = new byte[MAX_BATCH][];
    private final long[] hashes = new long[MAX_BATCH];
    private final Shard[] shards = new Shard[MAX_BATCH];

    /** What the warming loads read, stored so that the compiler cannot drop them as unused. */
    @SuppressWarnings("unused")
    private static long warmedSink;

    private long warmed;

    OrderedScan(Store store, int valueSize) {
        this.store = store;
        this.value = new byte[valueSize];
    }

    /** Visits the live pairs of {@code ordered} in its order until {@code visitor} returns false; returns the count. */
    long run(Iterator<byte[]> ordered, FixedStore.PairVisitor visitor) {
        long visited = 0;
        int batch = FIRST_BATCH;
        while (ordered.hasNext()) {
            int n = fill(ordered, batch);
            warm(n);
            for (int i = 0; i < n; i++) {
                if (shards[i].get(keys[i], hashes[i], value)) {
                    visited++;
                    if (!visitor.visit(keys[i], value)) {
                        warmedSink = warmed;
                        return visited;
                    }
                }
            }
            batch = Math.min(MAX_BATCH, batch * 2);
        }
        warmedSink = warmed;
        return visited;
    }

    /** Takes up to {@code max} keys from {@code ordered}, with their hashes and shards; returns how many. */
    private int fill(Iterator<byte[]> ordered, int max) {
        int n = 0;
        while (n < max && ordered.hasNext()) {
            byte[] k = ordered.next();
            long h = KeyHash.hash(k);
            keys[n] = k;
            hashes[n] = h;
            shards[n] = store.shard(store.shardOf(k, h));
            n++;
        }
        return n;
    }

    private void warm(int n) {
        long w = warmed;
        for (int i = 0; i < n; i++) {
            w ^= shards[i].warm(hashes[i]);
        }
        warmed = w;
    }
}
