package dev.armdb.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Where the time of a lag run's samples went: for each sample, its whole lag and, from the write's scheduled start,
 * when the driver had sent its burst, when the leader's reply reached the driver, when the sampler polled first, and
 * how many polls found the write missing. {@link #describe} gives the means of the median tenth of the samples and of
 * the slowest hundredth, so that a slow tail can be told apart as the driver's (its burst sent late), the leader's (its
 * reply late), the sampler's (its first poll late) or the follower's (polls repeated, or a first poll that took long).
 * Sized when made, so the sampler allocates nothing while it records.
 *
 * <p>Threading: one recording thread; {@link #describe} after it stopped.
 */
final class LagSplit {
    private final long[] total;
    private final long[] sent;
    private final long[] reply;
    private final long[] firstPoll;
    private final int[] polls;
    private int n;

    /** Room for {@code capacity} samples; later ones are not kept. */
    LagSplit(int capacity) {
        total = new long[capacity];
        sent = new long[capacity];
        reply = new long[capacity];
        firstPoll = new long[capacity];
        polls = new int[capacity];
    }

    /** Records one sample's parts, in nanoseconds from the write's scheduled start. */
    void record(long totalNanos, long sentNanos, long replyNanos, long firstPollNanos, int missedPolls) {
        if (n < total.length) {
            total[n] = totalNanos;
            sent[n] = sentNanos;
            reply[n] = replyNanos;
            firstPoll[n] = firstPollNanos;
            polls[n] = missedPolls;
            n++;
        }
    }

    /** Samples recorded. */
    int samples() {
        return n;
    }

    /**
     * The whole lags recorded, as a histogram (up to 60 s, 3 significant digits). Built after the run, so that the
     * sampler's code has no histogram in it: a fresh histogram's first values take branches that the warm-up run's
     * compiled code had seen taken only before it was compiled, and recompiling them cost the measured run CPU.
     */
    Histogram histogram() {
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        for (int i = 0; i < n; i++) {
            h.recordValue(Math.min(h.getHighestTrackableValue(), Math.max(0, total[i])));
        }
        return h;
    }

    /** Two lines: the means of the median tenth of the samples by lag and of the slowest hundredth; "" under 100. */
    String describe() {
        if (n < 100) {
            return "";
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(total[a], total[b]));
        return part("median tenth", order, n * 45 / 100, n * 55 / 100) + "\n"
                + part("slowest hundredth", order, n * 99 / 100, n);
    }

    private String part(String name, Integer[] order, int from, int to) {
        double t = 0, d = 0, r = 0, f = 0, p = 0;
        for (int i = from; i < to; i++) {
            int s = order[i];
            t += total[s];
            d += sent[s];
            r += reply[s];
            f += firstPoll[s];
            p += polls[s];
        }
        int c = to - from;
        return String.format(
                Locale.ROOT,
                "%s of %d samples: lag %.0f us = driver sending %.0f us + leader reply %.0f us"
                        + " + sampler until first poll %.0f us + follower %.0f us (%.1f polls missed)",
                name,
                n,
                t / c / 1e3,
                d / c / 1e3,
                (r - d) / c / 1e3,
                (f - r) / c / 1e3,
                (t - f) / c / 1e3,
                p / c);
    }
}
