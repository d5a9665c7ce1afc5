package dev.armdb.server;

import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether an event loop may poll its sockets instead of sleeping, judged by how crowded the machine's processors are.
 * Polling pays only while a processor is free for it: then the next request finds the loop awake instead of paying a
 * wake-up. When more tasks want to run than there are processors, every microsecond the loop polls is taken from a
 * task that has work (the client, a follower process, the node's own replication and group commit), and the loop
 * serves fewer requests, not more.
 *
 * <p>While its loop polls, the governor counts the machine's runnable tasks (the loop itself included) every {@link
 * #SAMPLE_INTERVAL_NANOS}. After {@link #SAMPLES_PER_VERDICT} samples, if at least {@link #CROWDED_SAMPLES} of them
 * found more runnable tasks than {@code processors}, the loop stops polling for {@link #PAUSE_NANOS} and sleeps in its
 * selector whenever it finds nothing; then it polls again and the count starts afresh. A count the machine cannot give
 * (not Linux) leaves polling as configured.
 *
 * <p>Design note: measured with redis-benchmark SET, 50 clients, on two cores, polling 50 us against not polling, in
 * alternating calls: with the node alone, polling served 8% more requests at {@code -P 1} (median of 7 pairs); with a
 * follower process on the same cores, 11% fewer. Sampled every millisecond during those calls, more tasks than
 * processors were runnable in 14-19% of the samples with the node alone and in 56-78% with a follower, at both
 * pipeline depths; the threshold sits between. Against a loop that polls always but yields the processor after each
 * empty poll, in alternating calls (2026-12-05): with a follower process, SET {@code -P 1} served a median 7% and 10%
 * more requests (two runs of 7 pairs, the order swapped) and {@code -P 16} 3% more (5 pairs); the replication lag
 * benchmark's p99 at 50,000 writes/s was 0.72-0.82 ms against 0.82-0.94 with one follower (3 pairs) and 1.54-1.55
 * against 1.79-1.91 ms with three (2 pairs); alone, within 3% at both depths (5 pairs each, as often above as below).
 * An earlier two-pair lag run had seen the opposite (0.99-1.03 against 0.85-0.86 ms): the lag benchmark's p99 moves by
 * 10-20% from run to run on this machine.
 *
 * <p>Threading: confined to one event-loop thread.
 */
final class SpinGovernor {
    private static final Logger LOG = LoggerFactory.getLogger(SpinGovernor.class);

    /** How often a polling loop counts the runnable tasks. */
    static final long SAMPLE_INTERVAL_NANOS = 1_000_000;
    /** Samples per verdict. */
    static final int SAMPLES_PER_VERDICT = 64;
    /** Samples of a verdict that must find the machine crowded for polling to pause (three eighths). */
    static final int CROWDED_SAMPLES = 24;
    /** How long polling pauses after a crowded verdict. */
    static final long PAUSE_NANOS = 1_000_000_000L;

    private final IntSupplier runnableTasks;
    private final int processors;

    private boolean unknown;
    private boolean sampling;
    private long nextSampleNanos;
    private boolean paused;
    private long pausedUntilNanos;
    private int samples;
    private int crowded;
    private long pauses;

    /**
     * A governor over {@code runnableTasks}, which returns the machine's runnable tasks now, or a negative number if it
     * cannot tell, and a machine of {@code processors} processors.
     */
    SpinGovernor(IntSupplier runnableTasks, int processors) {
        if (processors < 1) {
            throw new IllegalArgumentException("processors must be >= 1, got " + processors);
        }
        this.runnableTasks = runnableTasks;
        this.processors = processors;
    }

    /**
     * True if the loop may poll now; false while polling pauses. Call only when the loop would otherwise poll: each
     * call may take a sample.
     */
    boolean maySpin(long nowNanos) {
        if (unknown) {
            return true;
        }
        if (paused) {
            if (nowNanos - pausedUntilNanos < 0) {
                return false;
            }
            paused = false;
            sampling = false;
        }
        if (!sampling || nowNanos - nextSampleNanos >= 0) {
            sampling = true;
            sample(nowNanos);
        }
        return !paused;
    }

    /** How many times polling paused since the start. */
    long pauses() {
        return pauses;
    }

    private void sample(long nowNanos) {
        nextSampleNanos = nowNanos + SAMPLE_INTERVAL_NANOS;
        int tasks = runnableTasks.getAsInt();
        if (tasks < 0) {
            unknown = true;
            LOG.debug("the machine's runnable tasks cannot be counted: event loops poll as configured");
            return;
        }
        samples++;
        if (tasks > processors) {
            crowded++;
        }
        if (samples == SAMPLES_PER_VERDICT) {
            if (crowded >= CROWDED_SAMPLES) {
                paused = true;
                pausedUntilNanos = nowNanos + PAUSE_NANOS;
                pauses++;
                LOG.debug(
                        "more tasks than {} processors runnable in {} of {} samples: polling pauses",
                        processors,
                        crowded,
                        samples);
            }
            samples = 0;
            crowded = 0;
        }
    }
}
