package dev.armdb.changes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ChangeFeedTest {
    @Test
    void cursorsReadEveryEntryInOrderEachAtItsOwnPosition() {
        ChangeFeed feed = new ChangeFeed(16, 100);
        try (FeedCursor a = feed.openCursor(100);
                FeedCursor b = feed.openCursor(100)) {
            assertThat(a.poll()).isEqualTo(FeedCursor.NOT_YET);
            for (long lsn = 101; lsn <= 110; lsn++) {
                feed.publish(lsn, (int) lsn * 3);
            }
            for (long lsn = 101; lsn <= 110; lsn++) {
                assertThat(a.poll()).isEqualTo((int) lsn * 3);
            }
            assertThat(a.poll()).isEqualTo(FeedCursor.NOT_YET);
            assertThat(b.backlog()).isEqualTo(10);
            assertThat(b.poll()).isEqualTo(303);
            assertThat(feed.cursorCount()).isEqualTo(2);
        }
        assertThat(feed.cursorCount()).isZero();
    }

    @Test
    void lappedCursorIsToldAndCoverageIsExact() {
        ChangeFeed feed = new ChangeFeed(16, 0);
        try (FeedCursor c = feed.openCursor(0)) {
            for (long lsn = 1; lsn <= 40; lsn++) {
                feed.publish(lsn, (int) lsn);
            }
            assertThat(c.poll()).isEqualTo(FeedCursor.LAPPED);
            assertThat(feed.oldestLsn()).isEqualTo(25);
            assertThat(feed.covers(24)).isTrue();
            assertThat(feed.covers(23)).isFalse();
            c.resetAfter(24);
            assertThat(c.poll()).isEqualTo(25);
        }
    }

    @Test
    void aParkedCursorIsWokenByThePublisher() throws Exception {
        ChangeFeed feed = new ChangeFeed(16, 0);
        CountDownLatch parked = new CountDownLatch(1);
        AtomicBoolean woke = new AtomicBoolean();
        Thread reader = Thread.ofPlatform().start(() -> {
            try (FeedCursor c = feed.openCursor(0)) {
                parked.countDown();
                woke.set(c.await(TimeUnit.SECONDS.toNanos(30)) && c.poll() == 7);
            }
        });
        parked.await();
        Thread.sleep(50);
        long start = System.nanoTime();
        feed.publish(1, 7);
        reader.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(woke).isTrue();
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(20));
    }

    /**
     * An armed waker runs once per arming, on the publishing thread; arming over unread entries reports them and
     * leaves nothing armed; a disarmed waker and the waker of a closed cursor never run.
     */
    @Test
    void anArmedWakerRunsOncePerArming() {
        ChangeFeed feed = new ChangeFeed(16, 0);
        FeedCursor c = feed.openCursor(0);
        AtomicInteger runs = new AtomicInteger();
        Runnable waker = runs::incrementAndGet;
        assertThat(c.armWakeup(waker)).isFalse();
        assertThat(c.armWakeup(waker)).as("armed twice").isFalse();
        feed.publish(1, 3);
        feed.publish(2, 4);
        assertThat(runs).as("runs after two publishes").hasValue(1);

        assertThat(c.armWakeup(waker)).as("entries 1 and 2 unread").isTrue();
        feed.publish(3, 5);
        assertThat(runs).as("nothing left armed over unread entries").hasValue(1);

        for (int i = 0; i < 3; i++) {
            assertThat(c.poll()).isGreaterThanOrEqualTo(0);
        }
        assertThat(c.armWakeup(waker)).isFalse();
        c.disarmWakeup(waker);
        feed.publish(4, 6);
        assertThat(runs).as("disarmed").hasValue(1);

        assertThat(c.poll()).isEqualTo(6);
        assertThat(c.armWakeup(waker)).isFalse();
        feed.publish(5, 7);
        assertThat(runs).as("rearmed").hasValue(2);
        assertThat(c.poll()).isEqualTo(7);
        assertThat(c.armWakeup(waker)).isFalse();
        c.close();
        feed.publish(6, 8);
        assertThat(runs).as("closed").hasValue(2);
    }

    /**
     * No lost wake-up: an owner that reads every entry, arms its waker and waits only when arming found nothing, is
     * woken for every entry a concurrent writer publishes. The writer publishes small groups and waits for the owner
     * to read each before the next, so a wake-up lost for a group's last entry leaves the owner waiting past the 10 s
     * bound. Group sizes and pauses are seeded; {@code -Darmdb.seed=N} repeats a run.
     */
    @Test
    void anOwnerWaitingOnAnArmedWakerMissesNoPublish() throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("anOwnerWaitingOnAnArmedWakerMissesNoPublish seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        int entries = 20_000;
        ChangeFeed feed = new ChangeFeed(1 << 15, 0);
        FeedCursor c = feed.openCursor(0);
        Semaphore woken = new Semaphore(0);
        Runnable waker = woken::release;
        AtomicInteger readCount = new AtomicInteger();
        Thread writer = Thread.ofPlatform().start(() -> {
            java.util.Random rnd = new java.util.Random(seed);
            long bound = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int lsn = 1; lsn <= entries; lsn++) {
                feed.publish(lsn, lsn);
                if (rnd.nextInt(3) == 0) {
                    while (readCount.get() < lsn && System.nanoTime() < bound) {
                        Thread.onSpinWait();
                    }
                    if (rnd.nextInt(16) == 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(rnd.nextInt(20_000));
                    }
                }
            }
        });
        int read = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (read < entries && System.nanoTime() < deadline) {
            int slot;
            while ((slot = c.poll()) >= 0) {
                assertThat(slot).isEqualTo(++read);
            }
            readCount.set(read);
            if (read < entries && !c.armWakeup(waker)) {
                assertThat(woken.tryAcquire(10, TimeUnit.SECONDS))
                        .as("woken after entry %d (seed %d)", read, seed)
                        .isTrue();
            }
        }
        writer.join(70_000);
        assertThat(read).isEqualTo(entries);
    }
}
