package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the server comparison at a tiny size: {@code armdb serve} (from this module's test class path) and two
 * redis-servers, each benchmarked by Debian's redis-benchmark (installed by .ci/run).
 */
class ServerBenchSmokeTest {
    /** Whether the Redis tools are here; in CI a missing tool is a failure, elsewhere a skip. */
    static void assumeRedis() {
        boolean tools = ServerProcesses.onPath("redis-server") && ServerProcesses.onPath("redis-benchmark");
        assertThat(tools || !"true".equals(System.getenv("CI")))
                .as("redis-server and redis-tools installed in CI")
                .isTrue();
        assumeTrue(tools, "redis-server or redis-benchmark not installed");
    }

    @Test
    void parsesRedisBenchmarkCsv() {
        String out = """
                "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
                "SET","666666.69","0.933","0.344","0.847","2.071","2.247","2.375"
                "GET","909090.94","0.444","0.144","0.447","0.519","0.615","0.695"
                "LPUSH","inf","0.444","0.144","0.447","0.519","0.615","0.695"
                """;
        Map<String, double[]> r = ServerBench.parseCsv(out);
        assertThat(r).containsOnlyKeys("SET", "GET", "LPUSH");
        assertThat(r.get("LPUSH")[0]).isInfinite();
        assertThat(r.get("SET")).containsExactly(666666.69, 0.847, 2.247);
        assertThat(r.get("GET")).containsExactly(909090.94, 0.447, 0.615);
        assertThat(ServerBench.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(ServerBench.median(new double[] {4, 1, 2, 3})).isEqualTo(2.5);
        assertThat(ServerBench.verdict(1.1, 1.0)).startsWith("met");
        assertThat(ServerBench.verdict(0.6, 0.8)).isEqualTo("missed by 25%");
    }

    @Test
    void benchmarksThreeArmdbAndTwoRedisConfigurations() throws Exception {
        assumeRedis();
        List<String> launcher = List.of(
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.armdb.cli.Main");
        ServerBench.Options o = new ServerBench.Options(launcher, 5_000, 500, 1, new int[] {1, 16}, null);
        List<ServerBench.Row> rows = ServerBench.medians(ServerBench.run(o));
        assertThat(rows).hasSize(5 * 2 * 2).allSatisfy(r -> {
            assertThat(r.rps()).isPositive();
            assertThat(r.runRps()).hasSize(1);
            assertThat(r.p50ms()).isLessThanOrEqualTo(r.p99ms());
        });
        assertThat(rows)
                .extracting(ServerBench.Row::server)
                .contains(
                        "armdb", "armdb (group 1s)", "armdb (none)", "redis (no persistence)", "redis (AOF everysec)");
        String md = ServerBench.markdown(rows, o, "test", "before 0.1 0.2 0.3, after 0.4 0.5 0.6", "abc1234");
        assertThat(md)
                .contains("| armdb | SET | 16 |")
                .contains(", commit abc1234)")
                .contains("Load averages (1, 5, 15 min) before 0.1 0.2 0.3, after 0.4 0.5 0.6.")
                .contains("armdb ≥ Redis at -P 16")
                .contains("armdb within 20% of Redis at -P 1")
                .contains("| armdb within 20% of Redis at -P 1 | armdb (none) | SET | redis (no persistence) |")
                .doesNotContain("| armdb (none) | SET | redis (AOF everysec) |")
                .containsPattern("(met|missed)")
                .contains("## Notes");
    }
}
