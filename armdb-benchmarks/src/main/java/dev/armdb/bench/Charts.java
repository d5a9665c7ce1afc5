package dev.armdb.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * The PNG charts of the engine report (java.awt, headless), each meant to be read at a glance:
 *
 * <ul>
 *   <li>{@code engine.png}: throughput per store, one panel per operation, for the headline configuration (largest
 *       record count, 16x32, random access, 1 thread);
 *   <li>{@code engine-configs.png}: get and put throughput per store, one bar per configuration (shape, access,
 *       threads, record count);
 *   <li>{@code engine-targets.png}: the speed and allocation targets as a grid of configurations, green where met,
 *       red where missed, with the ratio reached.
 * </ul>
 */
final class Charts {
    private static final Color ARMDB = new Color(0xD9, 0x5F, 0x0E);
    private static final Color PEER = new Color(0x31, 0x6B, 0xB5);
    private static final Color BOUND = new Color(0x88, 0x88, 0x88);
    private static final Color MET = new Color(0x4C, 0xAF, 0x50);
    private static final Color MISSED = new Color(0xE5, 0x39, 0x35);
    private static final Color[] SERIES = {
        new Color(0x1F, 0x77, 0xB4), new Color(0xFF, 0x7F, 0x0E), new Color(0x2C, 0xA0, 0x2C),
        new Color(0xD6, 0x27, 0x28), new Color(0x94, 0x67, 0xBD), new Color(0x8C, 0x56, 0x4B),
        new Color(0xE3, 0x77, 0xC2), new Color(0x7F, 0x7F, 0x7F), new Color(0xBC, 0xBD, 0x22),
        new Color(0x17, 0xBE, 0xCF)
    };

    /** Short operation names for panel titles. */
    private static final Map<String, String> TITLES = Map.of(
            "get", "get",
            "put", "put (update)",
            "insert", "put (insert of a new key)",
            "deleteInsert", "delete + insert",
            "iterate", "full iteration",
            "scan100", "range scan of 100 keys");

    private Charts() {}

    /** Draws every chart into {@code dir}; returns the files written. */
    static List<Path> write(List<Report.Result> results, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        if (results.isEmpty()) {
            return written;
        }
        Path headline = dir.resolve("engine.png");
        save(headline(results), headline);
        written.add(headline);
        Path configs = dir.resolve("engine-configs.png");
        save(configs(results), configs);
        written.add(configs);
        if (!Report.verdicts(results).isEmpty()) {
            Path targets = dir.resolve("engine-targets.png");
            save(targets(results), targets);
            written.add(targets);
        }
        return written;
    }

    /** The headline configuration: the largest record count at 16x32, random, 1 thread, else the first measured. */
    static Report.Config headlineConfig(List<Report.Result> results) {
        TreeSet<Report.Config> all = Report.configs(results);
        Report.Config best = null;
        for (Report.Config c : all) {
            if (c.shape().equals("16x32") && c.access().equals("random") && c.threads() == 1) {
                best = c;
            }
        }
        return best != null ? best : all.first();
    }

    private static Color storeColor(String store) {
        return store.startsWith("armdb") ? ARMDB : store.equals("ConcurrentHashMap") ? BOUND : PEER;
    }

