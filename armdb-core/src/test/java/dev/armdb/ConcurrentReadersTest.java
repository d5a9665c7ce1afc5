package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lock-free readers racing writers: a value read is never torn (it carries its own checksum), always belongs to the
 * key asked for, and the versions one reader sees of a key never go back. Iteration under writes yields only
 * self-consistent entries. Seed: {@code armdb.seed} (printed).
 */
class ConcurrentReadersTest {
    private static final int KEY_SIZE = 8;
    private static final int VALUE_SIZE = 64;
    private static final int KEYS = 4096;
    private static final int HOT_KEYS = 64;
    private static final int WRITERS = 2;
    private static final int READERS = 3;
    /** Each writer does at least this many operations, each reader at least this many successful reads. */
    private static final long MIN_OPS_PER_WRITER = 20_000;

    private static final long MIN_HITS_PER_READER = 40_000;
    /** How much longer than planned a loaded machine may take to reach those minimums. */
    private static final long MAX_EXTRA_NANOS = 30_000_000_000L;

    private static final long WRITE_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long MAX_OPS_PER_WRITER = 5_000_000;

    @TempDir
    Path dir;

    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(KEY_SIZE)
                .valueSize(VALUE_SIZE)
                .shards(4)
                .durability(Durability.NONE)
                .growthStepBytes(4096)
                .build();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    private static byte[] key(int id) {
        return ByteBuffer.allocate(KEY_SIZE).putLong(id).array();
    }

