package dev.armdb.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress display for long operations: a redrawn bar with rate and ETA on a terminal, plain periodic lines
 * otherwise. Used by one thread.
 */
final class Progress {
    private static final long LINE_INTERVAL_NANOS = 2_000_000_000L;
    private static final long BAR_INTERVAL_NANOS = 100_000_000L;

    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private long lastDraw;

    Progress(String label, long total, PrintStream out) {
        this.label = label;
        this.total = Math.max(1, total);
        this.out = out;
        this.terminal = System.console() != null && System.console().isTerminal();
    }

    /** Shows {@code done} units finished (throttled). */
    void update(long done) {
        long now = System.nanoTime();
        if (now - lastDraw < (terminal ? BAR_INTERVAL_NANOS : LINE_INTERVAL_NANOS)) {
            return;
        }
        lastDraw = now;
        draw(done, now);
    }

    /** Shows the final state and ends the line. */
    void finish(long done) {
        draw(done, System.nanoTime());
        if (terminal) {
            out.println();
        }
    }

    private void draw(long done, long now) {
        double secs = Math.max(1e-9, (now - start) / 1e9);
        double rate = done / secs;
        double eta = rate > 0 ? (total - done) / rate : 0;
        int pct = (int) Math.min(100, done * 100 / total);
        String text = String.format(
                Locale.ROOT, "%s %3d%% %,d/%,d %s/s ETA %.0fs", label, pct, done, total, human(rate), eta);
        if (terminal) {
            int width = 30;
            int filled = pct * width / 100;
            out.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] "
                    + text.substring(label.length() + 1));
            out.flush();
        } else {
            out.println(text);
        }
    }

    static String human(double n) {
        if (n >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", n / 1e6);
        }
        if (n >= 1e3) {
            return String.format(Locale.ROOT, "%.1fk", n / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", n);
    }
}
