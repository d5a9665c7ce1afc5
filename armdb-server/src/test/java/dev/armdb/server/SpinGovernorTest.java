package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/**
 * An event loop polls only while the machine has a processor free for it: the governor pauses polling after a verdict
 * whose samples found more runnable tasks than processors often enough, resumes after the pause, and leaves polling
 * alone where the tasks cannot be counted. Driven by a fake clock and a scripted task count.
 */
class SpinGovernorTest {
    private static final long TICK = SpinGovernor.SAMPLE_INTERVAL_NANOS;

    @Test
    void aMachineWithAProcessorToSpareNeverPausesPolling() {
        AtomicInteger samples = new AtomicInteger();
        SpinGovernor g = new SpinGovernor(counting(samples, 2), 2);
        long now = 0;
        for (int i = 0; i < 10 * SpinGovernor.SAMPLES_PER_VERDICT; i++, now += TICK) {
            assertThat(g.maySpin(now)).isTrue();
        }
        assertThat(g.pauses()).isZero();
        assertThat(samples.get()).isEqualTo(10 * SpinGovernor.SAMPLES_PER_VERDICT);
    }

    @Test
    void aSampleIsTakenAtMostOncePerInterval() {
        AtomicInteger samples = new AtomicInteger();
        SpinGovernor g = new SpinGovernor(counting(samples, 1), 2);
        for (long now = 0; now < 10 * TICK; now += TICK / 100) {
            g.maySpin(now);
        }
        assertThat(samples.get()).isEqualTo(10);
    }

    @Test
    void crowdedSamplesPausePollingForThePauseThenItResumesAndCountsAfresh() {
        int[] tasks = {3};
        SpinGovernor g = new SpinGovernor(() -> tasks[0], 2);
        long now = runVerdict(g, 0);
        assertThat(g.pauses()).isEqualTo(1);
        long resume = now - TICK + SpinGovernor.PAUSE_NANOS;
        assertThat(g.maySpin(now)).isFalse();
        assertThat(g.maySpin(resume - 1)).isFalse();
        tasks[0] = 2;
        assertThat(g.maySpin(resume)).isTrue();
        runVerdict(g, resume + TICK);
        assertThat(g.pauses()).isEqualTo(1);
        assertThat(g.maySpin(resume + 100 * TICK)).isTrue();
    }

    @Test
    void fewerCrowdedSamplesThanTheThresholdLeavePollingOn() {
        for (int crowded : new int[] {SpinGovernor.CROWDED_SAMPLES - 1, SpinGovernor.CROWDED_SAMPLES}) {
            int[] n = {0};
            SpinGovernor g = new SpinGovernor(() -> n[0]++ < crowded ? 5 : 1, 4);
            runVerdict(g, 0);
            assertThat(g.pauses())
                    .as("%d crowded samples of %d", crowded, SpinGovernor.SAMPLES_PER_VERDICT)
                    .isEqualTo(crowded >= SpinGovernor.CROWDED_SAMPLES ? 1 : 0);
        }
    }

    @Test
    void randomCrowdingPausesExactlyWhenAVerdictCountsEnoughCrowdedSamples() {
        long seed = System.nanoTime();
        System.out.println("SpinGovernorTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (int round = 0; round < 200; round++) {
            int processors = 1 + random.nextInt(8);
            int share = random.nextInt(100);
            int[] crowdedSeen = {0};
            SpinGovernor g = new SpinGovernor(
                    () -> {
                        boolean crowded = random.nextInt(100) < share;
                        crowdedSeen[0] += crowded ? 1 : 0;
                        return crowded ? processors + 1 + random.nextInt(4) : 1 + random.nextInt(processors);
                    },
                    processors);
            runVerdict(g, 0);
            assertThat(g.pauses())
                    .as("seed %d round %d: %d crowded samples", seed, round, crowdedSeen[0])
                    .isEqualTo(crowdedSeen[0] >= SpinGovernor.CROWDED_SAMPLES ? 1 : 0);
        }
    }

    @Test
    void aMachineThatCannotCountItsTasksPollsAsConfiguredAndIsNotAskedAgain() {
        AtomicInteger samples = new AtomicInteger();
        SpinGovernor g = new SpinGovernor(counting(samples, -1), 2);
        long now = 0;
        for (int i = 0; i < 3 * SpinGovernor.SAMPLES_PER_VERDICT; i++, now += TICK) {
            assertThat(g.maySpin(now)).isTrue();
        }
        assertThat(samples.get()).isEqualTo(1);
    }

    @Test
    void processorsMustBePositive() {
        assertThatThrownBy(() -> new SpinGovernor(() -> 1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("processors must be >= 1, got 0");
    }

    @Test
    void theRunningCountIsTheFourthFieldOfTheLoadLine() {
        assertThat(parse("0.52 0.58 0.59 3/467 12345\n")).isEqualTo(3);
        assertThat(parse("12.00 9.50 7.25 117/2048 99\n")).isEqualTo(117);
        assertThat(parse("0.00 0.00 0.00 1/1 1")).isEqualTo(1);
        assertThat(parse("")).isEqualTo(-1);
        assertThat(parse("0.52 0.58 0.59")).isEqualTo(-1);
        assertThat(parse("0.52 0.58 0.59 /467 1")).isEqualTo(-1);
        assertThat(parse("0.52 0.58 0.59 x/467 1")).isEqualTo(-1);
        assertThat(parse("0.52 0.58 0.59 3")).isEqualTo(-1);
        assertThat(parse("0.52 0.58 0.59 1234567890/467 1")).isEqualTo(-1);
    }

    @Test
    void onLinuxTheMachineCountsAtLeastTheThreadAskingAndClosingStopsTheReads() {
        RunnableTasks tasks = RunnableTasks.open();
        boolean linux = java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/loadavg"));
        int n = tasks.getAsInt();
        if (linux) {
            assertThat(n).isGreaterThanOrEqualTo(1);
        } else {
            assertThat(n).isEqualTo(-1);
        }
        tasks.close();
        assertThat(tasks.getAsInt()).isEqualTo(-1);
    }

    /** Takes one verdict's samples, a tick apart from {@code start}; returns the time after the last. */
    private static long runVerdict(SpinGovernor g, long start) {
        long now = start;
        for (int i = 0; i < SpinGovernor.SAMPLES_PER_VERDICT; i++, now += TICK) {
            g.maySpin(now);
        }
        return now;
    }

    private static int parse(String line) {
        return RunnableTasks.parse(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
    }

    /** A task count that always answers {@code tasks} and counts its samples in {@code samples}. */
    private static IntSupplier counting(AtomicInteger samples, int tasks) {
        return () -> {
            samples.incrementAndGet();
            return tasks;
        };
    }
}
