package dev.armdb.replication.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.changes.ChangeFeed;
import dev.armdb.changes.DeferredWakeups;
import dev.armdb.changes.FeedCursor;
import java.nio.channels.Selector;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A writer flushing its held wake-ups steps a waiting worker's sessions itself ({@code SafePointWaker}): the entries
 * it published are taken on its own thread before the flush returns, and sessions are never stepped by two threads at
 * once, whoever publishes, flushes or wakes.
 *
 * <p>Mutation check (done when written, each fails here): a safe-point wake that only wakes the selector fails the
 * first test; stepping without taking the worker's pass lock fails the second (two threads inside the sessions).
 */
class SafePointStepTest {
    private static final long WAIT = TimeUnit.SECONDS.toNanos(30);

    /** Reads one feed and records what it read, and on which thread; flags any overlap with another stepper. */
    private static final class FeedSession extends EndableSession {
        private final FeedCursor cursor;
        private final AtomicInteger inside;
        private final AtomicInteger overlaps;
        private final long[] received;
        /** Plain on purpose: only the worker's pass lock orders it between the threads that step the session. */
        private int count;

        private volatile int published;
        private volatile Thread worker;
        private final AtomicLong takenOffWorker = new AtomicLong();

        FeedSession(ChangeFeed feed, int capacity, AtomicInteger inside, AtomicInteger overlaps) {
            super("one-worker");
            this.cursor = feed.openCursor(0);
            this.received = new long[capacity];
            this.inside = inside;
            this.overlaps = overlaps;
        }

        @Override
        public void adopted(Selector selector, long nowNs) {
            worker = Thread.currentThread();
        }

        @Override
        public int doWork(long nowNs, boolean stopping) {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            try {
                int n = 0;
                for (int slot; n < 16 && (slot = cursor.poll()) >= 0; n++) {
                    received[count++] = slot;
                }
                if (n > 0 && Thread.currentThread() != worker) {
                    takenOffWorker.addAndGet(n);
                }
                published = count;
                return n;
            } finally {
                inside.decrementAndGet();
            }
        }

        @Override
        public boolean armWakeup(Runnable waker) {
            return cursor.armWakeup(waker);
        }

        @Override
        public void disarmWakeup(Runnable waker) {
            cursor.disarmWakeup(waker);
        }

        @Override
        public boolean quiet() {
            return true;
        }

        @Override
        public long deadline(long nowNs) {
            return nowNs + TimeUnit.HOURS.toNanos(1);
        }

        /** Waits until {@code n} entries were read; then checks they are 1..n in order. */
        void awaitReadInOrder(int n) throws InterruptedException {
            long end = System.nanoTime() + WAIT;
            while (published < n && System.nanoTime() < end) {
                Thread.sleep(1);
            }
            assertThat(published).as("entries read").isEqualTo(n);
            for (int i = 0; i < n; i++) {
                if (received[i] != i + 1) {
                    throw new AssertionError("entry " + i + " read as slot " + received[i] + ", expected " + (i + 1));
                }
            }
        }
    }

    @Test
    void aFlushStepsTheWaitingWorkersSessionOnTheWritersThread() throws Exception {
        ChangeFeed feed = new ChangeFeed(1024, 0);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        FeedSession s = new FeedSession(feed, 1024, inside, overlaps);
        try (SessionWorkers pool = new SessionWorkers(1, "safe-point-test", () -> false)) {
            pool.start();
            pool.adopt(s);
            DeferredWakeups held = DeferredWakeups.installOnCurrentThread();
            try {
                int lsn = 0;
                long end = System.nanoTime() + WAIT;
                // the worker may still be starting or arming: a flush that finds it busy only wakes it
                while (s.takenOffWorker.get() == 0 && lsn < 1000 && System.nanoTime() < end) {
                    feed.publish(++lsn, lsn);
                    Thread.sleep(5);
                    held.flush();
                }
                assertThat(s.takenOffWorker.get())
                        .as("entries a flush read itself, out of %d published", lsn)
                        .isPositive();
                s.awaitReadInOrder(lsn);
            } finally {
                DeferredWakeups.uninstallFromCurrentThread();
            }
        }
        assertThat(overlaps).hasValue(0);
    }

    @Test
    void writersFlushingWhileTheWorkerRunsNeverStepASessionTwiceAtOnce() throws Exception {
        long seed = System.nanoTime();
        System.out.println("SafePointStepTest seed " + seed);
        int perWriter = 100_000;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        ChangeFeed[] feeds = {new ChangeFeed(1 << 17, 0), new ChangeFeed(1 << 17, 0)};
        FeedSession[] sessions = new FeedSession[feeds.length];
        try (SessionWorkers pool = new SessionWorkers(2, "safe-point-test", () -> false)) {
            pool.start();
            Thread[] writers = new Thread[feeds.length];
            for (int w = 0; w < feeds.length; w++) {
                sessions[w] = new FeedSession(feeds[w], perWriter, inside, overlaps);
                pool.adopt(sessions[w]);
                ChangeFeed feed = feeds[w];
                SplittableRandom random = new SplittableRandom(seed + w);
                writers[w] = Thread.ofPlatform().start(() -> publishAll(feed, perWriter, random));
            }
            for (Thread t : writers) {
                t.join(TimeUnit.NANOSECONDS.toMillis(WAIT));
            }
            for (FeedSession s : sessions) {
                s.awaitReadInOrder(perWriter);
            }
        }
        assertThat(overlaps)
                .as("passes of two threads inside the sessions (seed %d)", seed)
                .hasValue(0);
        assertThat(sessions[0].takenOffWorker.get() + sessions[1].takenOffWorker.get())
                .as("entries writers read at their flushes (seed %d)", seed)
                .isPositive();
    }

    /** Publishes 1..n, flushing after 1 to 8 entries, with every 16th stretch published without a holder. */
    private static void publishAll(ChangeFeed feed, int n, SplittableRandom random) {
        DeferredWakeups held = DeferredWakeups.installOnCurrentThread();
        try {
            int lsn = 0;
            while (lsn < n) {
                boolean holding = random.nextInt(16) != 0;
                if (!holding) {
                    DeferredWakeups.uninstallFromCurrentThread();
                }
                for (int k = 1 + random.nextInt(8); k > 0 && lsn < n; k--) {
                    feed.publish(++lsn, lsn);
                }
                if (holding) {
                    held.flush();
                } else {
                    held = DeferredWakeups.installOnCurrentThread();
                }
                if (random.nextInt(64) == 0) {
                    Thread.onSpinWait();
                    Thread.yield();
                }
            }
        } finally {
            DeferredWakeups.uninstallFromCurrentThread();
        }
    }
}
