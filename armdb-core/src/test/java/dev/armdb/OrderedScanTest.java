package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link FixedTree#scan} under writers that move every key to a new slot on each update, delete keys for good and
 * churn others while scans run: a scan must visit every key live throughout, in ascending order, each value one its
 * key had and no older than what a put had returned before the key's lookup began, never a key whose delete had
 * returned by then, and no key whose insert started after the scan's first visit (the scan walks the keys present
 * when it started). Under {@link Durability#NONE} a superseded slot is freed at once; under {@link
 * Durability#GROUP} it stays {@code LIVE} with the old value until the group commit, so a scan that trusted a stale
 * slot hint without checking the slot is still the key's current one fails here. Also the guard for reading ahead:
 * a scan that read values ahead of its visitor fails both tests. Seed: {@code armdb.seed} (printed).
 */
class OrderedScanTest {
    private static final int KEY_SIZE = 8;
    private static final int VALUE_SIZE = 32;
    /** Keys {@code 0 .. STABLE-1}: inserted before the scans and never deleted, updated all the time. */
    private static final int STABLE = 512;
    /** Keys from here on: inserted once and later deleted for good. */
    private static final int DOOMED_BASE = 1 << 20;

    private static final int MAX_DOOMED = 200_000;
    private static final int WRITERS = 2;
    private static final long RUN_NANOS = TimeUnit.SECONDS.toNanos(4);
    private static final long MAX_WRITER_OPS = 3_000_000;
    private static final int MIN_SCANS = 20;
    private static final int MAX_SCANS = 5_000;

    @TempDir
    Path dir;

    private static FixedConfig config(Durability durability) {
        return FixedConfig.builder()
                .keySize(KEY_SIZE)
                .valueSize(VALUE_SIZE)
                .shards(4)
                .durability(durability)
                // long enough that superseded slots stay LIVE through many scans
                .groupInterval(java.time.Duration.ofMillis(200))
                .growthStepBytes(4096)
                .build();
    }

    private static byte[] key(long id) {
        return ByteBuffer.allocate(KEY_SIZE).putLong(id).array();
    }

    private static long idOf(byte[] key) {
        return ByteBuffer.wrap(key).getLong();
    }

    /** id, version, then two words derived from both (a value for another key or version does not check). */
    private static byte[] value(long id, long version) {
        return ByteBuffer.allocate(VALUE_SIZE)
                .putLong(id)
                .putLong(version)
                .putLong(id * 0x9E3779B97F4A7C15L ^ version)
                .putLong(~(id + version * 31))
                .array();
    }

    /** The version {@code v} holds if it is a whole value of key {@code id}, else -1. */
    private static long versionOf(long id, byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        long version = b.getLong(8);
        boolean whole = b.getLong(0) == id
                && b.getLong(16) == (id * 0x9E3779B97F4A7C15L ^ version)
                && b.getLong(24) == ~(id + version * 31);
        return whole ? version : -1;
    }

    @ParameterizedTest
    @EnumSource(
            value = Durability.class,
            names = {"NONE", "GROUP"})
    void aKeyChangedByTheVisitorAfterItWasReadAheadIsSeenAsItIsAtItsVisit(Durability durability) {
        try (FixedTree tree = FixedTree.open(dir, config(durability))) {
            for (long id = 0; id < 300; id++) {
                tree.put(key(id), value(id, 1));
            }
            List<Long> seen = new ArrayList<>();
            List<Long> versions = new ArrayList<>();
            long n = tree.scan(null, null, (k, v) -> {
                long id = idOf(k);
                seen.add(id);
                versions.add(versionOf(id, v));
                if (id == 0) {
                    // keys a scan that reads ahead would already hold when key 0 is visited
                    tree.delete(key(5));
                    tree.put(key(3), value(3, 2));
                    tree.delete(key(200));
                }
                return true;
            });
            assertThat(n).isEqualTo(298);
            assertThat(seen).doesNotContain(5L, 200L).hasSize(298).isSorted();
            assertThat(versions.get(seen.indexOf(3L)))
                    .as("key 3 updated before its visit")
                    .isEqualTo(2);
            assertThat(versions).as("every value whole").doesNotContain(-1L);
        }
    }

    /**
     * Every key's slot hint goes stale (each key updated, so it moved to another slot, whose old one stays LIVE
     * under GROUP until the group commit), some keys deleted and re-inserted: scans and every navigation still
     * return each key's newest value, before and after a reopen.
     */
    @ParameterizedTest
    @EnumSource(
            value = Durability.class,
            names = {"NONE", "GROUP", "SYNC"})
    void staleSlotHintsNeverYieldAnOldValue(Durability durability) {
        try (FixedTree tree = FixedTree.open(dir, config(durability))) {
            for (long id = 0; id < 400; id++) {
                tree.put(key(id), value(id, 1));
            }
            for (int round = 2; round <= 4; round++) {
                for (long id = 0; id < 400; id++) {
                    if (id % 7 == 0) {
                        tree.delete(key(id));
                    }
                    tree.put(key(id), value(id, round));
                }
                assertNewest(tree, round);
            }
        }
        try (FixedTree tree = FixedTree.open(dir, config(durability))) {
            assertNewest(tree, 4);
            for (long id = 0; id < 400; id++) {
                tree.put(key(id), value(id, 5));
            }
            assertNewest(tree, 5);
        }
    }

    private static void assertNewest(FixedTree tree, long version) {
        for (int pass = 0; pass < 2; pass++) {
            long[] next = {0};
            tree.scan(null, null, (k, v) -> {
                assertThat(idOf(k)).isEqualTo(next[0]);
                assertThat(versionOf(next[0], v)).as("key %d", next[0]).isEqualTo(version);
                next[0]++;
                return true;
            });
            assertThat(next[0]).isEqualTo(400);
        }
        long id = 399;
        for (var it = tree.descending(); it.hasNext(); id--) {
            FixedTree.Entry e = it.next();
            assertThat(idOf(e.key())).isEqualTo(id);
            assertThat(versionOf(id, e.value())).isEqualTo(version);
        }
        assertThat(id).isEqualTo(-1);
        assertThat(versionOf(0, tree.first().value())).isEqualTo(version);
        assertThat(versionOf(399, tree.last().value())).isEqualTo(version);
        assertThat(versionOf(200, tree.ceiling(key(200)).value())).isEqualTo(version);
        assertThat(versionOf(199, tree.lower(key(200)).value())).isEqualTo(version);
    }

    @ParameterizedTest
    @EnumSource(
            value = Durability.class,
            names = {"NONE", "GROUP"})
    void scansRacingWritersNeverSeeStaleDeletedOrInventedValues(Durability durability) throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("OrderedScanTest " + durability + ": seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        Random master = new Random(seed);
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        // per stable key: highest version whose put has started, and highest whose put has returned
        AtomicLongArray started = new AtomicLongArray(STABLE);
        AtomicLongArray returned = new AtomicLongArray(STABLE);
        // per doomed key (offset from DOOMED_BASE): the tick taken after its delete returned, 0 while live
        AtomicLongArray deletedAt = new AtomicLongArray(MAX_DOOMED);
        // per doomed key: the tick taken before its insert started
        AtomicLongArray insertedAt = new AtomicLongArray(MAX_DOOMED);
        AtomicLong tick = new AtomicLong(1);
        AtomicLong nextDoomed = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        AtomicLong visits = new AtomicLong();
        AtomicLong doomedVisits = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        try (FixedTree tree = FixedTree.open(dir, config(durability))) {
            for (int id = 0; id < STABLE; id++) {
                tree.put(key(id), value(id, 1));
                started.set(id, 1);
                returned.set(id, 1);
            }
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int owner = w;
                long wseed = master.nextLong();
                threads.add(Thread.ofPlatform().name("writer-" + w).unstarted(() -> {
                    Random rnd = new Random(wseed);
                    List<Long> live = new ArrayList<>();
                    try {
                        go.await();
                        for (long op = 0; op < MAX_WRITER_OPS && !stop.get(); op++) {
                            int choice = rnd.nextInt(4);
                            if (choice < 2) {
                                int id = rnd.nextInt(STABLE / WRITERS) * WRITERS + owner;
                                long v = started.get(id) + 1;
                                started.set(id, v);
                                tree.put(key(id), value(id, v));
                                returned.set(id, v);
                            } else if (choice == 2 || live.isEmpty()) {
                                long d = nextDoomed.getAndIncrement();
                                if (d >= MAX_DOOMED) {
                                    continue;
                                }
                                insertedAt.set((int) d, tick.incrementAndGet());
                                tree.put(key(DOOMED_BASE + d), value(DOOMED_BASE + d, 1));
                                live.add(d);
                            } else {
                                long d = live.remove(rnd.nextInt(live.size()));
                                tree.delete(key(DOOMED_BASE + d));
                                deletedAt.set((int) d, tick.incrementAndGet());
                            }
                            writes.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        failures.add("writer " + owner + " died: " + t);
                    }
                }));
            }
            long sseed = master.nextLong();
            threads.add(Thread.ofPlatform().name("scanner").unstarted(() -> {
                Random rnd = new Random(sseed);
                try {
                    go.await();
                    long end = System.nanoTime() + RUN_NANOS;
                    for (int s = 0; s < MAX_SCANS && (s < MIN_SCANS || System.nanoTime() < end); s++) {
                        scanOnce(
                                tree,
                                rnd,
                                started,
                                returned,
                                new AtomicLongArray[] {deletedAt, insertedAt},
                                tick,
                                failures,
                                visits,
                                doomedVisits);
                    }
                } catch (Throwable t) {
                    failures.add("scanner died: " + t);
                } finally {
                    stop.set(true);
                }
            }));
            threads.forEach(Thread::start);
            go.countDown();
            for (Thread t : threads) {
                t.join(120_000);
                assertThat(t.isAlive()).as(t.getName() + " still running").isFalse();
            }
        }
        System.out.println("OrderedScanTest: " + writes + " writes, " + visits + " pairs visited, " + doomedVisits
                + " of them short-lived keys");
        assertThat(failures).as("failures (seed " + seed + ")").isEmpty();
        assertThat(visits.get()).as("pairs visited").isPositive();
        assertThat(doomedVisits.get()).as("short-lived keys visited").isPositive();
    }

    /**
     * One scan of a random range (sometimes all keys, sometimes stopped early). Before each visit returns it
     * records, for every stable key, the version whose put had returned, and the tick: the next key's lookup starts
     * after that, so its value may not be older and a key deleted by then may not appear. The first visit also
     * records the tick: a key whose insert started after it was not there when the scan started.
     */
    private static void scanOnce(
            FixedTree tree,
            Random rnd,
            AtomicLongArray started,
            AtomicLongArray returned,
            AtomicLongArray[] deletedAndInsertedAt,
            AtomicLong tick,
            Queue<String> failures,
            AtomicLong visits,
            AtomicLong doomedVisits) {
        int lo = rnd.nextInt(STABLE);
        int hi = lo + rnd.nextInt(STABLE - lo + 1);
        boolean all = rnd.nextInt(4) == 0;
        byte[] from = all ? null : key(lo);
        // the upper bound reaches into the short-lived keys only when it is open
        byte[] to = all || rnd.nextBoolean() ? null : key(hi);
        int limit = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(150) : Integer.MAX_VALUE;
        AtomicLongArray deletedAt = deletedAndInsertedAt[0];
        AtomicLongArray insertedAt = deletedAndInsertedAt[1];
        long[] floor = new long[STABLE];
        long[] floorTick = {tick.get()};
        long[] firstVisitTick = {-1};
        snapshot(returned, floor);
        boolean[] seenStable = new boolean[STABLE];
        byte[][] previous = {null};
        int[] count = {0};
        String where = "scan [" + (from == null ? "-" : lo) + ", " + (to == null ? "-" : hi) + ")";
        tree.scan(from, to, (k, v) -> {
            if (firstVisitTick[0] < 0) {
                firstVisitTick[0] = tick.get();
            }
            long id = idOf(k);
            if (previous[0] != null && java.util.Arrays.compareUnsigned(previous[0], k) >= 0) {
                failures.add(where + ": key " + id + " not above the previous " + idOf(previous[0]));
            }
            previous[0] = k.clone();
            long version = versionOf(id, v);
            if (version < 0) {
                failures.add(where + ": key " + id + " has a value it never had: "
                        + HexFormat.of().formatHex(v));
            } else if (id < STABLE) {
                seenStable[(int) id] = true;
                if (version > started.get((int) id)) {
                    failures.add(where + ": key " + id + " version " + version + " that no put has started");
                }
                if (version < floor[(int) id]) {
                    failures.add(where + ": key " + id + " version " + version + " older than " + floor[(int) id]
                            + ", whose put returned before the lookup");
                }
            } else if (id >= DOOMED_BASE && id < DOOMED_BASE + MAX_DOOMED) {
                long deleted = deletedAt.get((int) (id - DOOMED_BASE));
                if (deleted != 0 && deleted <= floorTick[0]) {
                    failures.add(where + ": key " + id + " visited after its delete returned");
                }
                if (insertedAt.get((int) (id - DOOMED_BASE)) > firstVisitTick[0]) {
                    failures.add(where + ": key " + id + " inserted after the scan started");
                }
                doomedVisits.incrementAndGet();
            } else {
                failures.add(where + ": unknown key " + id);
            }
            visits.incrementAndGet();
            snapshot(returned, floor);
            floorTick[0] = tick.get();
            return ++count[0] < limit;
        });
        if (limit == Integer.MAX_VALUE) {
            int first = from == null ? 0 : lo;
            int last = to == null ? STABLE : hi;
            for (int id = first; id < last; id++) {
                if (!seenStable[id]) {
                    failures.add(where + ": key " + id + ", live throughout, not visited");
                }
            }
        }
    }

    private static void snapshot(AtomicLongArray returned, long[] into) {
        for (int i = 0; i < into.length; i++) {
            into[i] = returned.get(i);
        }
    }
}
