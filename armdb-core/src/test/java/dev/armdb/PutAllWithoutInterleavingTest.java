package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.index.KeyHash;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FixedStore#putAllWithoutInterleaving}: racing batch writers and single-key writers over the same shards,
 * every batch's writes to one shard must carry consecutive LSNs (no other mutation of the shard landed between
 * them), nothing deadlocks, and a batch with one wrong size writes nothing. Seed: {@code armdb.seed} (printed).
 */
class PutAllWithoutInterleavingTest {
    private static final int KEYS = 64;
    private static final int BATCH_WRITERS = 3;
    private static final int BATCHES_PER_WRITER = 3_000;
    private static final int MIN_SINGLES = 100;

    @TempDir
    Path dir;

    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(4)
                .durability(Durability.NONE)
                .build();
    }

    private static byte[] key(int i) {
        byte[] k = new byte[8];
        k[0] = (byte) i;
        k[7] = (byte) 0x5A;
        return k;
    }

    /**
     * An update takes two LSNs (the new slot, then the old one freed), so a batch's LSNs in a shard are not
     * consecutive; instead, the span from its first to its last LSN in each shard must hold no LSN of another
     * writer: no other batch's span overlaps it and no single put's LSN falls inside it.
     */
    @Test
    void batchesAreNeverInterleavedWithOtherWritersOfTheirShards() throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("PutAllWithoutInterleavingTest seed " + seed + " (-Darmdb.seed=" + seed + ")");
        try (FixedMap map = FixedMap.open(dir, config())) {
            int shards = map.config().shards();
            ConcurrentLinkedQueue<long[]> spans = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<long[]> singles = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < BATCH_WRITERS; w++) {
                Random random = new Random(seed + w);
                threads.add(Thread.ofPlatform().start(() -> batches(map, random, spans, singles)));
            }
            Random random = new Random(seed - 1);
            Thread single = Thread.ofPlatform().daemon().start(() -> {
                byte[] v = new byte[16];
                while (!Thread.currentThread().isInterrupted()) {
                    byte[] k = key(random.nextInt(KEYS));
                    singles.add(new long[] {map.engine().shardOf(k, KeyHash.hash(k)), map.put(k, v)});
                }
            });
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(t.isAlive())
                        .as("batch writer finished (no deadlock), seed " + seed)
                        .isFalse();
            }
            single.interrupt();
            single.join(10_000);
            assertThat(singles.size()).as("single puts raced the batches").isGreaterThan(MIN_SINGLES);
            List<String> violations = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                int shard = s;
                long[][] sorted = spans.stream()
                        .filter(x -> x[0] == shard)
                        .sorted(java.util.Comparator.comparingLong(x -> x[1]))
                        .toArray(long[][]::new);
                for (int i = 1; i < sorted.length; i++) {
                    if (sorted[i][1] <= sorted[i - 1][2]) {
                        violations.add("shard " + s + ": batch spans " + sorted[i - 1][1] + ".." + sorted[i - 1][2]
                                + " and " + sorted[i][1] + ".." + sorted[i][2] + " overlap");
                    }
                }
                for (long[] put : singles) {
                    if (put[0] == s && inside(sorted, put[1])) {
                        violations.add("shard " + s + ": a single put's LSN " + put[1] + " inside a batch");
                    }
                }
            }
            assertThat(violations).as("seed " + seed).isEmpty();
        }
    }

    private static boolean inside(long[][] sortedSpans, long lsn) {
        int lo = 0;
        int hi = sortedSpans.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (lsn < sortedSpans[mid][1]) {
                hi = mid - 1;
            } else if (lsn > sortedSpans[mid][2]) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /** Writes batches; records, per batch and shard, the span {shard, first LSN, last LSN}. */
    /**
     * Runs at least {@link #BATCHES_PER_WRITER} batches, and goes on (for at most 30 s) until the single writer has
     * raced them {@link #MIN_SINGLES} times: on a loaded machine that thread may get no CPU while the batches run.
     */
    private static void batches(
            FixedMap map, Random random, ConcurrentLinkedQueue<long[]> spans, ConcurrentLinkedQueue<long[]> singles) {
        int shards = map.config().shards();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int b = 0;
                b < BATCHES_PER_WRITER || (singles.size() <= MIN_SINGLES && System.nanoTime() < deadline);
                b++) {
            int n = 2 + random.nextInt(12);
            byte[][] keys = new byte[n][];
            byte[][] values = new byte[n][];
            int[] shard = new int[n];
            for (int i = 0; i < n; i++) {
                keys[i] = key(random.nextInt(KEYS));
                values[i] = new byte[16];
                values[i][0] = (byte) b;
                shard[i] = map.engine().shardOf(keys[i], KeyHash.hash(keys[i]));
            }
            long[] lsns = map.putAllWithoutInterleaving(keys, values);
            long[] first = new long[shards];
            long[] last = new long[shards];
            for (int i = 0; i < n; i++) {
                if (first[shard[i]] == 0) {
                    first[shard[i]] = lsns[i];
                }
                last[shard[i]] = lsns[i];
            }
            for (int s = 0; s < shards; s++) {
                if (first[s] != 0) {
                    spans.add(new long[] {s, first[s], last[s]});
                }
            }
        }
    }

    @Test
    void aBatchWithOneWrongSizeWritesNothing() {
        try (FixedMap map = FixedMap.open(dir, config())) {
            byte[][] keys = {key(1), key(2), key(3)};
            byte[][] values = {new byte[16], new byte[16], new byte[15]};
            assertThatThrownBy(() -> map.putAllWithoutInterleaving(keys, values))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("got 15");
            assertThat(map.size()).isZero();
            assertThatThrownBy(() -> map.putAllWithoutInterleaving(keys, new byte[2][]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expected as many values as keys (3), got 2");
            values[2] = new byte[16];
            values[2][0] = 7;
            long[] lsns = map.putAllWithoutInterleaving(keys, values);
            assertThat(lsns).hasSize(3).doesNotContain(0L);
            assertThat(map.get(key(3))[0]).isEqualTo((byte) 7);
            assertThat(map.size()).isEqualTo(3);
            // the locks were released: single writers of every shard go on
            for (int i = 0; i < KEYS; i++) {
                map.put(key(i), new byte[16]);
            }
            assertThat(map.size()).isEqualTo(KEYS);
        }
    }
}
