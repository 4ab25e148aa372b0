package org.retroinfer.examples;

import java.io.PrintStream;

/**
 * A progress bar on standard error for long work (prefills, benchmarks, evaluations). On a terminal
 * it redraws one line at most ten times a second; elsewhere (logs, CI) it prints a line at each
 * quarter. Notes (one line each, e.g. a finished sample) print above it.
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
    private long lastDone;
    private long lastTotal;

    ProgressBar(PrintStream err, String label, String unit, boolean terminal) {
        this.err = err;
        this.label = label;
        this.unit = unit;
        this.terminal = terminal;
    }

    static ProgressBar onStderr(String label, String unit) {
        return new ProgressBar(System.err, label, unit, System.console() != null);
    }

    /** A bar on {@code err}, redrawn in place only where that is the process's standard error on a terminal. */
    static ProgressBar on(PrintStream err, String label, String unit) {
        return new ProgressBar(err, label, unit, err == System.err && System.console() != null);
    }

    void update(long done, long total) {
        lastDone = done;
        lastTotal = total;
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

    /** Prints {@code line} on its own; on a terminal the bar is cleared first and drawn again below it. */
    void note(String line) {
        boolean drawn = terminal && lastDraw != 0 && lastDone < lastTotal;
        if (drawn) {
            err.print("\r\033[K");
        }
        err.println(line);
        if (drawn) {
            err.print("\r" + line(lastDone, lastTotal, System.nanoTime()));
        }
        err.flush();
    }

    /** A duration for people: {@code 42s}, {@code 7m05s}, {@code 3h08m}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
    }

    private String line(long done, long total, long now) {
        double fraction = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = done > 0 && done < total ? ", " + duration((total - done) / rate) + " left" : "";
        return String.format("%s [%s%s] %3.0f%% %d/%d %s (%.1f %s/s%s)", label, "#".repeat(filled),
                " ".repeat(WIDTH - filled), fraction * 100, done, total, unit, rate, unit, eta);
    }
}
