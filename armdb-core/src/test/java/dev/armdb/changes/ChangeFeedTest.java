package dev.armdb.changes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
}