    /** keyId, version, five derived longs, then a hash of the first 56 bytes. */
    private static void encode(int id, long version, byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out);
        b.putLong(id).putLong(version);
        for (int i = 0; i < 5; i++) {
            b.putLong(mix(id * 0x9E3779B97F4A7C15L + version * 31 + i));
        }
        b.putLong(hash(out));
    }

    private static long hash(byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        long h = 0x1234_5678_9ABC_DEF0L;
        for (int i = 0; i < 7; i++) {
            h = mix(h ^ b.getLong(i * 8));
        }
        return h;
    }

    /**
     * Checks a value read for key {@code id}; returns its version, or records a failure and returns -1.
     */
    private static long check(String who, int id, byte[] v, Queue<String> failures) {
        ByteBuffer b = ByteBuffer.wrap(v);
        long keyId = b.getLong(0);
        long version = b.getLong(8);
        boolean ok = b.getLong(56) == hash(v) && keyId == id;
        for (int i = 0; ok && i < 5; i++) {
            ok = b.getLong(16 + 8 * i) == mix(id * 0x9E3779B97F4A7C15L + version * 31 + i);
        }
        if (!ok) {
            failures.add(who + ": torn or foreign value for key " + id + ": "
                    + HexFormat.of().formatHex(v));
            return -1;
        }
        return version;
    }

    @Test
    void fixedMapReadersNeverSeeTornOrStaleValues() throws Exception {
        try (FixedMap map = FixedMap.open(dir, config())) {
            run(map, null);
        }
        assertThat(Verifier.verify(dir).clean()).isTrue();
    }

    @Test
    void fixedTreeReadersNeverSeeTornOrStaleValues() throws Exception {
        try (FixedTree tree = FixedTree.open(dir, config())) {
            run(tree, t -> ((FixedTree) t).range(null, null));
        }
        assertThat(Verifier.verify(dir).clean()).isTrue();
    }

    private void run(FixedStore store, Function<FixedStore, Iterator<FixedTree.Entry>> ordered) throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("ConcurrentReadersTest(" + store.getClass().getSimpleName() + "): seed=" + seed
                + " (-Darmdb.seed=" + seed + ")");
        Random master = new Random(seed);
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        // highest version a writer has started to write per key (a reader may never see a higher one)
        AtomicLongArray started = new AtomicLongArray(KEYS);
        // the writers' final state: version of each key, or -1 if absent at the end
        long[] finalVersion = new long[KEYS];
        Arrays.fill(finalVersion, -1);
        AtomicBoolean writersDone = new AtomicBoolean();
        AtomicInteger writersLeft = new AtomicInteger(WRITERS);
        AtomicLong writes = new AtomicLong();
        AtomicLong deletes = new AtomicLong();
        AtomicLong hits = new AtomicLong();
        AtomicLong misses = new AtomicLong();
        AtomicLong iterated = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();

        for (int w = 0; w < WRITERS; w++) {
            int owner = w;
            long wseed = master.nextLong();
            threads.add(Thread.ofPlatform().name("writer-" + w).unstarted(() -> {
                Random rnd = new Random(wseed);
                long[] version = new long[KEYS];
                boolean[] present = new boolean[KEYS];
                byte[] value = new byte[VALUE_SIZE];
                try {
                    go.await();
                    long end = System.nanoTime() + WRITE_NANOS;
                    for (long op = 0; op < MAX_OPS_PER_WRITER; op++) {
                        // at least the minimum work, however slow a loaded machine makes it (the time cap bounds it)
                        if ((op & 63) == 0
                                && System.nanoTime() - end >= 0
                                && (op >= MIN_OPS_PER_WRITER || System.nanoTime() - end >= MAX_EXTRA_NANOS)) {
                            break;
                        }
                        // half the ops hit a few hot keys, so readers often race a rewrite of the slot they read
                        int range = rnd.nextBoolean() ? HOT_KEYS : KEYS;
                        int id = rnd.nextInt(range / WRITERS) * WRITERS + owner;
                        byte[] k = key(id);
                        if (present[id] && rnd.nextInt(10) == 0) {
                            if (store.delete(k) == FixedStore.UNCHANGED) {
                                failures.add("writer " + owner + ": delete of present key " + id + " returned false");
                            }
                            present[id] = false;
                            deletes.incrementAndGet();
                        } else {
                            long v = ++version[id];
                            started.set(id, v);
                            encode(id, v, value);
                            store.put(k, value);
                            present[id] = true;
                            writes.incrementAndGet();
                        }
                    }
                    for (int id = owner; id < KEYS; id += WRITERS) {
                        finalVersion[id] = present[id] ? version[id] : -1;
                    }
                } catch (Throwable t) {
                    failures.add("writer " + owner + " died: " + t);
                    t.printStackTrace();
                } finally {
                    if (writersLeft.decrementAndGet() == 0) {
                        writersDone.set(true);
                    }
                }
            }));
        }

        for (int r = 0; r < READERS; r++) {
            int reader = r;
            long rseed = master.nextLong();
            threads.add(Thread.ofPlatform().name("reader-" + r).unstarted(() -> {
                Random rnd = new Random(rseed);
                long[] lastSeen = new long[KEYS];
                byte[] buf = new byte[VALUE_SIZE];
                String who = "reader " + reader;
                long myHits = 0;
                long myMisses = 0;
                try {
                    go.await();
                    long hardEnd = System.nanoTime() + WRITE_NANOS + MAX_EXTRA_NANOS;
                    while ((!writersDone.get() || myHits < MIN_HITS_PER_READER) && System.nanoTime() < hardEnd) {
                        for (int i = 0; i < 256; i++) {
                            int id = rnd.nextInt(rnd.nextBoolean() ? HOT_KEYS : KEYS);
                            if (!store.get(key(id), buf)) {
                                myMisses++;
                                continue;
                            }
                            myHits++;
                            long v = check(who, id, buf, failures);
                            if (v < 0) {
                                continue;
                            }
                            long max = started.get(id);
                            if (v > max) {
                                failures.add(who + ": key " + id + " has version " + v
                                        + " that no writer has started (highest " + max + ")");
                            }
                            if (v < lastSeen[id]) {
                                failures.add(
                                        who + ": key " + id + " went back from version " + lastSeen[id] + " to " + v);
                            }
                            lastSeen[id] = Math.max(lastSeen[id], v);
                        }
                    }
                } catch (Throwable t) {
                    failures.add(who + " died: " + t);
                    t.printStackTrace();
                } finally {
                    hits.addAndGet(myHits);
                    misses.addAndGet(myMisses);
                }
            }));
        }

        threads.add(Thread.ofPlatform().name("iterator").unstarted(() -> {
            try {
                go.await();
                for (int pass = 0; pass < 3 && !writersDone.get(); pass++) {
                    Thread.sleep(700);
                    store.forEach((k, v) -> {
                        int id = (int) ByteBuffer.wrap(k).getLong();
                        if (id < 0 || id >= KEYS) {
                            failures.add(
                                    "forEach: unknown key " + HexFormat.of().formatHex(k));
                            return;
                        }
                        check("forEach", id, v, failures);
                        iterated.incrementAndGet();
                    });
                    if (ordered != null) {
                        byte[] previous = null;
                        for (Iterator<FixedTree.Entry> it = ordered.apply(store); it.hasNext(); ) {
                            FixedTree.Entry e = it.next();
                            int id = (int) ByteBuffer.wrap(e.key()).getLong();
                            if (previous != null && Arrays.compareUnsigned(previous, e.key()) >= 0) {
                                failures.add("range: key " + id + " out of order after "
                                        + HexFormat.of().formatHex(previous));
                            }
                            previous = e.key();
                            check("range", id, e.value(), failures);
                            iterated.incrementAndGet();
                        }
                    }
                }
            } catch (Throwable t) {
                failures.add("iterator died: " + t);
                t.printStackTrace();
            }
        }));

        threads.forEach(Thread::start);
        long t0 = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join(60_000);
            assertThat(t.isAlive()).as(t.getName() + " still running").isFalse();
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.println("ConcurrentReadersTest(" + store.getClass().getSimpleName() + "): " + ms + " ms, "
                + writes + " puts, " + deletes + " deletes, " + hits + " hits, " + misses + " misses, "
                + iterated + " entries iterated");

        assertThat(failures).as("failures (seed " + seed + ")").isEmpty();
        assertThat(hits.get()).as("successful reads").isGreaterThanOrEqualTo((long) READERS * MIN_HITS_PER_READER);
        assertThat(writes.get()).as("puts").isGreaterThan(MIN_OPS_PER_WRITER);
        assertThat(iterated.get()).as("entries iterated").isPositive();

        // quiescent: the store holds exactly what the writers left
        byte[] buf = new byte[VALUE_SIZE];
        long live = 0;
        for (int id = 0; id < KEYS; id++) {
            boolean found = store.get(key(id), buf);
            assertThat(found).as("key %d present", id).isEqualTo(finalVersion[id] >= 0);
            if (found) {
                live++;
                assertThat(check("final", id, buf, failures))
                        .as("version of key %d", id)
                        .isEqualTo(finalVersion[id]);
            }
        }
        assertThat(store.size()).isEqualTo(live);
        long[] count = {0};
        store.forEach((k, v) -> {
            int id = (int) ByteBuffer.wrap(k).getLong();
            assertThat(check("final forEach", id, v, failures)).isEqualTo(finalVersion[id]);
            count[0]++;
        });
        assertThat(count[0]).isEqualTo(live);
        assertThat(failures).isEmpty();
        assertThat(store.stats().corruptSlots()).isZero();
    }
}
