package dev.armdb.replication.follower;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link DurablePoints} against a model of a shard's forces (serialised: each begins, then completes): a point is
 * handed out only when a force begun after it completed (never early), points come out in increasing order, the
 * newest point comes out once a force begun after it completes (never lost), and a point waits while one not handed
 * out exists.
 *
 * <p>Seed: {@code -Darmdb.seed=...} (printed). Mutation check (done when written, each fails here): a predicate that
 * ignores marks; a merge that keeps the older mark; dropping the newest point when full.
 */
class DurablePointsTest {
    private static final int RUNS = 2_000;
    private static final int STEPS = 200;

    @Test
    void pointsComeOutOnlyAfterAForceThatBeganAfterThemAndNoneIsLost() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("DurablePointsTest: seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        Random rnd = new Random(seed);
        for (int run = 0; run < RUNS; run++) {
            runOnce(new Random(rnd.nextLong()), seed, run);
        }
    }

    private static void runOnce(Random rnd, long seed, int run) {
        DurablePoints points = new DurablePoints();
        long[] begun = {0};
        long[] done = {0};
        boolean forcing = false;
        List<long[]> reached = new ArrayList<>(); // {lsn, mark}
        long lastOut = 0;
        long lsn = 0;
        for (int step = 0; step < STEPS; step++) {
            String where = "seed " + seed + ", run " + run + ", step " + step;
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    lsn += 1 + rnd.nextInt(3);
                    points.reached(lsn, begun[0]);
                    reached.add(new long[] {lsn, begun[0]});
                }
                case 1 -> {
                    if (!forcing) {
                        begun[0]++;
                        forcing = true;
                    }
                }
                case 2 -> {
                    if (forcing) {
                        done[0] = begun[0];
                        forcing = false;
                    }
                }
                default -> {
                    long out = points.takeDurable(mark -> done[0] > mark);
                    if (out >= 0) {
                        long l = out;
                        long[] p = reached.stream()
                                .filter(r -> r[0] == l)
                                .findFirst()
                                .orElseThrow(() -> new AssertionError(where + ": handed out " + l + ", never reached"));
                        assertThat(done[0])
                                .as(where + ": point " + l + " (mark " + p[1] + ") handed out before a force"
                                        + " begun after it completed")
                                .isGreaterThan(p[1]);
                        assertThat(out).as(where + ": order").isGreaterThan(lastOut);
                        lastOut = out;
                    }
                }
            }
            long handedOut = lastOut;
            boolean waiting = reached.stream().anyMatch(r -> r[0] > handedOut);
            assertThat(points.pending()).as(where + ": pending").isEqualTo(waiting);
        }
        // a force begun after everything, completed: the newest point comes out
        if (forcing) {
            done[0] = begun[0];
        }
        begun[0]++;
        done[0] = begun[0];
        long out = points.takeDurable(mark -> done[0] > mark);
        if (lsn > lastOut) {
            assertThat(out)
                    .as("seed " + seed + ", run " + run + ": the newest point after a later force")
                    .isEqualTo(lsn);
        }
        assertThat(points.pending()).isFalse();
    }
}
