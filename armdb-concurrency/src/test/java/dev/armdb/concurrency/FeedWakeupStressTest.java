package dev.armdb.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.changes.ChangeFeed;
import dev.armdb.changes.FeedCursor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The change feed's park/unpark handshake: a cursor waiting in {@link FeedCursor#await} for the next entry never
 * sleeps through the {@link ChangeFeed#publish} of that entry (a lost wake-up).
 *
 * <p>Rounds, one entry each: the cursor's thread starts {@code await} with a park timeout of {@value #PARK_SECONDS} s,
 * the writer waits a random number of spins, publishes, and then gives the cursor {@value #GRACE_MILLIS} ms to take the
 * entry. A cursor still waiting by then with the entry published before it is a lost wake-up: only the park timeout
 * would have woken it. The grace is a bound on scheduling, not a measured speed (a woken thread runs within it on any
 * live machine); the check that fails is "still parked after the publish returned", never how fast a wake-up was.
 *
 * <p>The delays are drawn around a center that steers itself to where the cursor turns from spinning to parking
 * (down after a round that needed a wake-up, up after one the cursor saw while spinning), so most rounds publish
 * near the cursor's last check of the head and its announcement as parked, where both races under test live.
 *
 * <p>Mutations this test fails on (each applied, seen failing, and restored):
 *
 * <ul>
 *   <li>{@code FeedCursor.await}: the re-check of the head after announcing the wait removed (a publish between the
 *       cursor's last spin check and its announcement sees no parked cursor; the cursor then parks);
 *   <li>{@code ChangeFeed.publish}: the volatile store of the head weakened to a release store. On x86 that is
 *       the one reordering TSO allows (a store, then a load of another variable): the writer reads the parked count
 *       before its head store is visible while the cursor, announced, reads the old head. Caught in each of three
 *       runs, after 1,333 to 1,724 rounds; a default run holds 1,500 to 23,000 rounds on a shared two-core machine
 *       depending on its load, so a single default run may miss it; {@code -Psoak} runs twenty times as long.
 * </ul>
 *
 * <p>Runs {@value #DEFAULT_MILLIS} ms or {@value #MAX_ROUNDS} rounds by default ({@code -Darmdb.feed.millis}, times
 * {@code -Darmdb.lincheck.scale} under {@code -Psoak}). The spread of the delays comes from a printed seed
 * ({@code -Darmdb.feed.seed}); their center and the race itself are not replayable.
 */
class FeedWakeupStressTest {
    private static final long PARK_SECONDS = 60;
    private static final long GRACE_MILLIS = 2_000;
    private static final long DEFAULT_MILLIS = 10_000;
    private static final int MAX_ROUNDS = 5_000_000;
    private static final int MAX_DELAY_SPINS = 400;
    private static final int SPREAD = 40;
    private static final long STEER_NANOS = 20_000;

    private volatile long go;
    private volatile long taken;
    private volatile boolean stop;

    @Test
    void aWaitingCursorNeverSleepsThroughAPublish() throws Exception {
        Long fixed = Long.getLong("armdb.feed.seed");
        long seed = fixed != null ? fixed : new Random().nextLong();
        System.out.println(
                "FeedWakeupStressTest seed " + seed + " (replay the delays: -Darmdb.feed.seed=" + seed + ")");
        ChangeFeed feed = new ChangeFeed(1024, 0);
        AtomicReference<String> failure = new AtomicReference<>();
        try (FeedCursor cursor = feed.openCursor(0)) {
            Thread reader = new Thread(() -> readRounds(cursor, failure), "feed-cursor");
            reader.start();
            long rounds = 0;
            try {
                rounds = writeRounds(feed, cursor, reader, new Random(seed), failure);
            } finally {
                stop = true;
                cursor.wakeUp();
                reader.join(TimeUnit.SECONDS.toMillis(PARK_SECONDS + 10));
            }
            System.out.println("FeedWakeupStressTest: " + rounds + " rounds");
            assertThat(failure.get()).as("seed " + seed).isNull();
            assertThat(rounds).as("rounds run").isPositive();
        }
    }

    private long writeRounds(
            ChangeFeed feed, FeedCursor cursor, Thread reader, Random rnd, AtomicReference<String> failure) {
        long millis = Long.getLong("armdb.feed.millis", DEFAULT_MILLIS) * Lincheck.scale();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        long round = 1;
        int center = MAX_DELAY_SPINS / 2;
        for (; round <= MAX_ROUNDS && failure.get() == null; round++) {
            int delay = Math.clamp(center + rnd.nextInt(2 * SPREAD + 1) - SPREAD, 0, MAX_DELAY_SPINS);
            go = round;
            for (int i = 0; i < delay; i++) {
                Thread.onSpinWait();
            }
            feed.publish(round, (int) round);
            long publishedAt = System.nanoTime();
            if (!awaitTaken(round, publishedAt + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS))) {
                failure.compareAndSet(
                        null,
                        "lost wake-up in round " + round + " (delay " + delay + " spins): the cursor still waits "
                                + GRACE_MILLIS + " ms after the publish returned, thread state " + reader.getState());
                break;
            }
            // steer the delays to where the cursor turns from spinning to parking: a round that took a wake-up is
            // slow, one the cursor saw while spinning is fast; the races under test sit at that turn
            boolean slow = System.nanoTime() - publishedAt > STEER_NANOS;
            center = Math.clamp(center + (slow ? -1 : 1), 0, MAX_DELAY_SPINS);
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        System.out.println("FeedWakeupStressTest: delays centred at " + center + " spins at the end");
        return round;
    }

    private boolean awaitTaken(long round, long deadlineNanos) {
        for (int spins = 0; taken != round; spins++) {
            if (spins < 1_000) {
                Thread.onSpinWait();
            } else if (System.nanoTime() > deadlineNanos) {
                return taken == round;
            } else {
                Thread.yield();
            }
        }
        return true;
    }

    private void readRounds(FeedCursor cursor, AtomicReference<String> failure) {
        long round = 1;
        while (!stop) {
            if (go != round) {
                Thread.onSpinWait();
                continue;
            }
            // false only when the park timed out or woke spuriously: wait again (the writer judges the delay)
            while (!cursor.await(TimeUnit.SECONDS.toNanos(PARK_SECONDS))) {
                if (stop) {
                    return;
                }
            }
            int slot = cursor.poll();
            if (slot != (int) round) {
                failure.compareAndSet(null, "round " + round + ": await returned true, poll gave " + slot);
                return;
            }
            taken = round;
            round++;
        }
    }
}
