package dev.armdb.bench;

import dev.armdb.FixedMap;
import dev.armdb.StoreStats;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Not a JMH benchmark: loads each store with the benchmark data set of each shape and reports bytes on disk per
 * record (after a clean close), load time, armdb's index bytes per key, and armdb's reopen (recovery) time for a
 * collection of many 16x32 slots. Writes a JSON file for {@link Report}. LMDB is measured without {@code
 * MDB_WRITEMAP} (with it, the file is extended to the whole map size at open, which says nothing about the data).
 *
 * <pre>
 * java [LMDB and Chronicle flags] -cp benchmarks.jar dev.armdb.bench.Footprint [--records 1000000]
 *      [--shapes 16x32,8x256] [--recovery-slots 10000000] [--recovery-runs 3] [--stores a,b] --out footprint.json
 * </pre>
 */
public final class Footprint {
    private Footprint() {}

    /** The stores in report order, by the name the report uses. */
    static Map<String, Supplier<StoreBench>> stores() {
        Map<String, Supplier<StoreBench>> m = new LinkedHashMap<>();
        m.put("armdb FixedMap", ArmdbMapBench::new);
        m.put("armdb FixedTree", ArmdbTreeBench::new);
        m.put("LMDB", LmdbBench::new);
        m.put("RocksDB", RocksDbBench::new);
        m.put("MapDB", MapDbBench::new);
        m.put("Chronicle Map", ChronicleMapBench::new);
        m.put("ConcurrentHashMap", ChmBench::new);
        return m;
    }

    /** Runs the measurements; see the class comment for the options. */
    public static void main(String[] args) throws Exception {
        int records = 1_000_000;
        List<Shape> shapes = List.of(Shape.K16_V32, Shape.K8_V256);
        int recoverySlots = 10_000_000;
        int recoveryRuns = 3;
        Path out = null;
        List<String> only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--records" -> records = Integer.parseInt(args[++i].replace("_", ""));
                case "--recovery-slots" -> recoverySlots = Integer.parseInt(args[++i].replace("_", ""));
                case "--recovery-runs" -> recoveryRuns = Integer.parseInt(args[++i]);
                case "--shapes" ->
                    shapes = Arrays.stream(args[++i].split(",")).map(Shape::of).toList();
                case "--stores" -> only = Arrays.asList(args[++i].split(","));
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        StringBuilder json = new StringBuilder("{\n");
        json.append("  \"records\": ").append(records).append(",\n");
        json.append("  \"stores\": [\n");
        List<String> entries = new ArrayList<>();
        for (Shape shape : shapes) {
            for (Map.Entry<String, Supplier<StoreBench>> e : stores().entrySet()) {
                if (only != null && !only.contains(e.getKey())) {
                    continue;
                }
                entries.add(measureStore(e.getKey(), e.getValue().get(), records, shape));
            }
        }
        json.append(String.join(",\n", entries)).append("\n  ],\n");
        json.append("  \"recovery\": ")
                .append(recovery(recoverySlots, recoveryRuns))
                .append("\n}\n");
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, json);
            System.out.println("footprint: wrote " + out);
        } else {
            System.out.print(json);
        }
    }

    static String measureStore(String name, StoreBench b, int records, Shape shape) throws Exception {
        System.out.printf(Locale.ROOT, "footprint: %s, %,d records of %s...%n", name, records, shape);
        if (b instanceof LmdbBench l) {
            l.writeMap = false;
        }
        long heapBefore = usedHeapAfterGc();
        long t0 = System.nanoTime();
        b.configure(records, shape);
        b.setup();
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        long heapAfter = usedHeapAfterGc();
        byte[] out = new byte[shape.valueSize()];
        if (!b.lookup(records / 2, out) || Keys.recordOf(out) != records / 2) {
            throw new IllegalStateException(name + ": record " + records / 2 + " not found after load");
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("name", name);
        fields.put("shape", shape.name());
        fields.put("loadSeconds", loadSeconds);
        fields.put("heapBytesPerRecord", Math.max(0, heapAfter - heapBefore) / (double) records);
        if (b instanceof ArmdbMapBench a) {
            StoreStats s = a.store.stats();
            fields.put("indexBytesPerKey", s.indexBytes() / (double) s.liveSlots());
            fields.put("fileBytes", s.fileBytes());
        } else if (b instanceof ArmdbTreeBench t) {
            StoreStats s = t.store.stats();
            fields.put("indexBytesPerKey", s.indexBytes() / (double) s.liveSlots());
        }
        Path dir = b.closeKeepingFiles();
        if (dir != null) {
            long bytes = BenchDirs.bytes(dir);
            fields.put("diskBytes", bytes);
            fields.put("diskBytesPerRecord", bytes / (double) records);
        }
        b.tearDown();
        System.out.println("footprint:   " + fields);
        StringBuilder sb = new StringBuilder("    {");
        boolean first = true;
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            sb.append(first ? "" : ", ").append(Json.quote(f.getKey())).append(": ");
            sb.append(
                    f.getValue() instanceof String v
                            ? Json.quote(v)
                            : f.getValue().toString());
            first = false;
        }
        return sb.append('}').toString();
    }

    /** Loads {@code slots} records into a FixedMap, closes it, then times {@code runs} reopens. */
    static String recovery(int slots, int runs) {
        Path dir = BenchDirs.create("recovery");
        try {
            System.out.printf(Locale.ROOT, "recovery: loading %,d records into a FixedMap...%n", slots);
            long t0 = System.nanoTime();
            Shape shape = Shape.K16_V32;
            byte[] key = new byte[shape.keySize()];
            byte[] value = new byte[shape.valueSize()];
            long fileBytes;
            try (FixedMap map = FixedMap.open(dir, ArmdbMapBench.config(shape))) {
                for (int i = 0; i < slots; i++) {
                    shape.key(i, key);
                    shape.value(i, 0, value);
                    map.put(key, value);
                }
                fileBytes = map.stats().fileBytes();
            }
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            double[] open = new double[runs];
            for (int r = 0; r < runs; r++) {
                long s = System.nanoTime();
                try (FixedMap map = FixedMap.open(dir, ArmdbMapBench.config(shape))) {
                    open[r] = (System.nanoTime() - s) / 1e9;
                    if (map.size() != slots) {
                        throw new IllegalStateException("reopened with " + map.size() + " keys, expected " + slots);
                    }
                }
                System.out.printf(Locale.ROOT, "recovery: open %d took %.3f s%n", r + 1, open[r]);
            }
            double[] sorted = open.clone();
            Arrays.sort(sorted);
            double median = sorted[runs / 2];
            if (runs % 2 == 0) {
                median = (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
            }
            StringBuilder runsJson = new StringBuilder("[");
            for (int r = 0; r < runs; r++) {
                runsJson.append(r == 0 ? "" : ", ").append(open[r]);
            }
            runsJson.append(']');
            return String.format(
                    Locale.ROOT,
                    "{\"slots\": %d, \"shards\": %d, \"loadSeconds\": %s, \"fileBytes\": %d, \"openSeconds\": %s,"
                            + " \"medianOpenSeconds\": %s, \"cpus\": %d}",
                    slots,
                    ArmdbMapBench.config(Shape.K16_V32).shards(),
                    loadSeconds,
                    fileBytes,
                    runsJson,
                    median,
                    Runtime.getRuntime().availableProcessors());
        } finally {
            BenchDirs.delete(dir);
        }
    }

    private static long usedHeapAfterGc() throws IOException {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