    private static BufferedImage headline(List<Report.Result> results) {
        Report.Config c = headlineConfig(results);
        List<String> titles = new ArrayList<>();
        List<List<Report.Result>> panels = new ArrayList<>();
        for (String op : Report.OPS.keySet()) {
            List<Report.Result> rows = Report.select(results, c, op);
            if (!rows.isEmpty()) {
                panels.add(rows);
                titles.add(TITLES.getOrDefault(op, op)
                        + (op.equals("iterate") ? " (million records/s" : " (Mops/s")
                        + ", higher is better)");
            }
        }
        int bar = 20;
        int labelW = 260;
        int plotW = 560;
        int width = labelW + plotW + 100;
        int height = 56;
        for (List<Report.Result> p : panels) {
            height += 30 + p.size() * (bar + 5) + 12;
        }
        BufferedImage img = canvas(width, height);
        Graphics2D g = img.createGraphics();
        try {
            setup(g, width, height);
            title(g, "armdb engine vs peers: " + c.label(), 28);
            int y = 50;
            for (int p = 0; p < panels.size(); p++) {
                List<Report.Result> rows = panels.get(p);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
                g.setColor(Color.DARK_GRAY);
                g.drawString(titles.get(p), 12, y + 18);
                y += 28;
                double max =
                        rows.stream().mapToDouble(Report.Result::mops).max().orElse(1);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                int top = y;
                for (Report.Result r : rows) {
                    int w = (int) Math.max(1, Math.round(plotW * r.mops() / max));
                    g.setColor(Color.BLACK);
                    g.drawString(r.store(), 12, y + 15);
                    g.setColor(storeColor(r.store()));
                    g.fillRect(labelW, y + 2, w, bar);
                    g.setColor(Color.BLACK);
                    g.drawString(Report.fmt(r.mops()), labelW + w + 6, y + 17);
                    y += bar + 5;
                }
                g.setColor(Color.LIGHT_GRAY);
                g.setStroke(new BasicStroke(1));
                g.drawLine(labelW, top, labelW, y);
                y += 12;
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static BufferedImage configs(List<Report.Result> results) {
        List<Report.Config> configs = new ArrayList<>(Report.configs(results));
        List<String> ops = List.of("get", "put");
        Set<String> stores = new LinkedHashSet<>();
        results.stream()
                .filter(r -> ops.contains(r.op()))
                .map(Report.Result::store)
                .sorted((a, b) -> Integer.compare(Report.rank(a), Report.rank(b)))
                .forEach(stores::add);
        configs.removeIf(c -> results.stream().noneMatch(r -> r.config().equals(c) && ops.contains(r.op())));
        int bar = 12;
        int labelW = 260;
        int plotW = 560;
        int width = labelW + plotW + 100;
        int legendRows = (configs.size() + 2) / 3;
        int height = 60 + legendRows * 18;
        List<List<Report.Result>> groups = new ArrayList<>();
        for (String op : ops) {
            height += 30;
            for (String store : stores) {
                List<Report.Result> g = new ArrayList<>();
                for (Report.Config c : configs) {
                    Report.Result r = Report.find(results, c, store, op);
                    g.add(r);
                }
                groups.add(g);
                height += (int) g.stream().filter(r -> r != null).count() * bar + 10;
            }
        }
        BufferedImage img = canvas(width, height);
        Graphics2D g = img.createGraphics();
        try {
            setup(g, width, height);
            title(g, "get and put per configuration (Mops/s, all threads; higher is better)", 28);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            int y = 44;
            for (int i = 0; i < configs.size(); i++) {
                int x = 12 + (i % 3) * 300;
                int ly = y + (i / 3) * 18;
                g.setColor(SERIES[i % SERIES.length]);
                g.fillRect(x, ly, 12, 12);
                g.setColor(Color.BLACK);
                g.drawString(configs.get(i).shortLabel(), x + 18, ly + 11);
            }
            y += legendRows * 18 + 8;
            int gi = 0;
            for (String op : ops) {
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
                g.setColor(Color.DARK_GRAY);
                g.drawString(op, 12, y + 18);
                y += 30;
                double max = results.stream()
                        .filter(r -> r.op().equals(op))
                        .mapToDouble(Report.Result::mops)
                        .max()
                        .orElse(1);
                for (String store : stores) {
                    List<Report.Result> group = groups.get(gi++);
                    if (group.stream().allMatch(r -> r == null)) {
                        continue;
                    }
                    int top = y;
                    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                    for (int i = 0; i < configs.size(); i++) {
                        Report.Result r = group.get(i);
                        if (r == null) {
                            continue;
                        }
                        int w = (int) Math.max(1, Math.round(plotW * r.mops() / max));
                        g.setColor(SERIES[i % SERIES.length]);
                        g.fillRect(labelW, y, w, bar - 2);
                        g.setColor(Color.BLACK);
                        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
                        g.drawString(Report.fmt(r.mops()), labelW + w + 4, y + bar - 3);
                        y += bar;
                    }
                    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                    g.setColor(storeColor(store).darker());
                    g.drawString(store, 12, top + (y - top) / 2 + 5);
                    g.setColor(Color.LIGHT_GRAY);
                    g.drawLine(labelW, top, labelW, y);
                    y += 10;
                }
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static BufferedImage targets(List<Report.Result> results) {
        List<Report.Verdict> verdicts = Report.verdicts(results);
        List<Report.Config> configs = new ArrayList<>();
        for (Report.Verdict v : verdicts) {
            if (!configs.contains(v.config())) {
                configs.add(v.config());
            }
        }
        List<String> rows = new ArrayList<>();
        Report.SPEED_TARGETS.forEach(t -> rows.add(t.name()));
        rows.add("0 B/op on get");
        rows.add("0 B/op on put");
        int labelW = 290;
        int cellW = 118;
        int cellH = 30;
        int headH = 70;
        int width = labelW + configs.size() * cellW + 20;
        int height = 44 + headH + rows.size() * cellH + 30;
        BufferedImage img = canvas(Math.max(width, 620), height);
        Graphics2D g = img.createGraphics();
        try {
            setup(g, img.getWidth(), height);
            title(g, "armdb targets: green met, red missed (armdb's ratio / needed)", 28);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
            for (int c = 0; c < configs.size(); c++) {
                String[] words = configs.get(c).shortLabel().split(" ");
                int x = labelW + c * cellW + 4;
                for (int l = 0; l < words.length; l++) {
                    g.setColor(Color.DARK_GRAY);
                    g.drawString(words[l], x, 44 + 14 * (l + 1));
                }
            }
            int y = 44 + headH;
            for (String row : rows) {
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
                g.drawString(row, 12, y + 20);
                for (int c = 0; c < configs.size(); c++) {
                    Report.Config cfg = configs.get(c);
                    String text;
                    Color fill;
                    if (row.startsWith("0 B/op")) {
                        Report.Result r =
                                Report.find(results, cfg, "armdb FixedMap", row.endsWith("get") ? "get" : "put");
                        if (r == null || Double.isNaN(r.allocBytesPerOp())) {
                            text = "–";
                            fill = new Color(0xEE, 0xEE, 0xEE);
                        } else {
                            text = Report.fmt(r.allocBytesPerOp()) + " B";
                            fill = r.allocBytesPerOp() < 1 ? MET : MISSED;
                        }
                    } else {
                        Report.Verdict v = verdicts.stream()
                                .filter(x -> x.config().equals(cfg)
                                        && x.target().name().equals(row))
                                .findFirst()
                                .orElse(null);
                        if (v == null) {
                            text = "–";
                            fill = new Color(0xEE, 0xEE, 0xEE);
                        } else {
                            text = Report.ratio(v.speedup()) + " / "
                                    + Report.ratio(v.target().needed());
                            fill = v.met() ? MET : MISSED;
                        }
                    }
                    int x = labelW + c * cellW;
                    g.setColor(fill);
                    g.fillRect(x + 2, y + 2, cellW - 4, cellH - 4);
                    g.setColor(fill.equals(MET) || fill.equals(MISSED) ? Color.WHITE : Color.DARK_GRAY);
                    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
                    FontMetrics fm = g.getFontMetrics();
                    g.drawString(text, x + (cellW - fm.stringWidth(text)) / 2, y + 20);
                }
                y += cellH;
            }
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.drawString(
                    "put within 1.5× of CHM shows CHM's time / armdb's, needed ≥ 0.67×; recovery and index targets: "
                            + "see the table",
                    12,
                    y + 20);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static BufferedImage canvas(int width, int height) {
        return new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    }

    private static void setup(Graphics2D g, int width, int height) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
    }

    private static void title(Graphics2D g, String text, int y) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(text, 12, y);
    }

    private static void save(BufferedImage img, Path png) throws IOException {
        if (!ImageIO.write(img, "png", png.toFile())) {
            throw new IOException("no PNG writer");
        }
    }
}
