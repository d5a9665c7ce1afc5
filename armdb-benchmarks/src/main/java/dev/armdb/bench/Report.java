package dev.armdb.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns JMH JSON results (and optionally the {@link Footprint} JSON) into {@code docs/benchmarks.md}: machine, the
 * verdict on each engine target for every measured configuration, tables per configuration (record count, shape,
 * access pattern, threads) and operation with armdb-over-peer ratios, footprint and recovery. Optionally draws the
 * PNG charts of {@link Charts} into a directory.
 *
 * <pre>
 * java -cp benchmarks.jar dev.armdb.bench.Report --jmh results.json [--footprint footprint.json]
 *      [--out docs/benchmarks.md] [--img docs/img] [--command "bin/bench quick"]
 * </pre>
 */
public final class Report {
    /** Benchmark class simple name to the store name used in tables, in table order. */
    static final Map<String, String> STORES = new LinkedHashMap<>();

    static {
        STORES.put("ArmdbMapBench", "armdb FixedMap");
        STORES.put("ArmdbTreeBench", "armdb FixedTree");
        STORES.put("LmdbBench", "LMDB");
        STORES.put("RocksDbBench", "RocksDB");
        STORES.put("MapDbBench", "MapDB");
        STORES.put("ChronicleMapBench", "Chronicle Map");
        STORES.put("ChmBench", "ConcurrentHashMap");
    }

    /** Operation (benchmark method) to its table heading, in table order. */
    static final Map<String, String> OPS = new LinkedHashMap<>();

    static {
        OPS.put("get", "get: existing key, value copied into a caller buffer");
        OPS.put("put", "put (update): existing key gets a new value");
        OPS.put("insert", "put (insert): a key never stored before (batches of 1,024, deleted again unmeasured)");
        OPS.put("deleteInsert", "delete + insert: one op deletes an existing key and puts it back");
        OPS.put("iterate", "iteration: one full pass over every record, time **per record**");
        OPS.put("scan100", "range scan: 100 entries in key order");
    }

    /** Shape names to the words used in headings. */
    private static final Map<String, String> SHAPES = Map.of(
            "16x32", "16-byte keys, 32-byte values",
            "8x256", "8-byte keys, 256-byte values");

    /** One measured configuration: record count, shape, access pattern and benchmark threads. */
    record Config(long keys, String shape, String access, int threads) implements Comparable<Config> {
        private static final Comparator<Config> ORDER = Comparator.comparingLong(Config::keys)
                .thenComparing(c -> !c.shape().equals("16x32"))
                .thenComparing(Config::shape)
                .thenComparing(c -> !c.access().equals("random"))
                .thenComparingInt(Config::threads);

        @Override
        public int compareTo(Config o) {
            return ORDER.compare(this, o);
        }

        /** Short label, e.g. {@code 1,000,000 × 16x32, random, 1 thread}. */
        String label() {
            return String.format(Locale.ROOT, "%,d × %s, %s, %s", keys, shape, access, threadWord());
        }

        /** Compact label for chart legends, e.g. {@code 1M 16x32 random 1t}. */
        String shortLabel() {
            String k =
                    keys % 1_000_000 == 0 ? keys / 1_000_000 + "M" : keys % 1000 == 0 ? keys / 1000 + "k" : "" + keys;
            return k + " " + shape + " " + (access.equals("sequential") ? "seq" : access) + " " + threads + "t";
        }

        String threadWord() {
            return threads + (threads == 1 ? " thread" : " threads");
        }

        /** The same data set and access with another thread count. */
        Config withThreads(int t) {
            return new Config(keys, shape, access, t);
        }
    }

    /**
     * One benchmark result. Times are per operation, except for {@code iterate}, where they and the allocation are
     * per record (the JMH score per full pass divided by the record count).
     */
    record Result(
            String store,
            String op,
            Config config,
            double medianNs,
            double meanNs,
            double errorNs,
            double allocBytesPerOp,
            int samples) {
        /** Operations (or records, for iteration) per microsecond over all threads: millions per second. */
        double mops() {
            return config.threads() * 1e3 / medianNs;
        }

        /** True for the base configuration of a store (not a variant such as a bigger block cache). */
        boolean base() {
            return STORES.containsValue(store);
        }
    }

    private Report() {}

