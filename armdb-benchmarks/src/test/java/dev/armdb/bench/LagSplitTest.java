package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The lag split's means: the median tenth and the slowest hundredth by whole lag, each lag cut into its parts. */
class LagSplitTest {
    private static final long MICRO = 1_000;

    @Test
    void theSlowestHundredthIsTakenByWholeLagAndCutIntoItsParts() {
        LagSplit split = new LagSplit(200);
        // recorded out of order: samples 0..198 take i us (sent at i/4, reply i/2, first poll 3i/4, no missed poll)
        for (int i = 198; i >= 0; i--) {
            split.record(i * MICRO, i / 4 * MICRO, i / 2 * MICRO, 3 * i / 4 * MICRO, 0);
        }
        // the slowest: 10 ms, sent at 0.2 ms, the leader's reply at 1 ms, the first poll at 1.5 ms, 7 polls missed
        split.record(10_000 * MICRO, 200 * MICRO, 1_000 * MICRO, 1_500 * MICRO, 7);
        String[] lines = split.describe().split("\n");
        assertThat(lines).hasSize(2);
        // samples 90..109 of 200 by lag: lags 90..109 us, mean 99.5
        assertThat(lines[0]).startsWith("median tenth of 200 samples: lag 100 us");
        // samples 198 and 199: lag (198 + 10000) / 2, sent (49 + 200) / 2, reply (99 + 1000) / 2, first poll
        // (148 + 1500) / 2
        assertThat(lines[1])
                .isEqualTo("slowest hundredth of 200 samples: lag 5099 us = driver sending 125 us + leader reply 425 us"
                        + " + sampler until first poll 275 us + follower 4275 us (3.5 polls missed)");
    }

    @Test
    void tooFewSamplesDescribeNothingAndExtraSamplesAreDropped() {
        LagSplit split = new LagSplit(99);
        for (int i = 0; i < 150; i++) {
            split.record(i, 0, 0, 0, 0);
        }
        assertThat(split.samples()).isEqualTo(99);
        assertThat(split.describe()).isEmpty();
        assertThat(split.histogram().getTotalCount()).isEqualTo(99);
        assertThat(split.histogram().getMaxValue()).isEqualTo(98);
    }
}
