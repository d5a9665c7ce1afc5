package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    private static final Report.Config HEADLINE = new Report.Config(1_000_000, "16x32", "random", 1);

    private static String run(String cls, String op, double[] raw, double alloc) {
        return run(cls, op, raw, alloc, "{\"keys\":\"1000000\"}", 1);
    }

    private static String run(String cls, String op, double[] raw, double alloc, String params, int threads) {
        StringBuilder r = new StringBuilder("[");
        for (int i = 0; i < raw.length; i++) {
            r.append(i == 0 ? "" : ",").append(raw[i]);
        }
        r.append(']');
        return """
                {"jmhVersion":"1.37","benchmark":"dev.armdb.bench.%s.%s","mode":"avgt","threads":%d,"forks":1,
                 "jvm":"/j/bin/java","jvmArgs":["-Xmx4g"],"jdkVersion":"25","vmName":"OpenJDK 64-Bit Server VM",
                 "vmVersion":"25+36","warmupIterations":2,"warmupTime":"2 s","warmupBatchSize":1,
                 "measurementIterations":3,"measurementTime":"2 s","measurementBatchSize":1,
                 "params":%s,
                 "primaryMetric":{"score":%s,"scoreError":"NaN","scoreConfidence":["NaN","NaN"],
                   "scorePercentiles":{"50.0":1.0},"scoreUnit":"ns/op","rawData":[%s]},
                 "secondaryMetrics":{"gc.alloc.rate.norm":{"score":%s,"scoreError":0.0,"scoreUnit":"B/op",
                   "rawData":[[0.0]]}}}
                """.formatted(cls, op, threads, params, raw[raw.length / 2], r, alloc);
    }

    private static final String JMH = "["
            + String.join(
                    ",",
                    run("ArmdbMapBench", "get", new double[] {40, 50, 60}, 0.01),
                    run("ArmdbMapBench", "put", new double[] {100, 100, 100}, 0.02),
                    run("LmdbBench", "get", new double[] {300, 200, 250}, 0.0),
                    run("LmdbBench", "put", new double[] {5000, 5000, 5000}, 1100),
                    run("ChmBench", "get", new double[] {45, 45, 45}, 0.0),
                    run("ChmBench", "put", new double[] {50, 50, 50}, 48),
                    run("ArmdbTreeBench", "scan100", new double[] {9000}, 10000),
                    run("RocksDbBench", "scan100", new double[] {18000}, 5000),
                    run("RocksDbBench", "get", new double[] {3000}, 0.5)
                            .replace("{\"keys\":\"1000000\"}", "{\"keys\":\"1000000\",\"blockCacheMb\":\"256\"}"))
            + "]";

    @Test
    void parsesJmhJsonIntoMediansAndAllocation() {
        List<Report.Result> results = Report.results((List<?>) Json.parse(JMH));
        Report.Result get = Report.find(results, HEADLINE, "armdb FixedMap", "get");
        assertThat(get.medianNs()).isEqualTo(50);
        assertThat(get.samples()).isEqualTo(3);
        assertThat(get.allocBytesPerOp()).isEqualTo(0.01);
        assertThat(Double.isNaN(get.errorNs())).isTrue();
        assertThat(Report.find(results, HEADLINE, "LMDB", "get").medianNs()).isEqualTo(250);
    }

    @Test
    void rendersTablesRatiosAndTargetVerdicts(@TempDir Path tmp) throws Exception {
        Map<String, String> machine = Map.of("cores (nproc)", "2");
        String fp = """
                {"records": 1000000, "stores": [
                  {"name": "armdb FixedMap", "loadSeconds": 1.5, "heapBytesPerRecord": 14.0, "indexBytesPerKey": 13.1,
                   "diskBytes": 70000000, "diskBytesPerRecord": 70.0},
                  {"name": "ConcurrentHashMap", "loadSeconds": 0.5, "heapBytesPerRecord": 150.0}],
                 "recovery": {"slots": 10000000, "shards": 16, "loadSeconds": 12.0, "fileBytes": 700000000,
                   "openSeconds": [2.0, 2.5, 2.2], "medianOpenSeconds": 2.2, "cpus": 2}}
                """;
        String md = Report.render(
                (List<?>) Json.parse(JMH), (Map<?, ?>) Json.parse(fp), "bin/bench quick", machine, List.of());
        assertThat(md)
                .contains("| armdb FixedMap | 50.0 |")
                .contains("| LMDB | 250 |")
                .contains("5.00×") // LMDB get 250 / armdb 50
                .contains(
                        "| get ≥ 4× LMDB | 1,000,000 × 16x32, random, 1 thread | armdb 50.0 ns vs LMDB 250 ns: 5.00× | met |")
                .contains("| get ≥ ConcurrentHashMap | 1,000,000 × 16x32, random, 1 thread | armdb 50.0 ns vs "
                        + "ConcurrentHashMap 45.0 ns: 0.90× |")
                .contains("missed: 0.90× of 1.00× (10% short)")
                .contains("| put within 1.5× of ConcurrentHashMap |")
                .contains("missed by 33% (limit 1.5×)") // 100 / 50 = 2.0; 2.0 / 1.5 - 1
                .contains("| recovery of 10M slots ≤ 3 s | 10,000,000 × 16x32 | 2.20 s median reopen | met |")
                .contains("| FixedMap index ≤ 16 bytes/key | 1,000,000 × 16x32 | 13.1 bytes/key | met |")
                .contains("| get ≥ 5× RocksDB | 1,000,000 × 16x32, random, 1 thread | not measured | not measured |")
                .contains("| armdb FixedTree | 9,000 |")
                .contains("| RocksDB | 18,000 |")
                .contains("| RocksDB (256 MB block cache) | 3,000 |")
                .contains(
                        "| get ≥ 5× RocksDB (256 MB block cache) | 1,000,000 × 16x32, random, 1 thread | armdb 50.0 ns vs"
                                + " RocksDB (256 MB block cache) 3,000 ns: 60× | met |");
        List<Path> pngs = Charts.write(Report.results((List<?>) Json.parse(JMH)), tmp.resolve("img"));
        assertThat(pngs.stream().map(p -> p.getFileName().toString()))
                .containsExactly("engine.png", "engine-configs.png", "engine-targets.png");
        for (Path png : pngs) {
            assertThat(Files.size(png)).as("%s", png).isGreaterThan(1000);
        }
    }

    @Test
    void groupsResultsByShapeAccessAndThreadsAndGivesIterationPerRecord() {
        String seq2 = "{\"keys\":\"1000000\",\"shape\":\"8x256\",\"access\":\"sequential\"}";
        String json = "["
                + String.join(
                        ",",
                        run("ArmdbMapBench", "get", new double[] {100}, 0.0, seq2, 2),
                        run("LmdbBench", "get", new double[] {800}, 0.0, seq2, 2),
                        run("ArmdbMapBench", "put", new double[] {200}, 0.0),
                        run("LmdbBench", "put", new double[] {1000}, 0.0),
                        run(
                                "LmdbBench",
                                "put",
                                new double[] {9000},
                                900,
                                "{\"keys\":\"1000000\",\"writeMap\":\"false\"}",
                                1),
                        run("ArmdbMapBench", "iterate", new double[] {20_000_000}, 16_000_000))
                + "]";
        List<Report.Result> results = Report.results((List<?>) Json.parse(json));
        Report.Config seq = new Report.Config(1_000_000, "8x256", "sequential", 2);
        assertThat(Report.configs(results)).containsExactly(HEADLINE, seq);
        Report.Result get2 = Report.find(results, seq, "armdb FixedMap", "get");
        assertThat(get2.mops()).as("two threads at 100 ns each").isEqualTo(20.0);
        Report.Result it = Report.find(results, HEADLINE, "armdb FixedMap", "iterate");
        assertThat(it.medianNs()).as("ns per record").isEqualTo(20.0);
        assertThat(it.allocBytesPerOp()).as("bytes per record").isEqualTo(16.0);
        assertThat(Report.find(results, HEADLINE, "LMDB (no WRITEMAP)", "put").medianNs())
                .isEqualTo(9000);

        String md = Report.render((List<?>) Json.parse(json), null, "bin/bench smoke", Map.of(), List.of());
        assertThat(md)
                .contains("### 1,000,000 keys, 16-byte keys, 32-byte values, random access, 1 thread")
                .contains("### 1,000,000 keys, 8-byte keys, 256-byte values, sequential access, 2 threads")
                .contains(
                        "| store | median ns/record | mean ± err ns/record | M records/s | B/record | armdb speed-up |")
                .contains("| get ≥ 4× LMDB | 1,000,000 × 8x256, sequential, 2 threads | armdb 100 ns vs LMDB 800 ns: "
                        + "8.00× | met |")
                .contains("| put ≥ 4× LMDB | 1,000,000 × 16x32, random, 1 thread | armdb 200 ns vs LMDB 1,000 ns: 5.00×"
                        + " | met |")
                .contains("| put ≥ 4× LMDB (no WRITEMAP) | 1,000,000 × 16x32, random, 1 thread | armdb 200 ns vs LMDB"
                        + " (no WRITEMAP) 9,000 ns: 45× | met |")
                .contains("**2 of 2 met**"); // get vs LMDB (2 threads), put vs LMDB; variants are extra rows
        assertThat(md.indexOf("## Engine targets")).isLessThan(md.indexOf("## Results"));
    }
}
