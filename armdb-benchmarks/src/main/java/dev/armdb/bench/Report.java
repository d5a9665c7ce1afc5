package dev.armdb.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * Turns JMH JSON results (and optionally the {@link Footprint} JSON) into {@code docs/benchmarks.md}: machine, the
 * tables per operation with armdb-over-peer ratios, footprint and recovery, and the verdict on each engine target.
 * Optionally draws a bar chart PNG (java.awt, headless).
 *
 * <pre>
 * java -cp benchmarks.jar dev.armdb.bench.Report --jmh results.json [--footprint footprint.json]
 *      [--out docs/benchmarks.md] [--png docs/img/engine.png] [--command "bin/bench quick"]
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

    static final Map<String, String> OPS = new LinkedHashMap<>();

    static {
        OPS.put("get", "get: uniform random existing key, value copied into a caller buffer");
        OPS.put("put", "put: update of a uniform random existing key");
        OPS.put("scan100", "range scan: 100 entries in key order from a uniform random key");
    }

    /** One benchmark result. */
    record Result(
            String store,
            String op,
            String keys,
            double medianNs,
            double meanNs,
            double errorNs,
            double allocBytesPerOp,
            int samples) {}

    private Report() {}

    public static void main(String[] args) throws IOException {
        Path jmh = null;
        Path footprint = null;
        Path out = Path.of("docs/benchmarks.md");
        Path png = null;
        String command = "bin/bench";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--jmh" -> jmh = Path.of(args[++i]);
                case "--footprint" -> footprint = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--png" -> png = Path.of(args[++i]);
                case "--command" -> command = args[++i];
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
        String pngLink = null;
        if (png != null) {
            List<Result> results = results(runs);
            try {
                writeChart(results, png);
                pngLink = out.toAbsolutePath()
                        .getParent()
                        .relativize(png.toAbsolutePath())
                        .toString();
            } catch (Throwable e) { // a missing font or AWT library must not cost the tables
                System.err.println("report: no chart (" + e + ")");
            }
        }
        String md = render(runs, fp, command, machine(), pngLink);
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        Files.writeString(out, md);
        System.out.println("report: wrote " + out + (pngLink != null ? " and " + png : ""));
    }

    /** The results of a JMH JSON array, primary metric in ns/op. */
    static List<Result> results(List<?> runs) {
        List<Result> list = new ArrayList<>();
        for (Object o : runs) {
            Map<?, ?> run = (Map<?, ?>) o;
            String bench = (String) run.get("benchmark");
            String[] parts = bench.split("\\.");
            String cls = parts[parts.length - 2];
            String op = parts[parts.length - 1];
            String store = STORES.getOrDefault(cls, cls);
            Map<?, ?> params = (Map<?, ?>) run.get("params");
            String keys = params != null && params.get("keys") != null ? (String) params.get("keys") : "?";
            if (params != null && params.get("blockCacheMb") instanceof String mb && !mb.equals("0")) {
                store += " (" + mb + " MB block cache)";
            }
            Map<?, ?> pm = (Map<?, ?>) run.get("primaryMetric");
            double scale = toNanos((String) pm.get("scoreUnit"));
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
                alloc = num(a.get("score"));
            }
            list.add(new Result(store, op, keys, median(raw), mean, err, alloc, raw.size()));
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

    private static double num(Object o) {
        return o instanceof Double d ? d : Double.NaN; // JMH writes "NaN" as a string
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static String render(List<?> runs, Map<?, ?> fp, String command, Map<String, String> machine, String pngLink) {
        List<Result> results = results(runs);
        StringBuilder md = new StringBuilder();
        md.append("# Engine benchmarks\n\n");
        md.append("Generated by `bin/bench` (class `dev.armdb.bench.Report`) from JMH JSON; edit the notes in\n")
                .append("`armdb-benchmarks/src/main/resources/report-notes.md`, not this file.\n\n");
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
        md.append("| JMH | ")
                .append(String.format(
                        Locale.ROOT,
                        "%s fork(s), %s warm-up × %s, %s measurement × %s, %s thread(s), mode average time",
                        intStr(first.get("forks")),
                        intStr(first.get("warmupIterations")),
                        first.get("warmupTime"),
                        intStr(first.get("measurementIterations")),
                        first.get("measurementTime"),
                        intStr(first.get("threads"))))
                .append(" |\n\n");
        md.append("Times are the **median** of all measurement iterations (all forks) in ns per operation; ")
                .append("`mean ± err` is JMH's score with its 99.9% confidence half-width. `B/op` is ")
                .append("`gc.alloc.rate.norm` from `-prof gc` (heap bytes allocated per operation). ")
                .append("`armdb speed-up` is the peer's median divided by armdb's (FixedMap for get/put, FixedTree ")
                .append("for scans): above 1× armdb is faster.\n\n");
        if (pngLink != null) {
            md.append("![throughput per store](").append(pngLink).append(")\n\n");
        }
        TreeSet<String> keySets = new TreeSet<>((a, b) -> Long.compare(parse(a), parse(b)));
        results.forEach(r -> keySets.add(r.keys()));
        for (String keys : keySets) {
            md.append("## Results, ")
                    .append(String.format(Locale.ROOT, "%,d", parse(keys)))
                    .append(" keys (16-byte keys, 32-byte values)\n\n");
            for (Map.Entry<String, String> op : OPS.entrySet()) {
                List<Result> rows = select(results, keys, op.getKey());
                if (rows.isEmpty()) {
                    continue;
                }
                Result ref = find(
                        results,
                        keys,
                        op.getKey().equals("scan100") ? "armdb FixedTree" : "armdb FixedMap",
                        op.getKey());
                md.append("### ").append(op.getValue()).append("\n\n");
                md.append("| store | median ns/op | mean ± err ns/op | Mops/s | B/op | armdb speed-up |\n");
                md.append("|---|---:|---:|---:|---:|---:|\n");
                for (Result r : rows) {
                    md.append(String.format(
                            Locale.ROOT,
                            "| %s | %s | %s ± %s | %s | %s | %s |%n",
                            r.store(),
                            fmt(r.medianNs()),
                            fmt(r.meanNs()),
                            fmt(r.errorNs()),
                            fmt(1e3 / r.medianNs()),
                            Double.isNaN(r.allocBytesPerOp()) ? "–" : fmt(r.allocBytesPerOp()),
                            ref == null ? "–" : r == ref ? "reference" : ratio(r.medianNs() / ref.medianNs())));
                }
                md.append('\n');
            }
        }
        if (fp != null) {
            renderFootprint(md, fp);
        }
        renderTargets(md, results, keySets, fp);
        md.append(notes());
        return md.toString();
    }

    private static void renderFootprint(StringBuilder md, Map<?, ?> fp) {
        md.append("## Bytes on disk, memory and load time (")
                .append(String.format(Locale.ROOT, "%,d", (long) num(fp.get("records"))))
                .append(" records)\n\n");
        md.append("Files summed after a clean close (apparent sizes); heap measured after `System.gc()` around the ")
                .append("load, so it is approximate.\n\n");
        md.append("| store | disk bytes / record | heap bytes / record | index bytes / key | load s |\n");
        md.append("|---|---:|---:|---:|---:|\n");
        for (Object o : (List<?>) fp.get("stores")) {
            Map<?, ?> s = (Map<?, ?>) o;
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s |%n",
                    s.get("name"),
                    s.get("diskBytesPerRecord") == null ? "in memory" : fmt(num(s.get("diskBytesPerRecord"))),
                    fmt(num(s.get("heapBytesPerRecord"))),
                    s.get("indexBytesPerKey") == null ? "–" : fmt(num(s.get("indexBytesPerKey"))),
                    fmt(num(s.get("loadSeconds")))));
        }
        md.append('\n');
        if (fp.get("recovery") instanceof Map<?, ?> r) {
            md.append(String.format(
                    Locale.ROOT,
                    "**Recovery:** reopening a FixedMap of %,d live slots (%d shards, %.0f MB of shard files, "
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

    private static void renderTargets(StringBuilder md, List<Result> results, TreeSet<String> keySets, Map<?, ?> fp) {
        md.append("## Engine targets\n\n");
        md.append("| target | keys | measured | verdict |\n|---|---:|---|---|\n");
        for (String keys : keySets) {
            Result aGet = find(results, keys, "armdb FixedMap", "get");
            Result aPut = find(results, keys, "armdb FixedMap", "put");
            speedTarget(md, keys, "get ≥ 4× LMDB", aGet, find(results, keys, "LMDB", "get"), 4);
            speedTarget(md, keys, "get ≥ ConcurrentHashMap", aGet, find(results, keys, "ConcurrentHashMap", "get"), 1);
            speedTarget(md, keys, "put ≥ 4× LMDB", aPut, find(results, keys, "LMDB", "put"), 4);
            Result cPut = find(results, keys, "ConcurrentHashMap", "put");
            if (aPut != null && cPut != null) {
                double slower = aPut.medianNs() / cPut.medianNs();
                row(
                        md,
                        "put within 1.5× of ConcurrentHashMap",
                        keys,
                        String.format(
                                Locale.ROOT,
                                "armdb %s ns vs CHM %s ns: armdb takes %s of CHM's time",
                                fmt(aPut.medianNs()),
                                fmt(cPut.medianNs()),
                                ratio(slower)),
                        slower <= 1.5 ? "met" : "missed by " + pct(slower / 1.5 - 1) + " (limit 1.5×)");
            }
            speedTarget(md, keys, "get ≥ 5× RocksDB", aGet, find(results, keys, "RocksDB", "get"), 5);
            speedTarget(md, keys, "put ≥ 5× RocksDB", aPut, find(results, keys, "RocksDB", "put"), 5);
            for (Result r : results) {
                if (r.keys().equals(keys) && r.store().startsWith("RocksDB (") && !r.op().equals("scan100")) {
                    speedTarget(md, keys, r.op() + " ≥ 5× " + r.store(), r.op().equals("get") ? aGet : aPut, r, 5);
                }
            }
            for (Result r : new Result[] {aGet, aPut}) {
                if (r != null && !Double.isNaN(r.allocBytesPerOp())) {
                    row(
                            md,
                            "0 B/op on " + r.op(),
                            keys,
                            fmt(r.allocBytesPerOp()) + " B/op (gc.alloc.rate.norm)",
                            r.allocBytesPerOp() < 1
                                    ? "met (below 1 B/op: JMH's own bookkeeping noise)"
                                    : "missed: " + fmt(r.allocBytesPerOp()) + " B/op");
                } else if (r != null) {
                    row(md, "0 B/op on " + r.op(), keys, "not measured (run without `-prof gc`)", "not measured");
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
                    String.format(Locale.ROOT, "%,d", slots),
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
                            String.format(Locale.ROOT, "%,d", (long) num(fp.get("records"))),
                            fmt(b) + " bytes/key",
                            b <= 16 ? "met" : "missed by " + pct(b / 16 - 1));
                }
            }
        }
        md.append('\n');
    }

    private static void speedTarget(
            StringBuilder md, String keys, String target, Result armdb, Result peer, double needed) {
        if (armdb == null || peer == null) {
            row(md, target, keys, "not measured", "not measured");
            return;
        }
        double speedup = peer.medianNs() / armdb.medianNs();
        row(
                md,
                target,
                keys,
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

    private static void row(StringBuilder md, String target, String keys, String measured, String verdict) {
        String k = keys.matches("\\d+") ? String.format(Locale.ROOT, "%,d", Long.parseLong(keys)) : keys;
        md.append("| ")
                .append(target)
                .append(" | ")
                .append(k)
                .append(" | ")
                .append(measured)
                .append(" | ")
                .append(verdict)
                .append(" |\n");
    }

    /** The results of one key count and operation, in {@link #STORES} order (variants after their store). */
    static List<Result> select(List<Result> results, String keys, String op) {
        List<Result> rows = new ArrayList<>();
        for (Result r : results) {
            if (r.keys().equals(keys) && r.op().equals(op)) {
                rows.add(r);
            }
        }
        rows.sort(java.util.Comparator.comparingInt(r -> rank(r.store())));
        return rows;
    }

    private static int rank(String store) {
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

    static Result find(List<Result> results, String keys, String store, String op) {
        for (Result r : results) {
            if (r.keys().equals(keys) && r.store().equals(store) && r.op().equals(op)) {
                return r;
            }
        }
        return null;
    }

    private static long parse(String keys) {
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

    private static String ratio(double r) {
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

    private static String notes() {
        try (InputStream in = Report.class.getResourceAsStream("/report-notes.md")) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Horizontal bars of Mops/s per store, one panel per operation, for the largest key count. */
    static void writeChart(List<Result> results, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        String keys = results.stream()
                .map(Result::keys)
                .max((a, b) -> Long.compare(parse(a), parse(b)))
                .orElse("?");
        List<List<Result>> panels = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (Map.Entry<String, String> op : OPS.entrySet()) {
            List<Result> rows = select(results, keys, op.getKey());
            if (!rows.isEmpty()) {
                panels.add(rows);
                titles.add(op.getKey() + " (Mops/s, higher is better)");
            }
        }
        int bar = 22;
        int labelW = 235;
        int plotW = 560;
        int width = labelW + plotW + 110;
        int height = 50;
        for (List<Result> p : panels) {
            height += 34 + p.size() * (bar + 6) + 12;
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(
                    String.format(
                            Locale.ROOT,
                            "armdb engine vs peers, %,d keys, 16 B keys / 32 B values, 1 thread",
                            parse(keys)),
                    12,
                    28);
            int y = 50;
            for (int p = 0; p < panels.size(); p++) {
                List<Result> rows = panels.get(p);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
                g.setColor(Color.DARK_GRAY);
                g.drawString(titles.get(p), 12, y + 18);
                y += 30;
                double max =
                        rows.stream().mapToDouble(r -> 1e3 / r.medianNs()).max().orElse(1);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                for (Result r : rows) {
                    double mops = 1e3 / r.medianNs();
                    int w = (int) Math.max(1, Math.round(plotW * mops / max));
                    g.setColor(Color.BLACK);
                    g.drawString(r.store(), 12, y + 16);
                    g.setColor(
                            r.store().startsWith("armdb")
                                    ? new Color(0xD9, 0x5F, 0x0E)
                                    : r.store().equals("ConcurrentHashMap")
                                            ? new Color(0x88, 0x88, 0x88)
                                            : new Color(0x31, 0x6B, 0xB5));
                    g.fillRect(labelW, y + 2, w, bar);
                    g.setColor(Color.BLACK);
                    g.drawString(fmt(mops), labelW + w + 6, y + 18);
                    y += bar + 6;
                }
                g.setColor(Color.LIGHT_GRAY);
                g.setStroke(new BasicStroke(1));
                g.drawLine(labelW, y - rows.size() * (bar + 6), labelW, y);
                y += 12;
            }
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(img, "png", png.toFile())) {
            throw new IOException("no PNG writer");
        }
    }
}
