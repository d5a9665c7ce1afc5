package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's replication term ({@code db.term}): it only rises, survives reopen and a crash at any point of its
 * rewrite, a promotion moves it above every term seen, and a damaged file is refused rather than guessed. The
 * concurrency part is seeded ({@code -Darmdb.seed=N} repeats a run).
 */
class TermTest {
    private static final long SEED = Long.getLong("armdb.seed", System.nanoTime());

    @TempDir
    Path dir;

    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.NONE)
                .build();
    }

    private long termOnDisk() throws Exception {
        return TermStateLayout.decode(Files.readAllBytes(dir.resolve(TermStateLayout.FILE_NAME)));
    }

    @Test
    void aTermOnlyRisesAndSurvivesReopen() throws Exception {
        try (FixedMap map = FixedMap.open(dir, config())) {
            Store store = map.engine();
            assertThat(store.term()).isZero();
            assertThat(Files.exists(dir.resolve(TermStateLayout.FILE_NAME)))
                    .as("no file until a term is raised")
                    .isFalse();
            assertThat(store.raiseTerm(5)).isEqualTo(5);
            assertThat(termOnDisk()).isEqualTo(5);
            assertThat(store.raiseTerm(3)).as("a lower term changes nothing").isEqualTo(5);
            assertThat(store.raiseTerm(5)).isEqualTo(5);
            assertThat(termOnDisk()).isEqualTo(5);
            assertThatThrownBy(() -> store.raiseTerm(-1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-1");
        }
        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.engine().term()).isEqualTo(5);
        }
    }

    @Test
    void promotionMovesTheTermAboveEveryTermSeenAndOnlyAReplicaIsPromoted() throws Exception {
        try (FixedMap map = FixedMap.open(dir, config())) {
            Store store = map.engine();
            store.promote();
            assertThat(store.term())
                    .as("promoting a writable collection is a no-op")
                    .isZero();
            store.replica(true);
            store.raiseTerm(41);
            store.promote();
            assertThat(store.term()).isEqualTo(42);
            assertThat(termOnDisk())
                    .as("durable before the node writes as a leader")
                    .isEqualTo(42);
            map.put(new byte[8], new byte[8]);
        }
        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.engine().term()).isEqualTo(42);
            map.engine().replica(true);
            map.engine().promote();
            assertThat(map.engine().term()).isEqualTo(43);
        }
    }

    @Test
    void promotionAtTheHighestTermIsRefusedAndLeavesAReplica() {
        try (FixedMap map = FixedMap.open(dir, config())) {
            Store store = map.engine();
            store.replica(true);
            store.raiseTerm(Long.MAX_VALUE);
            assertThatThrownBy(store::promote)
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining(String.valueOf(Long.MAX_VALUE));
            assertThat(store.isReplica()).isTrue();
            assertThat(store.term()).isEqualTo(Long.MAX_VALUE);
        }
    }

    /**
     * A crash during the rewrite leaves either the old file and a temporary file (before the rename) or the new file
     * (after it): the open reads the old term or the new one. A failed write changes neither memory nor disk.
     */
    @Test
    void aCrashOrAFailedWriteNeverLosesOrHalfWritesTheTerm() throws Exception {
        try (FixedMap map = FixedMap.open(dir, config())) {
            map.engine().raiseTerm(7);
        }
        Path tmp = dir.resolve(TermStateLayout.FILE_NAME + ".tmp");
        // crash before the rename, at every length of the new file written so far
        byte[] next = TermStateLayout.encode(9);
        for (int n = 0; n <= next.length; n++) {
            Files.write(tmp, java.util.Arrays.copyOf(next, n));
            try (FixedMap map = FixedMap.open(dir, config())) {
                assertThat(map.engine().term())
                        .as("crash with %d bytes of the new file written", n)
                        .isEqualTo(7);
            }
        }
        Files.deleteIfExists(tmp);
        Files.createDirectory(tmp);
        try (FixedMap map = FixedMap.open(dir, config())) {
            Store store = map.engine();
            assertThatThrownBy(() -> store.raiseTerm(8))
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("cannot record replication term 8");
            assertThat(store.term()).as("not published when not durable").isEqualTo(7);
            assertThat(termOnDisk()).isEqualTo(7);
            store.replica(true);
            assertThatThrownBy(store::promote).isInstanceOf(ArmDbException.class);
            assertThat(store.isReplica())
                    .as("no promotion without its term on disk")
                    .isTrue();
            Files.delete(tmp);
            assertThat(store.raiseTerm(8)).isEqualTo(8);
        }
    }

    @Test
    void aDamagedTermFileIsRefusedNotGuessed() throws Exception {
        try (FixedMap map = FixedMap.open(dir, config())) {
            map.engine().raiseTerm(0x0102030405060708L);
        }
        Path file = dir.resolve(TermStateLayout.FILE_NAME);
        byte[] good = Files.readAllBytes(file);
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x10;
            Files.write(file, bad);
            int at = i;
            assertThatThrownBy(() -> FixedMap.open(dir, config()))
                    .as("byte %d flipped", at)
                    .isInstanceOf(ArmDbCorruptException.class)
                    .hasMessageContaining(TermStateLayout.FILE_NAME);
        }
        Files.write(file, java.util.Arrays.copyOf(good, good.length - 1));
        assertThatThrownBy(() -> FixedMap.open(dir, config()))
                .isInstanceOf(ArmDbCorruptException.class)
                .hasMessageContaining("must be 28 bytes, found 27");
        Files.write(file, good);
        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.engine().term()).isEqualTo(0x0102030405060708L);
        }
    }

    /** Threads raise random terms at once; the term ends at the highest, on disk too, and never went down. */
    @Test
    void concurrentRaisesLeaveTheHighest() throws Exception {
        System.out.println("TermTest seed " + SEED + " (repeat with -Darmdb.seed=" + SEED + ")");
        Random rnd = new Random(SEED);
        try (FixedMap map = FixedMap.open(dir, config())) {
            Store store = map.engine();
            int threads = 4;
            long[][] terms = new long[threads][50];
            long max = 0;
            for (long[] t : terms) {
                for (int i = 0; i < t.length; i++) {
                    t[i] = rnd.nextInt(1_000_000);
                    max = Math.max(max, t[i]);
                }
            }
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> started = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (long[] t : terms) {
                started.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await(10, TimeUnit.SECONDS);
                        for (long x : t) {
                            long before = store.term();
                            long after = store.raiseTerm(x);
                            if (after < x || after < before) {
                                failures.add(new AssertionError("raise " + x + " from " + before + " gave " + after));
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : started) {
                t.join(30_000);
            }
            assertThat(failures).as("seed %d", SEED).isEmpty();
            assertThat(store.term()).as("seed %d", SEED).isEqualTo(max);
            assertThat(termOnDisk()).as("seed %d", SEED).isEqualTo(max);
        }
    }
}
