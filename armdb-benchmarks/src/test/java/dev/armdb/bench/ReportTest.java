package dev.armdb.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    private static String run(String cls, String op, double[] raw, double alloc) {
        StringBuilder r = new StringBuilder("[");
        for (int i = 0; i < raw.length; i++) {
            r.append(i == 0 ? "" : ",").append(raw[i]);
        }
        r.append(']');
        return """
                {"jmhVersion":"1.37","benchmark":"dev.armdb.bench.%s.%s","mode":"avgt","threads":1,"forks":1,
                 "jvm":"/j/bin/java","jvmArgs":["-Xmx4g"],"jdkVersion":"25","vmName":"OpenJDK 64-Bit Server VM",
                 "vmVersion":"25+36","warmupIterations":2,"warmupTime":"2 s","warmupBatchSize":1,
                 "measurementIterations":3,"measurementTime":"2 s","measurementBatchSize":1,
                 "params":{"keys":"1000000"},
                 "primaryMetric":{"score":%s,"scoreError":"NaN","scoreConfidence":["NaN","NaN"],
                   "scorePercentiles":{"50.0":1.0},"scoreUnit":"ns/op","rawData":[%s]},
                 "secondaryMetrics":{"gc.alloc.rate.norm":{"score":%s,"scoreError":0.0,"scoreUnit":"B/op",
                   "rawData":[[0.0]]}}}
                """.formatted(cls, op, raw[raw.length / 2], r, alloc);
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
        Report.Result get = Report.find(results, "1000000", "armdb FixedMap", "get");
        assertThat(get.medianNs()).isEqualTo(50);
        assertThat(get.samples()).isEqualTo(3);
        assertThat(get.allocBytesPerOp()).isEqualTo(0.01);
        assertThat(Double.isNaN(get.errorNs())).isTrue();
        assertThat(Report.find(results, "1000000", "LMDB", "get").medianNs()).isEqualTo(250);
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
        String md =
                Report.render((List<?>) Json.parse(JMH), (Map<?, ?>) Json.parse(fp), "bin/bench quick", machine, null);
        assertThat(md)
                .contains("| armdb FixedMap | 50.0 |")
                .contains("| LMDB | 250 |")
                .contains("5.00×") // LMDB get 250 / armdb 50
                .contains("| get ≥ 4× LMDB | 1,000,000 | armdb 50.0 ns vs LMDB 250 ns: 5.00× | met |")
                .contains("| get ≥ ConcurrentHashMap | 1,000,000 | armdb 50.0 ns vs ConcurrentHashMap 45.0 ns: 0.90× |")
                .contains("missed: 0.90× of 1.00× (10% short)")
                .contains("| put within 1.5× of ConcurrentHashMap |")
                .contains("missed by 33% (limit 1.5×)") // 100 / 50 = 2.0; 2.0 / 1.5 - 1
                .contains("| recovery of 10M slots ≤ 3 s | 10,000,000 | 2.20 s median reopen | met |")
                .contains("| FixedMap index ≤ 16 bytes/key | 1,000,000 | 13.1 bytes/key | met |")
                .contains("| get ≥ 5× RocksDB | 1,000,000 | not measured | not measured |")
                .contains("| armdb FixedTree | 9,000 |")
                .contains("| RocksDB | 18,000 |")
                .contains("| RocksDB (256 MB block cache) | 3,000 |")
                .contains(
                        "| get ≥ 5× RocksDB (256 MB block cache) | 1,000,000 | armdb 50.0 ns vs RocksDB (256 MB block cache)"
                                + " 3,000 ns: 60× | met |");
        Path png = tmp.resolve("engine.png");
        Report.writeChart(Report.results((List<?>) Json.parse(JMH)), png);
        assertThat(Files.size(png)).isGreaterThan(1000);
    }
}
