package dev.armdb.changes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * {@link DeferredWakeups}: a writer thread holding wake-ups wakes a parked reader at its flush and not before, a full
 * holder falls back to waking at once, and two writer threads holding the same feed never lose a wake-up.
 *
 * <p>Mutation check (done when written, each fails here): a flush that forgets to wake; {@code add} reporting
 * success when full. (Skipping a feed another holder took only loses a wake-up when that holder's flush races the
 * skip; the two-holder run did not catch it.)
 */
class DeferredWakeupsTest {
    private static final long LONG_WAIT = TimeUnit.SECONDS.toNanos(60);

    @Test
    void aHeldWakeUpReachesTheParkedReaderAtTheFlushAndNotBefore() throws Exception {
        ChangeFeed feed = new ChangeFeed(16, 0);
        CountDownLatch woke = new CountDownLatch(1);
        AtomicBoolean saw = new AtomicBoolean();
        Thread reader = Thread.ofPlatform().start(() -> {
            try (FeedCursor c = feed.openCursor(0)) {
                saw.set(c.await(LONG_WAIT) && c.poll() == 7);
                woke.countDown();
            }
        });
        awaitParked(reader);
        DeferredWakeups held = DeferredWakeups.installOnCurrentThread();
        try {
            feed.publish(1, 7);
            assertThat(held.held()).isEqualTo(1);
            assertThat(woke.await(200, TimeUnit.MILLISECONDS))
                    .as("the reader woke before the flush")
                    .isFalse();
            held.flush();
            assertThat(held.held()).isZero();
            assertThat(woke.await(30, TimeUnit.SECONDS))
                    .as("the flush woke the reader")
                    .isTrue();
            assertThat(saw).isTrue();
        } finally {
            DeferredWakeups.uninstallFromCurrentThread();
            reader.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    @Test
    void eachFeedIsHeldOnceAndAFullHolderRefuses() {
        DeferredWakeups held = DeferredWakeups.installOnCurrentThread();
        try {
            ChangeFeed[] feeds = new ChangeFeed[DeferredWakeups.CAPACITY + 1];
            for (int i = 0; i < feeds.length; i++) {
                feeds[i] = new ChangeFeed(2, 0);
            }
            for (int i = 0; i < DeferredWakeups.CAPACITY; i++) {
                assertThat(held.add(feeds[i])).isTrue();
                assertThat(held.add(feeds[i])).as("the same feed again").isTrue();
            }
            assertThat(held.held()).isEqualTo(DeferredWakeups.CAPACITY);
            assertThat(held.add(feeds[DeferredWakeups.CAPACITY]))
                    .as("a full holder: the publisher must wake at once")
                    .isFalse();
            held.flush();
            assertThat(held.held()).isZero();
            assertThat(held.add(feeds[0]))
                    .as("after the flush a feed is held again")
                    .isTrue();
            assertThat(held.held()).isEqualTo(1);
        } finally {
            DeferredWakeups.uninstallFromCurrentThread();
        }
    }

    /**
     * Two writer threads, each holding wake-ups and flushing at random, publish to one feed under a lock (as a shard's
     * writers do); a reader that parks with a long timeout must see every entry without ever timing out.
     */
    @Test
    void twoHoldersOfOneFeedNeverLoseAWakeUp() throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("DeferredWakeupsTest: seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        int entries = 20_000;
        ChangeFeed feed = new ChangeFeed(1 << 16, 0);
        ReentrantLock writeLock = new ReentrantLock();
        AtomicLong lsn = new AtomicLong();
        AtomicBoolean timedOut = new AtomicBoolean();
        FeedCursor cursor = feed.openCursor(0);
        Thread reader = Thread.ofPlatform().start(() -> {
            long read = 0;
            while (read < entries && !timedOut.get()) {
                if (cursor.poll() >= 0) {
                    read++;
                } else {
                    long start = System.nanoTime();
                    // await may return early (a wake-up permit left from an earlier claim); only its timeout counts
                    if (!cursor.await(LONG_WAIT) && System.nanoTime() - start >= LONG_WAIT) {
                        timedOut.set(true);
                    }
                }
            }
        });
        Thread[] writers = new Thread[2];
        for (int w = 0; w < writers.length; w++) {
            Random rnd = new Random(seed + w);
            writers[w] = Thread.ofPlatform().start(() -> {
                DeferredWakeups held = DeferredWakeups.installOnCurrentThread();
                try {
                    while (true) {
                        writeLock.lock();
                        try {
                            long next = lsn.get() + 1;
                            if (next > entries) {
                                break;
                            }
                            feed.publish(next, (int) next);
                            lsn.set(next);
                        } finally {
                            writeLock.unlock();
                        }
                        if (rnd.nextInt(8) == 0) {
                            held.flush();
                        }
                    }
                } finally {
                    DeferredWakeups.uninstallFromCurrentThread();
                }
            });
        }
        for (Thread w : writers) {
            w.join(TimeUnit.SECONDS.toMillis(120));
        }
        reader.join(TimeUnit.SECONDS.toMillis(120));
        cursor.close();
        assertThat(timedOut).as("a wake-up was lost (seed " + seed + ")").isFalse();
        assertThat(cursor.nextLsn()).isEqualTo(entries + 1);
    }

    private static void awaitParked(Thread reader) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (reader.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(reader.getState()).as("the reader parked").isEqualTo(Thread.State.TIMED_WAITING);
    }
}
