package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the server comparison at a tiny size: {@code armdb serve} (from this module's test class path) and
 * redis-servers, each benchmarked by Debian's redis-benchmark (installed by .ci/run); then the nodes as users run
 * them (leader plus one follower process each), and checks that no process or directory outlives a run.
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

    /** A process busy for a second is charged about a second of CPU; one asleep is charged next to none. */
    @Test
    void chargesTheCpuTimeOfTheServersProcesses() throws Exception {
        Process busy = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 100000000 ]; do i=$((i+1)); done").start();
        Process idle = new ProcessBuilder("sleep", "30").start();
        try {
            List<ServerProcesses.Server> busyOne = List.of(new ServerProcesses.Server(busy, 0, null, null));
            List<ServerProcesses.Server> idleOne = List.of(new ServerProcesses.Server(idle, 0, null, null));
            long busyBefore = ServerBench.cpuNanos(busyOne);
            long idleBefore = ServerBench.cpuNanos(idleOne);
            Thread.sleep(1_000);
            assertThat(ServerBench.cpuNanos(busyOne) - busyBefore)
                    .as("CPU ns of a busy process over a second")
                    .isGreaterThan(100_000_000L);
            assertThat(ServerBench.cpuNanos(idleOne) - idleBefore)
                    .as("CPU ns of a sleeping process over a second")
                    .isLessThan(50_000_000L);
        } finally {
            busy.destroyForcibly().waitFor();
            idle.destroyForcibly().waitFor();
        }
    }

    /** Runs {@code run} with the drivers' temporary directories under {@code dirs}. */
    private static <T> T inBenchDirs(Path dirs, java.util.concurrent.Callable<T> run) throws Exception {
        String before = System.getProperty("armdb.bench.dir");
        System.setProperty("armdb.bench.dir", dirs.toString());
        try {
            return run.call();
        } finally {
            if (before == null) {
                System.clearProperty("armdb.bench.dir");
            } else {
                System.setProperty("armdb.bench.dir", before);
            }
        }
    }

    /** {@code armdb} run from this JVM's class path. */
    static List<String> launcher() {
        return List.of(
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.armdb.cli.Main");
    }

    @Test
    void benchmarksThreeArmdbAndTwoRedisConfigurations() throws Exception {
        assumeRedis();
        ServerBench.Options o =
                new ServerBench.Options(launcher(), 5_000, 500, 1, new int[] {1, 16}, null, 0, new int[] {1, 1});
        List<ServerBench.Row> rows = ServerBench.medians(ServerBench.run(o));
        assertThat(rows).hasSize(5 * 2 * 2).allSatisfy(r -> {
            assertThat(r.rps()).isPositive();
            assertThat(r.runRps()).hasSize(1);
            assertThat(r.p50ms()).isLessThanOrEqualTo(r.p99ms());
            assertThat(r.cpuMicros()).as("CPU per request").isNotNegative().isFinite();
        });
        assertThat(rows)
                .extracting(ServerBench.Row::server)
                .contains(
                        "armdb", "armdb (group 1s)", "armdb (none)", "redis (no persistence)", "redis (AOF everysec)");
        String md = ServerBench.markdown(rows, "", o, "test", "before 0.1 0.2 0.3, after 0.4 0.5 0.6", "abc1234");
        assertThat(md)
                .contains("| armdb | SET | 16 |")
                .contains(", commit abc1234)")
                .contains("Load averages (1, 5, 15 min) before 0.1 0.2 0.3, after 0.4 0.5 0.6.")
                .contains("armdb ≥ Redis at -P 16")
                .contains("armdb within 20% of Redis at -P 1")
                .contains("| armdb within 20% of Redis at -P 1 | armdb (none) | SET | redis (no persistence) |")
                .doesNotContain("| armdb (none) | SET | redis (AOF everysec) |")
                .containsPattern("(met|missed)")
                .doesNotContain("The node as users run it")
                .contains("## Notes");
    }

    @Test
    void benchmarksTheNodesAsUsersRunThemTakingTurnsAndLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        assumeRedis();
        Path pidFile = tmp.resolve("pids");
        Path benchDirs = tmp.resolve("dirs");
        ServerBench.Options o =
                new ServerBench.Options(launcher(), 1, 500, 0, new int[] {1, 16}, pidFile, 2, new int[] {2_000, 5_000});
        List<ServerBench.Sample> samples = inBenchDirs(benchDirs, () -> ServerBench.runNodes(o));
        // two tests at two depths per node and run, the nodes taking turns: armdb, redis, armdb, redis
        assertThat(samples).extracting(ServerBench.Sample::server).hasSize(16);
        for (int i = 0; i < samples.size(); i++) {
            assertThat(samples.get(i).server())
                    .as("sample %d", i)
                    .isEqualTo(i / 4 % 2 == 0 ? ServerBench.ARMDB_NODE : ServerBench.REDIS_NODE);
        }
        assertThat(Files.readString(pidFile))
                .as("pids of servers still running")
                .isBlank();
        try (Stream<Path> left = Files.list(benchDirs)) {
            assertThat(left).as("temporary directories left").isEmpty();
        }
        List<ServerBench.Row> rows = ServerBench.medians(samples);
        assertThat(rows).hasSize(2 * 2 * 2).allSatisfy(r -> {
            assertThat(r.rps()).isPositive();
            assertThat(r.runRps()).hasSize(2);
            assertThat(r.cpuMicros()).as("CPU per request").isNotNegative().isFinite();
            // the leader's interval is read inside the node's, and the node's processes include the leader
            assertThat(r.leaderCpuMicros())
                    .as("the leader's own CPU per request")
                    .isNotNegative()
                    .isLessThanOrEqualTo(r.cpuMicros());
        });
        List<ServerBench.Row> alone = List.of(
                new ServerBench.Row("armdb", "SET", 16, 100, new double[] {100}, 1, 2, 10, 10),
                new ServerBench.Row(ServerBench.REDIS_AOF, "SET", 16, 100, new double[] {100}, 1, 2, 8, 8));
        String md = ServerBench.nodeMarkdown(
                rows, alone, o, ServerBench.provenance("test", "abc1234", "before 1, after 2"));
        assertThat(md)
                .startsWith("## The node as users run it (issue 11)\n\nMeasured by `test` (")
                .contains(", commit abc1234); machine: nproc ")
                .contains("Load averages (1, 5, 15 min) before 1, after 2.")
                .contains("--follow 127.0.0.1:RPORT")
                .contains("--appendonly yes --appendfsync everysec --dir DIR/follower --replicaof 127.0.0.1 PORT")
                .contains("`-n 2,000` at `-P 1` and `-n 5,000` at `-P 16`")
                .contains("| armdb node | SET | 16 | 5,000 |")
                .contains("| redis node | GET | 1 | 2,000 |")
                .containsPattern("\\| leader \\+ follower \\| SET \\| 1 \\| [0-9.]+ \\| [0-9.]+ \\| ")
                .containsPattern("\\| ≥ 1\\.0× Redis at -P 16 \\| SET \\| 16 \\| [0-9.]+ \\| (met|missed)")
                .containsPattern("\\| ≥ 1\\.0× Redis at -P 16 \\| GET \\| 16 \\| [0-9.]+ \\| (met|missed)")
                .containsPattern("\\| ≥ 0\\.8× Redis at -P 1 \\| SET \\| 1 \\| [0-9.]+ \\| (met|missed)")
                .containsPattern("\\| ≥ 0\\.8× Redis at -P 1 \\| GET \\| 1 \\| [0-9.]+ \\| (met|missed)")
                .containsPattern(
                        "\\| with one follower ≥ 0\\.8× alone and ≥ Redis' ratio \\| SET \\| 16 \\| [0-9.]+ \\|"
                                + " [0-9.]+ \\| (met|missed)")
                .doesNotContain("| with one follower ≥ 0.8× alone and ≥ Redis' ratio | SET | 1 |")
                .contains("The leader's own process (the follower's CPU left out)")
                .containsPattern(
                        "\\| SET \\| 16 \\| 10\\.00 \\| [0-9.]+ \\| [0-9.]+ \\| 8\\.00 \\| [0-9.]+ \\| [0-9.]+ \\|");
    }

    @Test
    void aNodeOnlyRunReplacesTheNodeSectionAndNotesAndKeepsTheRest() {
        String section = ServerBench.NODE_HEADING + "\n\nnew numbers\n";
        String page =
                ServerBench.TITLE + "Generated by x.\n\n| old table |\n\n## Targets (issue 5)\n\n| old targets |\n\n"
                        + ServerBench.NODE_HEADING + "\n\nold numbers\n\n## Notes\n\n- old note\n";
        String spliced = ServerBench.splice(page, section);
        assertThat(spliced)
                .startsWith(ServerBench.TITLE
                        + "Generated by x.\n\n| old table |\n\n## Targets (issue 5)\n\n| old targets |" + "\n\n"
                        + section + "\n" + ServerBench.notes())
                .endsWith(ServerBench.notes())
                .doesNotContain("old numbers")
                .doesNotContain("old note");
        // a page without a node section gets one before its notes; twice gives the same page
        String withoutNode = ServerBench.TITLE + "Generated by x.\n\n| old table |\n\n## Notes\n\n- old note\n";
        String once = ServerBench.splice(withoutNode, section);
        assertThat(once)
                .isEqualTo(ServerBench.TITLE + "Generated by x.\n\n| old table |\n\n" + section + "\n"
                        + ServerBench.notes());
        assertThat(ServerBench.splice(once, section)).isEqualTo(once);
        assertThat(ServerBench.splice(null, section))
                .isEqualTo(ServerBench.TITLE + section + "\n" + ServerBench.notes());
    }

    @Test
    void stopsTheArmdbLeaderWhenItsFollowerFailsToStart(@TempDir Path tmp) throws Exception {
        Path pidFile = tmp.resolve("pids");
        try (ServerProcesses procs = new ServerProcesses(pidFile)) {
            assertThatThrownBy(() -> procs.armdbPair(
                            launcher(),
                            tmp,
                            List.of("--key-size", "16", "--value-size", "32"),
                            List.of("--no-such-option", "1")))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("--no-such-option");
            assertThat(Files.readString(pidFile))
                    .as("pids of servers still running")
                    .isBlank();
        }
    }

    @Test
    void stopsTheRedisMasterWhenItsReplicaFailsToStart(@TempDir Path tmp) throws Exception {
        assumeRedis();
        Path pidFile = tmp.resolve("pids");
        try (ServerProcesses procs = new ServerProcesses(pidFile)) {
            assertThatThrownBy(() -> procs.redisPair(
                            tmp, List.of("--save", "", "--appendonly", "no"), List.of("--no-such-setting", "1")))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("--no-such-setting");
            assertThat(Files.readString(pidFile))
                    .as("pids of servers still running")
                    .isBlank();
        }
    }

    @Test
    void pairsTheDefaultArmdbWithRedisAofTurnByTurnAndLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        assumeRedis();
        Path pidFile = tmp.resolve("pids");
        Path benchDirs = tmp.resolve("dirs");
        ServerBench.Options o =
                new ServerBench.Options(launcher(), 1, 500, 1, new int[] {1, 16}, pidFile, 0, new int[] {2_000, 5_000});
        List<PairedServerBench.Pair> pairs = inBenchDirs(benchDirs, () -> PairedServerBench.run(o, 3));
        // per depth and test three pairs, armdb first in the first and third
        assertThat(pairs).hasSize(2 * 2 * 3);
        assertThat(pairs)
                .extracting(PairedServerBench.Pair::armdbFirst)
                .containsExactly(true, false, true, true, false, true, true, false, true, true, false, true);
        assertThat(pairs)
                .extracting(p -> p.test() + " " + p.pipeline() + " " + p.requests())
                .containsExactly(
                        "SET 1 2000",
                        "SET 1 2000",
                        "SET 1 2000",
                        "GET 1 2000",
                        "GET 1 2000",
                        "GET 1 2000",
                        "SET 16 5000",
                        "SET 16 5000",
                        "SET 16 5000",
                        "GET 16 5000",
                        "GET 16 5000",
                        "GET 16 5000");
        assertThat(pairs).allSatisfy(p -> {
            assertThat(p.armdbRps()).isPositive();
            assertThat(p.redisRps()).isPositive();
            assertThat(p.armdbCpuMicros()).isNotNegative().isFinite();
            assertThat(p.redisCpuMicros()).isNotNegative().isFinite();
        });
        assertThat(Files.readString(pidFile))
                .as("pids of servers still running")
                .isBlank();
        try (Stream<Path> left = Files.list(benchDirs)) {
            assertThat(left).as("temporary directories left").isEmpty();
        }
    }

    /** The verdict is the median of the pairs' ratios, not the ratio of the medians. */
    @Test
    void judgesThePairedTargetByTheMedianOfThePairsRatios() {
        ServerBench.Options o =
                new ServerBench.Options(List.of(), 1, 0, 1, new int[] {1, 16}, null, 0, new int[] {200_000, 1_000});
        List<PairedServerBench.Pair> pairs = List.of(
                // medians of requests/s: armdb 100, Redis 100 (ratio of medians 1.00); pair ratios 0.50, 1.25, 1.20
                new PairedServerBench.Pair("SET", 1, 200_000, 50, 100, 20, 18, true),
                new PairedServerBench.Pair("SET", 1, 200_000, 100, 80, 21, 17, false),
                new PairedServerBench.Pair("SET", 1, 200_000, 120, 100, 22, 16, true),
                new PairedServerBench.Pair("SET", 16, 1_000, 90, 100, 3, 4, true),
                new PairedServerBench.Pair("GET", 16, 1_000, 300, 100, 1, 2, true));
        String md = PairedServerBench.markdown(pairs, o, 3, "`test` (somewhere).");
        assertThat(md)
                .startsWith(PairedServerBench.HEADING + "\n\nMeasured by `test` (somewhere).")
                .contains("| SET | 1 | 200,000 | 100 | 100 | 0.50, 1.25, 1.20 | 1.20 | 21.0 / 17.0 |")
                .contains("| GET | 16 | 1,000 | 300 | 100 | 3.00 | 3.00 | 1.0 / 2.0 |")
                .doesNotContain("| GET | 1 |")
                .contains("| default durability ≥ Redis AOF everysec | SET | 1 | 1.20 | met (+20% over the bar) |")
                .contains("| default durability ≥ Redis AOF everysec | SET | 16 | 0.90 | missed by 10% |")
                .doesNotContain("| default durability ≥ Redis AOF everysec | GET |");
    }
}
