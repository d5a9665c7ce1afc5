package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs every part of the replication driver at tiny sizes so it cannot rot. */
class ReplicationBenchSmokeTest {
    @TempDir
    Path tmp;

    @Test
    void catchUpLagAndPutThroughputProduceSaneNumbers() throws Exception {
        ReplicationBench.CatchUp cu = ReplicationBench.catchUp(tmp, 20_000);
        assertThat(cu.slotMBps()).isPositive();
        assertThat(cu.rawMBps()).isPositive();
        List<ReplicationBench.Lag> lags = ReplicationBench.lag(tmp, 5_000, new int[] {2_000}, new int[] {1, 2}, 0.25);
        assertThat(lags).hasSize(2).allSatisfy(l -> {
            assertThat(l.samples()).isEqualTo(500);
            assertThat(l.p50us()).isPositive().isLessThanOrEqualTo(l.p99us());
            assertThat(l.p99us()).isLessThanOrEqualTo(l.maxUs());
        });
        List<ReplicationBench.Puts> puts = ReplicationBench.putThroughput(tmp, 5_000, new int[] {0, 1}, 5_000);
        assertThat(puts).hasSize(2).allSatisfy(p -> assertThat(p.opsPerSec()).isPositive());
        assertThat(ReplicationBench.markdown(cu, lags, puts, "test"))
                .contains("raw loopback")
                .contains("p99")
                .contains("puts/s");
    }
}
