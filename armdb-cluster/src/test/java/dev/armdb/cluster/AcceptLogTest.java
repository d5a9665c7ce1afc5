package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The leader's record of accepted writes per term ({@link AcceptLog}) as the cluster gate keeps it, over a fake
 * monotonic clock: the first and last accept of each term at the time the fence checked them, nothing for refused or
 * merely looked-at writes, a window per term, the last few kept; and the bounds under concurrent accepts.
 */
class AcceptLogTest {
    private static final long LEASE = 2_000_000_000L;
    private static final long SEED = Long.getLong("armdb.cluster.seed", System.nanoTime());

    private long now = 1_000;
    private final LeaderFence fence = new LeaderFence(LEASE, () -> now, "g");
    private final ClusterGate gate = new ClusterGate(fence);

    AcceptLogTest() {
        gate.attach(new InSyncReplicas(
                "g",
                1,
                0,
                LEASE,
                10 * LEASE,
                () -> now,
                new InSyncReplicas.Acks() {
                    @Override
                    public long lastLsn(int shard) {
                        return 0;
                    }

                    @Override
                    public long acked(String followerId, int shard) {
                        return -1;
                    }

                    @Override
                    public long silentNanos(String followerId) {
                        return Long.MAX_VALUE;
                    }
                },
                () -> false));
    }

    private AcceptLog.Window window(long term) {
        return fence.accepts().recent().stream()
                .filter(w -> w.term() == term)
                .findFirst()
                .orElseThrow();
    }

    @Test
    void eachTermRecordsItsFirstAndLastAcceptedWriteAndNothingElse() {
        assertThat(gate.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        assertThat(fence.accepts().recent()).isEmpty();

        fence.confirmLeader(now, 1);
        assertThat(gate.refuseWrite()).isEqualTo(LeaderFence.TAKING_OVER);
        assertThat(window(1).first()).as("a refused write is not an accept").isEqualTo(AcceptLog.NONE);
        now += LEASE;
        fence.confirmLeader(now, 1);
        long firstAt = ++now;
        assertThat(gate.refuseWrite()).isNull();
        now += 5;
        assertThat(gate.admitWrite()).isTrue();
        long lastAt = now;
        now += 5;
        assertThat(gate.mayWrite()).as("looking only").isTrue();
        assertThat(window(1).first()).isEqualTo(firstAt);
        assertThat(window(1).last()).isEqualTo(lastAt);

        // the lease runs out: refused, and the record keeps the last write accepted within it
        now = firstAt - 1 + LEASE;
        assertThat(gate.refuseWrite()).isEqualTo(LeaderFence.LEASE_EXPIRED);
        assertThat(gate.admitWrite()).isFalse();
        assertThat(window(1).last()).isEqualTo(lastAt);

        // a new term gets a window of its own from its first accept on, after its takeover wait
        fence.confirmLeader(now, 2);
        assertThat(gate.refuseWrite()).isEqualTo(LeaderFence.TAKING_OVER);
        now += LEASE;
        fence.confirmLeader(now, 2);
        assertThat(gate.admitWrite()).isTrue();
        assertThat(window(2).first()).isEqualTo(now).isEqualTo(window(2).last());
        assertThat(fence.accepts().recent()).extracting(AcceptLog.Window::term).containsExactly(2L, 1L);
        assertThat(window(1).last()).isEqualTo(lastAt);
    }

    @Test
    void theLastFewTermsAreKept() {
        AcceptLog log = new AcceptLog();
        for (long t = 1; t <= AcceptLog.KEPT + 3; t++) {
            log.open(t);
            log.open(t);
            log.current().accepted(t * 10);
        }
        assertThat(log.recent()).hasSize(AcceptLog.KEPT);
        assertThat(log.recent().getFirst().term()).isEqualTo(AcceptLog.KEPT + 3);
        assertThat(log.recent().getLast().term()).isEqualTo(4);
        assertThat(log.current().first()).isEqualTo((AcceptLog.KEPT + 3) * 10L);
    }

    /** Threads accepting shuffled times at once leave exactly the earliest and the latest. */
    @Test
    void concurrentAcceptsKeepTheEarliestAndTheLatest() throws Exception {
        System.out.println("AcceptLogTest seed " + SEED + " (-Darmdb.cluster.seed)");
        Random random = new Random(SEED);
        int threads = 4;
        for (int round = 0; round < 50; round++) {
            AcceptLog.Window w = new AcceptLog.Window(round);
            List<Long> times = new ArrayList<>();
            // anywhere on the clock, wrapping included, as System.nanoTime() may be
            long base = random.nextLong();
            for (int i = 0; i < 4_000; i++) {
                times.add(base + random.nextInt(1_000_000));
            }
            Collections.shuffle(times, random);
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Long> mine = times.subList(t * times.size() / threads, (t + 1) * times.size() / threads);
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    mine.forEach(w::accepted);
                }));
            }
            go.countDown();
            for (Thread t : ts) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }
            long min = times.stream().reduce((a, b) -> b - a < 0 ? b : a).orElseThrow();
            long max = times.stream().reduce((a, b) -> b - a > 0 ? b : a).orElseThrow();
            assertThat(w.first()).as("seed %d round %d", SEED, round).isEqualTo(min);
            assertThat(w.last()).as("seed %d round %d", SEED, round).isEqualTo(max);
        }
    }
}