    /** Writes the report; see the class comment for the options. */
    public static void main(String[] args) throws IOException {
        Path jmh = null;
        Path footprint = null;
        Path out = Path.of("docs/benchmarks.md");
        Path img = null;
        String command = "bin/bench";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--jmh" -> jmh = Path.of(args[++i]);
                case "--footprint" -> footprint = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--img" -> img = Path.of(args[++i]);
                case "--command" -> command = args[++i];
                case "--notes" -> notesResource = "/" + args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (jmh == null) {
            throw new IllegalArgumentException("--jmh results.json is required");
        }
        List<?> runs = (List<?>) Json.parse(Files.readString(jmh));
        Map<?, ?> fp = footprint != null && Files.exists(footprint)
                ? (Map<?, ?>) Json.parse(Files.readString(footprint))
                : null;
        List<String> images = new ArrayList<>();
        if (img != null) {
            try {
                Path base = out.toAbsolutePath().getParent();
                for (Path p : Charts.write(results(runs), img)) {
                    images.add(base.relativize(p.toAbsolutePath()).toString());
                }
            } catch (Throwable e) { // a missing font or AWT library must not cost the tables
                System.err.println("report: no charts (" + e + ")");
            }
        }
        Map<String, String> machine = machine();
        // the results file was written when the measurements ended: its time, not the rendering's, dates them
        machine.put(
                "date (UTC)",
                ZonedDateTime.ofInstant(Files.getLastModifiedTime(jmh).toInstant(), ZoneOffset.UTC)
                        .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")));
        String md = render(runs, fp, command, machine, images);
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        Files.writeString(out, md);
        System.out.println("report: wrote " + out + (images.isEmpty() ? "" : " and " + images));
    }

    /** The results of a JMH JSON array, primary metric in ns/op (ns/record for iteration). */
    static List<Result> results(List<?> runs) {
        List<Result> list = new ArrayList<>();
        for (Object o : runs) {
            Map<?, ?> run = (Map<?, ?>) o;
            String bench = (String) run.get("benchmark");
            String[] parts = bench.split("\\.");
            String cls = parts[parts.length - 2];
            String op = parts[parts.length - 1];
            String store = STORES.getOrDefault(cls, cls);
            Map<?, ?> params = run.get("params") instanceof Map<?, ?> p ? p : Map.of();
            long keys = parse(params.get("keys") instanceof String k ? k : "-1");
            String shape = params.get("shape") instanceof String s ? s : "16x32";
            String access = params.get("access") instanceof String a ? a : "random";
            int threads = run.get("threads") instanceof Double t ? t.intValue() : 1;
            if (params.get("blockCacheMb") instanceof String mb && !mb.equals("0")) {
                store += " (" + mb + " MB block cache)";
            }
            if ("false".equals(params.get("writeMap"))) {
                store += " (no WRITEMAP)";
            }
            Map<?, ?> pm = (Map<?, ?>) run.get("primaryMetric");
            double scale = toNanos((String) pm.get("scoreUnit"));
            if (op.equals("iterate") && keys > 0) {
                scale /= keys;
            }
            List<Double> raw = new ArrayList<>();
            for (Object fork : (List<?>) pm.get("rawData")) {
                for (Object v : (List<?>) fork) {
                    raw.add(((Double) v) * scale);
                }
            }
            double mean = num(pm.get("score")) * scale;
            double err = num(pm.get("scoreError")) * scale;
            double alloc = Double.NaN;
            Map<?, ?> sec = (Map<?, ?>) run.get("secondaryMetrics");
            if (sec != null && sec.get("gc.alloc.rate.norm") instanceof Map<?, ?> a) {
                alloc = num(a.get("score")) / (op.equals("iterate") && keys > 0 ? keys : 1);
            }
            list.add(new Result(
                    store, op, new Config(keys, shape, access, threads), median(raw), mean, err, alloc, raw.size()));
        }
        return list;
    }

    private static double toNanos(String unit) {
        return switch (unit) {
            case "ns/op" -> 1;
            case "us/op" -> 1e3;
            case "ms/op" -> 1e6;
            case "s/op" -> 1e9;
            default -> throw new IllegalArgumentException("expected average-time results in */op, got " + unit);
        };
    }

    static double num(Object o) {
        return o instanceof Double d ? d : Double.NaN; // JMH writes "NaN" as a string
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** Every configuration measured, in report order. */
    static TreeSet<Config> configs(List<Result> results) {
        TreeSet<Config> set = new TreeSet<>();
        results.forEach(r -> set.add(r.config()));
        return set;
    }

    /** The store an operation's speed-ups are taken against: FixedTree for scans, FixedMap otherwise. */
    static String reference(String op) {
        return op.equals("scan100") ? "armdb FixedTree" : "armdb FixedMap";
    }

    static String render(List<?> runs, Map<?, ?> fp, String command, Map<String, String> machine, List<String> images) {
        List<Result> results = results(runs);
        TreeSet<Config> configs = configs(results);
        StringBuilder md = new StringBuilder();
        md.append("# Engine benchmarks\n\n");
        md.append("Generated by `bin/bench` (class `dev.armdb.bench.Report`) from JMH JSON; edit the notes in\n")
                .append("`armdb-benchmarks/src/main/resources/report-notes.md`, not this file.\n\n");
        renderMachine(md, runs, command, machine, configs);
        md.append("Times are the **median** of all measurement iterations (all forks) in ns per operation and ")
                .append("thread; `mean ± err` is JMH's score with its 99.9% confidence half-width. `Mops/s` is the ")
                .append("throughput of all threads together. `B/op` is `gc.alloc.rate.norm` from `-prof gc` (heap ")
                .append("bytes allocated per operation). `armdb speed-up` is the peer's median divided by armdb's ")
                .append("(FixedMap, or FixedTree for range scans) in the same table: above 1× armdb is faster. ")
                .append("Iteration is given per record (one pass's time divided by the record count).\n\n");
        for (String image : images) {
            md.append("![").append(imageTitle(image)).append("](").append(image).append(")\n\n");
        }
        renderTargets(md, results, configs, fp);
        md.append("## Results\n\n");
        for (Config c : configs) {
            md.append("- [").append(c.label()).append("](#").append(anchor(c)).append(")\n");
        }
        md.append('\n');
        for (Config c : configs) {
            md.append("### ")
                    .append(String.format(Locale.ROOT, "%,d keys, ", c.keys()))
                    .append(SHAPES.getOrDefault(c.shape(), c.shape()))
                    .append(", ")
                    .append(c.access())
                    .append(" access, ")
                    .append(c.threadWord())
                    .append(" <a id=\"")
                    .append(anchor(c))
                    .append("\"></a>\n\n");
            for (Map.Entry<String, String> op : OPS.entrySet()) {
                List<Result> rows = select(results, c, op.getKey());
                if (rows.isEmpty()) {
                    continue;
                }
                Result ref = find(results, c, reference(op.getKey()), op.getKey());
                boolean perRecord = op.getKey().equals("iterate");
                md.append("#### ").append(op.getValue()).append("\n\n");
                md.append(
                        perRecord
                                ? "| store | median ns/record | mean ± err ns/record | M records/s | B/record | armdb speed-up |\n"
                                : "| store | median ns/op | mean ± err ns/op | Mops/s | B/op | armdb speed-up |\n");
                md.append("|---|---:|---:|---:|---:|---:|\n");
                for (Result r : rows) {
                    md.append(String.format(
                            Locale.ROOT,
                            "| %s | %s | %s ± %s | %s | %s | %s |%n",
                            r.store(),
                            fmt(r.medianNs()),
                            fmt(r.meanNs()),
                            fmt(r.errorNs()),
                            fmt(r.mops()),
                            Double.isNaN(r.allocBytesPerOp()) ? "–" : fmt(r.allocBytesPerOp()),
                            ref == null ? "–" : r == ref ? "reference" : ratio(r.medianNs() / ref.medianNs())));
                }
                md.append('\n');
            }
        }
        if (fp != null) {
            renderFootprint(md, fp);
        }
        md.append(notes());
        return md.toString();
    }

    private static String imageTitle(String image) {
        if (image.contains("targets")) {
            return "engine targets per configuration";
        }
        if (image.contains("configs")) {
            return "get and put throughput per store and configuration";
        }
        return "throughput per store and operation";
    }

    private static String anchor(Config c) {
        return ("r-" + c.keys() + "-" + c.shape() + "-" + c.access() + "-" + c.threads() + "t")
                .toLowerCase(Locale.ROOT);
    }

    private static void renderMachine(
            StringBuilder md, List<?> runs, String command, Map<String, String> machine, TreeSet<Config> configs) {
        md.append("## Machine and run\n\n| | |\n|---|---|\n");
        Map<?, ?> first = runs.isEmpty() ? Map.of() : (Map<?, ?>) runs.get(0);
        machine.forEach(
                (k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        md.append("| JDK | ")
                .append(first.get("jdkVersion"))
                .append(", ")
                .append(first.get("vmName"))
                .append(' ')
                .append(first.get("vmVersion"))
                .append(" |\n");
        md.append("| command | `").append(command.replace("|", "\\|")).append("` |\n");
        TreeSet<Integer> threads = new TreeSet<>();
        configs.forEach(c -> threads.add(c.threads()));
        md.append("| JMH | ")
                .append(String.format(
                        Locale.ROOT,
                        "%s fork(s), %s warm-up × %s, %s measurement × %s, %s thread(s) (per table), mode average "
                                + "time, %d results",
                        intStr(first.get("forks")),
                        intStr(first.get("warmupIterations")),
                        first.get("warmupTime"),
                        intStr(first.get("measurementIterations")),
                        first.get("measurementTime"),
                        threads.isEmpty()
                                ? "?"
                                : String.join(
                                        " and ",
                                        threads.stream().map(String::valueOf).toList()),
                        runs.size()))
                .append(" |\n\n");
    }

    private static void renderFootprint(StringBuilder md, Map<?, ?> fp) {
        md.append("## Bytes on disk, memory and load time (")
                .append(String.format(Locale.ROOT, "%,d", (long) num(fp.get("records"))))
                .append(" records)\n\n");
        md.append("Files summed after a clean close (apparent sizes); heap measured after `System.gc()` around the ")
                .append("load, so it is approximate.\n\n");
        md.append("| store | shape | disk bytes / record | heap bytes / record | index bytes / key | load s |\n");
        md.append("|---|---|---:|---:|---:|---:|\n");
        for (Object o : (List<?>) fp.get("stores")) {
            Map<?, ?> s = (Map<?, ?>) o;
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s |%n",
                    s.get("name"),
                    s.get("shape") instanceof String sh ? sh : "16x32",
                    s.get("diskBytesPerRecord") == null ? "in memory" : fmt(num(s.get("diskBytesPerRecord"))),
                    fmt(num(s.get("heapBytesPerRecord"))),
                    s.get("indexBytesPerKey") == null ? "–" : fmt(num(s.get("indexBytesPerKey"))),
                    fmt(num(s.get("loadSeconds")))));
        }
        md.append('\n');
        if (fp.get("recovery") instanceof Map<?, ?> r) {
            md.append(String.format(
                    Locale.ROOT,
                    "**Recovery:** reopening a FixedMap of %,d live 16x32 slots (%d shards, %.0f MB of shard files, "
                            + "page cache warm, %d cores) took %s s (median of %s; loading it took %.1f s).%n%n",
                    (long) num(r.get("slots")),
                    (long) num(r.get("shards")),
                    num(r.get("fileBytes")) / 1e6,
                    (long) num(r.get("cpus")),
                    fmt(num(r.get("medianOpenSeconds"))),
                    seconds(r.get("openSeconds")),
                    num(r.get("loadSeconds"))));
        }
    }

    /** One speed target: armdb's op against a peer's, met when the peer's time over armdb's reaches {@code needed}. */
    record SpeedTarget(String name, String op, String peer, double needed) {}

    /** The speed targets of the issue, per configuration. */
    static final List<SpeedTarget> SPEED_TARGETS = List.of(
            new SpeedTarget("get ≥ 4× LMDB", "get", "LMDB", 4),
            new SpeedTarget("get ≥ ConcurrentHashMap", "get", "ConcurrentHashMap", 1),
            new SpeedTarget("put ≥ 4× LMDB", "put", "LMDB", 4),
            new SpeedTarget("put within 1.5× of ConcurrentHashMap", "put", "ConcurrentHashMap", 1 / 1.5),
            new SpeedTarget("get ≥ 5× RocksDB", "get", "RocksDB", 5),
            new SpeedTarget("put ≥ 5× RocksDB", "put", "RocksDB", 5));

    /** A target verdict: the speed-up armdb reached and the one it needed. */
    record Verdict(SpeedTarget target, Config config, Result armdb, Result peer) {
        double speedup() {
            return peer.medianNs() / armdb.medianNs();
        }

        boolean met() {
            return speedup() >= target.needed();
        }
    }

    /** Every speed-target verdict that the results allow, by configuration then target. */
    static List<Verdict> verdicts(List<Result> results) {
        List<Verdict> list = new ArrayList<>();
        for (Config c : configs(results)) {
            for (SpeedTarget t : SPEED_TARGETS) {
                Result a = find(results, c, "armdb FixedMap", t.op());
                Result p = find(results, c, t.peer(), t.op());
                if (a != null && p != null) {
                    list.add(new Verdict(t, c, a, p));
                }
            }
        }
        return list;
    }

    private static void renderTargets(StringBuilder md, List<Result> results, TreeSet<Config> configs, Map<?, ?> fp) {
        md.append("## Engine targets\n\n");
        List<Verdict> verdicts = verdicts(results);
        long met = verdicts.stream().filter(Verdict::met).count();
        md.append(String.format(
                Locale.ROOT,
                "Speed targets (armdb FixedMap against each peer's base configuration, same table of the same run): "
                        + "**%d of %d met**.%n%n",
                met,
                verdicts.size()));
        md.append("| target | data set | measured | verdict |\n|---|---|---|---|\n");
        for (Config c : configs) {
            Result aGet = find(results, c, "armdb FixedMap", "get");
            Result aPut = find(results, c, "armdb FixedMap", "put");
            if (aGet == null && aPut == null) {
                continue;
            }
            for (SpeedTarget t : SPEED_TARGETS) {
                Result a = t.op().equals("get") ? aGet : aPut;
                Result p = find(results, c, t.peer(), t.op());
                if (t.peer().equals("ConcurrentHashMap") && t.op().equals("put")) {
                    chmPut(md, c, a, p);
                } else {
                    speedTarget(md, c, t.name(), a, p, t.needed());
                }
            }
            for (Result r : results) {
                if (r.config().equals(c) && !r.base() && (r.op().equals("get") || r.op().equals("put"))) {
                    speedTarget(
                            md,
                            c,
                            r.op() + " ≥ " + (r.store().startsWith("LMDB") ? "4× " : "5× ") + r.store(),
                            r.op().equals("get") ? aGet : aPut,
                            r,
                            r.store().startsWith("LMDB") ? 4 : 5);
                }
            }
            for (Result r : new Result[] {aGet, aPut}) {
                if (r != null && !Double.isNaN(r.allocBytesPerOp())) {
                    row(
                            md,
                            "0 B/op on " + r.op(),
                            c.label(),
                            fmt(r.allocBytesPerOp()) + " B/op (gc.alloc.rate.norm)",
                            r.allocBytesPerOp() < 1
                                    ? "met (below 1 B/op: JMH's own bookkeeping noise)"
                                    : "missed: " + fmt(r.allocBytesPerOp()) + " B/op");
                } else if (r != null) {
                    row(md, "0 B/op on " + r.op(), c.label(), "not measured (run without `-prof gc`)", "not measured");
                }
            }
        }
        if (fp != null && fp.get("recovery") instanceof Map<?, ?> r) {
            double s = num(r.get("medianOpenSeconds"));
            long slots = (long) num(r.get("slots"));
            String verdict = s <= 3 ? "met" : "missed by " + pct(s / 3 - 1) + " (limit 3 s)";
            if (slots != 10_000_000L) {
                verdict += " (measured at " + String.format(Locale.ROOT, "%,d", slots) + " slots, not 10M)";
            }
            row(
                    md,
                    "recovery of 10M slots ≤ 3 s",
                    String.format(Locale.ROOT, "%,d × 16x32", slots),
                    fmt(s) + " s median reopen",
                    verdict);
        }
        if (fp != null) {
            for (Object o : (List<?>) fp.get("stores")) {
                Map<?, ?> st = (Map<?, ?>) o;
                if ("armdb FixedMap".equals(st.get("name")) && st.get("indexBytesPerKey") != null) {
                    double b = num(st.get("indexBytesPerKey"));
                    row(
                            md,
                            "FixedMap index ≤ 16 bytes/key",
                            String.format(
                                    Locale.ROOT,
                                    "%,d × %s",
                                    (long) num(fp.get("records")),
                                    st.get("shape") instanceof String sh ? sh : "16x32"),
                            fmt(b) + " bytes/key",
                            b <= 16 ? "met" : "missed by " + pct(b / 16 - 1));
                }
            }
        }
        md.append('\n');
    }

    private static void chmPut(StringBuilder md, Config c, Result aPut, Result cPut) {
        if (aPut == null || cPut == null) {
            row(md, "put within 1.5× of ConcurrentHashMap", c.label(), "not measured", "not measured");
            return;
        }
        double slower = aPut.medianNs() / cPut.medianNs();
        row(
                md,
                "put within 1.5× of ConcurrentHashMap",
                c.label(),
                String.format(
                        Locale.ROOT,
                        "armdb %s ns vs CHM %s ns: armdb takes %s of CHM's time",
                        fmt(aPut.medianNs()),
                        fmt(cPut.medianNs()),
                        ratio(slower)),
                slower <= 1.5 ? "met" : "missed by " + pct(slower / 1.5 - 1) + " (limit 1.5×)");
    }

    private static void speedTarget(
            StringBuilder md, Config c, String target, Result armdb, Result peer, double needed) {
        if (armdb == null || peer == null) {
            row(md, target, c.label(), "not measured", "not measured");
            return;
        }
        double speedup = peer.medianNs() / armdb.medianNs();
        row(
                md,
                target,
                c.label(),
                String.format(
                        Locale.ROOT,
                        "armdb %s ns vs %s %s ns: %s",
                        fmt(armdb.medianNs()),
                        peer.store(),
                        fmt(peer.medianNs()),
                        ratio(speedup)),
                speedup >= needed
                        ? "met"
                        : "missed: " + ratio(speedup) + " of " + ratio(needed) + " (" + pct(1 - speedup / needed)
                                + " short)");
    }

    private static void row(StringBuilder md, String target, String dataSet, String measured, String verdict) {
        md.append("| ")
                .append(target)
                .append(" | ")
                .append(dataSet)
                .append(" | ")
                .append(measured)
                .append(" | ")
                .append(verdict)
                .append(" |\n");
    }

    /** The results of one configuration and operation, in {@link #STORES} order (variants after their store). */
    static List<Result> select(List<Result> results, Config config, String op) {
        List<Result> rows = new ArrayList<>();
        for (Result r : results) {
            if (r.config().equals(config) && r.op().equals(op)) {
                rows.add(r);
            }
        }
        rows.sort(Comparator.comparingInt(r -> rank(r.store())));
        return rows;
    }

    static int rank(String store) {
        int i = 0;
        int best = Integer.MAX_VALUE;
        for (String s : STORES.values()) {
            if (store.equals(s)) {
                return 2 * i;
            }
            if (store.startsWith(s + " ")) {
                best = Math.min(best, 2 * i + 1);
            }
            i++;
        }
        return best;
    }

    static Result find(List<Result> results, Config config, String store, String op) {
        for (Result r : results) {
            if (r.config().equals(config) && r.store().equals(store) && r.op().equals(op)) {
                return r;
            }
        }
        return null;
    }

    static long parse(String keys) {
        try {
            return Long.parseLong(keys);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String intStr(Object o) {
        return o instanceof Double d ? String.valueOf(d.longValue()) : String.valueOf(o);
    }

    /** Three significant digits, thousands grouped. */
    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 0.01 || a == 0) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, r >= 10 ? "%.0f×" : "%.2f×", r);
    }

    private static String seconds(Object list) {
        List<String> parts = new ArrayList<>();
        if (list instanceof List<?> l) {
            for (Object o : l) {
                parts.add(fmt(num(o)));
            }
        }
        return String.join(", ", parts) + " s";
    }

    private static String pct(double f) {
        return String.format(Locale.ROOT, "%.0f%%", f * 100);
    }

    static Map<String, String> machine() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("date (UTC)", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")));
        m.put("cores (nproc)", String.valueOf(Runtime.getRuntime().availableProcessors()));
        m.put("CPU", firstValue(Path.of("/proc/cpuinfo"), "model name"));
        String mem = firstValue(Path.of("/proc/meminfo"), "MemTotal");
        if (mem.endsWith(" kB")) {
            long kb = Long.parseLong(mem.substring(0, mem.length() - 3).trim());
            mem = String.format(Locale.ROOT, "%.1f GiB", kb / 1024.0 / 1024.0);
        }
        m.put("memory", mem);
        m.put(
                "OS",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"));
        return m;
    }

    private static String firstValue(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                int c = line.indexOf(':');
                if (c > 0 && line.substring(0, c).trim().equals(key)) {
                    return line.substring(c + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux: leave it unknown
        }
        return "unknown";
    }

    /** The notes closing the report: a resource of this module ({@code --notes NAME}, for partial runs). */
    private static String notesResource = "/report-notes.md";

    private static String notes() {
        try (InputStream in = Report.class.getResourceAsStream(notesResource)) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
