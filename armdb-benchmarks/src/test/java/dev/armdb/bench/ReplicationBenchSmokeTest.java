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
        ReplicationBench.CatchUp cu = ReplicationBench.catchUpMedian(tmp, 20_000, 3, null);
        assertThat(cu.records()).isEqualTo(20_000);
        ReplicationBench.CatchUp tls =
                ReplicationBench.catchUpMedian(tmp, 20_000, 1, ReplicationBench.benchTls(tmp.resolve("tls")));
        assertThat(tls.records()).isEqualTo(20_000);
        assertThat(tls.slotMBps()).isPositive();
        assertThat(cu.slotMBps()).isPositive();
        assertThat(cu.rawMBps()).isPositive();
        assertThat(cu.rawToFileMBps()).isPositive();
        List<ReplicationBench.Lag> lags = ReplicationBench.lag(tmp, 5_000, new int[] {2_000}, new int[] {1, 2}, 0.25);
        assertThat(lags).hasSize(2).allSatisfy(l -> {
            assertThat(l.samples()).isEqualTo(500);
            assertThat(l.p50us()).isPositive().isLessThanOrEqualTo(l.p99us());
            assertThat(l.p99us()).isLessThanOrEqualTo(l.maxUs());
        });
        List<ReplicationBench.Puts> puts = ReplicationBench.putThroughput(tmp, 5_000, new int[] {0, 1, 3}, 5_000, 2);
        assertThat(puts).extracting(ReplicationBench.Puts::followers).containsExactly(0, 1, 3);
        assertThat(puts).allSatisfy(p -> {
            assertThat(p.opsPerSec()).isPositive();
            assertThat(p.p50us()).isPositive().isLessThanOrEqualTo(p.p99us());
            assertThat(p.p99us()).isLessThanOrEqualTo(p.p999us());
            assertThat(p.p999us()).isLessThanOrEqualTo(p.maxUs());
        });
        List<ReplicationBench.Resync> resyncs = ReplicationBench.resync(tmp, 20_000, new double[] {0.01, 0.1});
        assertThat(resyncs).hasSize(2);
        ReplicationBench.Resync onePercent = resyncs.getFirst();
        assertThat(onePercent.changed()).isEqualTo(200);
        assertThat(onePercent.changedBytes()).isEqualTo(200L * 48);
        assertThat(onePercent.fullCopyBytes()).isEqualTo(20_000L * 64);
        // every changed record's image (key and value inside) must arrive, but far less than a full copy
        assertThat(onePercent.bytesReceived())
                .isGreaterThanOrEqualTo(onePercent.changedBytes())
                .isLessThan(onePercent.fullCopyBytes() / 10);
        assertThat(onePercent.path()).isNotEqualTo("none").doesNotContain("full");
        assertThat(resyncs.get(1).bytesReceived()).isGreaterThan(onePercent.bytesReceived());

        String md = ReplicationBench.markdown(
                new ReplicationBench.Results(List.of(cu), List.of(tls), List.of(), resyncs, lags, puts, 3), "test");
        assertThat(md)
                .contains("raw loopback")
                .contains("Catch-up over TLS")
                .contains("not run")
                .contains("Resync after a short disconnect")
                .contains("p99")
                .contains("puts/s")
                .contains("## Targets (issue 5)")
                .contains("not measured (redis-server not installed)")
                .contains("## Notes");
    }

    @Test
    void redisFullSyncOfTheSameRecords() throws Exception {
        ServerBenchSmokeTest.assumeRedis();
        try (ServerProcesses procs = new ServerProcesses(null)) {
            ReplicationBench.RedisSync sync = ReplicationBench.redisFullSyncMedian(tmp, 5_000, 1, procs);
            assertThat(sync.records()).isEqualTo(5_000);
            assertThat(sync.seconds()).isPositive().isLessThan(600);
        }
        ReplicationBench.CatchUp cu = new ReplicationBench.CatchUp(5_000, 0.1, 3.2, 100, 50);
        String md = ReplicationBench.markdown(
                new ReplicationBench.Results(
                        List.of(cu),
                        List.of(),
                        List.of(new ReplicationBench.RedisSync(5_000, 0.5)),
                        List.of(),
                        List.of(),
                        List.of(),
                        1),
                "test");
        assertThat(md).contains("| 5,000 | 0.10 |").contains("5.00×").contains("met (+67% over the bar)");
    }
}
