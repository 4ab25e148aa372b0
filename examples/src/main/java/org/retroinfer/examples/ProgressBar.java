package org.retroinfer.examples;

import java.io.PrintStream;

/**
 * A progress bar on standard error for long work (prefills, benchmarks). On a terminal it redraws
 * one line at most ten times a second; elsewhere (logs, CI) it prints a line at each quarter.
 */
final class ProgressBar {
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final String label;
    private final String unit;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int lastQuarter;

    ProgressBar(PrintStream err, String label, String unit, boolean terminal) {
        this.err = err;
        this.label = label;
        this.unit = unit;
        this.terminal = terminal;
    }

    static ProgressBar onStderr(String label, String unit) {
        return new ProgressBar(System.err, label, unit, System.console() != null);
    }

    void update(long done, long total) {
        long now = System.nanoTime();
        if (terminal) {
            if (done < total && now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            err.print("\r" + line(done, total, now));
            if (done >= total) {
                err.println();
            }
        } else {
            int quarter = (int) (4 * done / Math.max(1, total));
            if (quarter > lastQuarter) {
                lastQuarter = quarter;
                err.println(line(done, total, now));
            }
        }
        err.flush();
    }

    private String line(long done, long total, long now) {
        double fraction = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = done > 0 && done < total ? String.format(", %.0fs left", (total - done) / rate) : "";
        return String.format("%s [%s%s] %3.0f%% %d/%d %s (%.1f %s/s%s)", label, "#".repeat(filled),
                " ".repeat(WIDTH - filled), fraction * 100, done, total, unit, rate, unit, eta);
    }
}
