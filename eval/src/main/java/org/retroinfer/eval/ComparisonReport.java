package org.retroinfer.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The results of a run that compares attention modes on identical prompts ({@code eval ruler},
 * {@code eval niah}), scored as RULER scores: a sample's score is its string-match-all (the share
 * of reference strings found in the prediction) × 100, a task's score the mean over its samples,
 * and a mode's score at a length the mean over tasks. Each sparse mode's drop is its score minus
 * full attention's on the same samples. Written as {@code results.json} (every sample and every
 * summary) and {@code results.md}; {@link EvalPlots} draws the PNGs from the same record.
 *
 * @param modes    the modes in the order they ran, with their budgets
 * @param depths   the needle depth (percent) of each NIAH-grid sample, by its seed; empty for RULER
 * @param complete whether every selected sample was run (a report is also written after each one)
 */
public record ComparisonReport(EvalReport.RunInfo run, List<ModeInfo> modes, boolean complete, List<Cell> cells,
                               List<ModeScore> scores, List<SampleResult> results, java.util.Map<String, Integer> depths) {
    /** An attention mode as reports need it: its name in results, family and retrieval budget (null for full). */
    public record ModeInfo(String name, String family, Double retrievalBudget, String description) {}

    /** One task at one length under one mode; {@code depth} is the needle depth for NIAH-grid cells, else null. */
    public record Cell(String attention, int length, String task, Integer depth, int samples, double score,
                       double exactRate) {}

    /**
     * One mode's mean score over the tasks at one length ({@code length} 0: over every length), and
     * its drop against full attention on the same samples (null for full, or where full did not run).
     */
    public record ModeScore(String attention, int length, double score, Double dropVsFull) {}

    public ComparisonReport {
        modes = List.copyOf(modes);
        cells = List.copyOf(cells);
        scores = List.copyOf(scores);
        results = List.copyOf(results);
        depths = java.util.Map.copyOf(depths);
    }

    public static ComparisonReport of(EvalReport.RunInfo run, List<ModeInfo> modes, List<SampleResult> results,
                                      java.util.Map<String, Integer> depths, boolean complete) {
        List<Cell> cells = new ArrayList<>();
        TreeSet<Integer> lengths = new TreeSet<>();
        results.forEach(r -> lengths.add(r.length()));
        for (ModeInfo mode : modes) {
            for (int length : lengths) {
                for (EvalTask task : EvalTask.values()) {
                    TreeSet<Integer> cellDepths = new TreeSet<>();
                    List<SampleResult> rs = results.stream().filter(r -> r.attention().equals(mode.name())
                            && r.length() == length && r.task() == task).toList();
                    rs.forEach(r -> cellDepths.add(depths.getOrDefault(r.seed(), -1)));
                    for (int depth : cellDepths) {
                        List<SampleResult> cell = rs.stream()
                                .filter(r -> depths.getOrDefault(r.seed(), -1) == depth).toList();
                        cells.add(new Cell(mode.name(), length, task.id(), depth < 0 ? null : depth, cell.size(),
                                100 * cell.stream().mapToDouble(SampleResult::stringMatchAll).average().orElseThrow(),
                                cell.stream().filter(SampleResult::exact).count() / (double) cell.size()));
                    }
                }
            }
        }
        List<ModeScore> scores = new ArrayList<>();
        for (ModeInfo mode : modes) {
            for (int length : lengths) {
                scores.add(score(mode.name(), length, cells, List.of(length)));
            }
            scores.add(score(mode.name(), 0, cells, List.copyOf(lengths)));
        }
        List<ModeScore> withDrops = new ArrayList<>();
        for (ModeScore s : scores) {
            ModeScore full = scores.stream().filter(f -> f.attention().equals("full") && f.length() == s.length())
                    .findFirst().orElse(null);
            boolean comparable = full != null && !s.attention().equals("full") && !Double.isNaN(s.score())
                    && !Double.isNaN(full.score());
            withDrops.add(new ModeScore(s.attention(), s.length(), s.score(),
                    comparable ? s.score() - full.score() : null));
        }
        return new ComparisonReport(run, modes, complete, cells, withDrops, results, depths);
    }

    /**
     * Several runs as one report: e.g. one run per length, or further modes run apart on the same
     * samples. Their modes (in order of first appearance), results and depths together, their
     * commands, dates and machines joined; complete if every run was.
     *
     * @throws IllegalArgumentException where two runs hold results of one mode for the same sample
     */
    public static ComparisonReport merge(List<ComparisonReport> reports) {
        ComparisonReport first = reports.getFirst();
        List<SampleResult> results = new ArrayList<>();
        java.util.Map<String, Integer> depths = new java.util.HashMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<ModeInfo> modes = new ArrayList<>();
        List<String> commands = new ArrayList<>();
        List<String> dates = new ArrayList<>();
        List<String> files = new ArrayList<>();
        List<String> machines = new ArrayList<>();
        boolean complete = true;
        for (ComparisonReport r : reports) {
            for (SampleResult s : r.results()) {
                if (!seen.add(s.attention() + " " + s.task() + " " + s.length() + " " + s.seed())) {
                    throw new IllegalArgumentException("two runs hold " + s.attention() + " results for " + s.task()
                            + " " + s.length() + " seed " + s.seed() + "; merge runs of other samples or other modes");
                }
                results.add(s);
            }
            for (ModeInfo m : r.modes()) {
                if (!modes.contains(m)) {
                    modes.add(m);
                }
            }
            depths.putAll(r.depths());
            commands.add(r.run().command());
            dates.add(r.run().date());
            addOnce(files, r.run().file());
            addOnce(machines, r.run().cpu() + " (" + r.run().threads() + " threads)");
            complete &= r.complete();
        }
        EvalReport.RunInfo run = first.run();
        EvalReport.RunInfo merged = new EvalReport.RunInfo(run.suite(), run.model(), String.join("; ", files),
                String.join("`; `", commands), String.join(", ", dates), String.join("; ", machines), run.threads(),
                run.vectorSpecies(), modes.stream().map(ModeInfo::description).toList(), run.method());
        return of(merged, modes, results, depths, complete);
    }

    private static void addOnce(List<String> list, String value) {
        if (!list.contains(value)) {
            list.add(value);
        }
    }

    /** The mean over the (task, length, depth) cells of {@code lengths} that every mode has run. */
    private static ModeScore score(String mode, int length, List<Cell> cells, List<Integer> lengths) {
        double sum = 0;
        int n = 0;
        for (Cell c : cells) {
            if (c.attention().equals(mode) && lengths.contains(c.length())) {
                sum += c.score();
                n++;
            }
        }
        return new ModeScore(mode, length, n == 0 ? Double.NaN : sum / n, null);
    }

    /** Writes {@code results.json} and {@code results.md} into {@code dir} (created if need be), each atomically. */
    public void write(Path dir) throws IOException {
        EvalReport.writeFiles(dir, this, markdown());
    }

    /** Reads a report that {@link #write} wrote, e.g. to draw its plots again. */
    public static ComparisonReport read(Path file) throws IOException {
        return new ObjectMapper().readValue(file.toFile(), ComparisonReport.class);
    }

    public List<Integer> lengths() {
        TreeSet<Integer> lengths = new TreeSet<>();
        cells.forEach(c -> lengths.add(c.length()));
        return List.copyOf(lengths);
    }

    /** The whole {@code results.md}: what ran, then {@link #tables()}. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Evaluation: ").append(run.suite()).append(", ").append(run.model()).append("\n\n");
        b.append(run.table(complete, modes.stream().map(ModeInfo::description).toList()));
        b.append(tables());
        return b.toString();
    }

    /** The mean score of every mode per length and its drop against full, then per task (or depth) and length. */
    public String tables() {
        List<Integer> lengths = lengths();
        StringBuilder b = new StringBuilder();
        b.append("## Mean score (RULER string-match-all × 100) and drop against full attention\n\n| attention |");
        lengths.forEach(l -> b.append(' ').append(l).append(" |"));
        b.append(" all lengths | drop vs full |\n| --- |");
        lengths.forEach(l -> b.append(" ---: |"));
        b.append(" ---: | ---: |\n");
        for (ModeInfo m : modes) {
            b.append("| ").append(m.name()).append(" |");
            for (int length : lengths) {
                b.append(' ').append(format(find(m.name(), length))).append(" |");
            }
            ModeScore all = find(m.name(), 0);
            b.append(" **").append(format(all)).append("** | ")
                    .append(all == null || all.dropVsFull() == null ? "-"
                            : String.format(Locale.ROOT, "%+.1f", all.dropVsFull())).append(" |\n");
        }
        boolean grid = cells.stream().anyMatch(c -> c.depth() != null);
        for (int length : lengths) {
            b.append("\n## ").append(length).append(" tokens: ").append(grid ? "score per needle depth" : "score per task")
                    .append("\n\n| ").append(grid ? "depth %" : "task").append(" |");
            modes.forEach(m -> b.append(' ').append(m.name()).append(" |"));
            b.append("\n| --- |");
            modes.forEach(m -> b.append(" ---: |"));
            b.append('\n');
            List<Cell> rows = cells.stream().filter(c -> c.length() == length && c.attention().equals(modes.getFirst().name()))
                    .toList();
            for (Cell row : rows) {
                b.append("| ").append(grid ? String.valueOf(row.depth()) : row.task()).append(" |");
                for (ModeInfo m : modes) {
                    Cell c = cells.stream().filter(x -> x.attention().equals(m.name()) && x.length() == length
                            && x.task().equals(row.task()) && java.util.Objects.equals(x.depth(), row.depth()))
                            .findFirst().orElse(null);
                    b.append(' ').append(c == null ? "-" : String.format(Locale.ROOT, "%.0f", c.score())).append(" |");
                }
                b.append('\n');
            }
        }
        b.append("\nSamples per cell: ").append(cells.stream().mapToInt(Cell::samples).max().orElse(0))
                .append("; mean prefill (shared by the modes) ")
                .append(String.format(Locale.ROOT, "%.1f s", results.stream().mapToDouble(SampleResult::prefillMillis)
                        .average().orElse(0) / 1000))
                .append(" and decode per mode ").append(String.format(Locale.ROOT, "%.0f ms", results.stream()
                        .mapToDouble(SampleResult::decodeMillis).average().orElse(0)))
                .append(" per sample.\n");
        return b.toString();
    }

    ModeScore find(String attention, int length) {
        return scores.stream().filter(s -> s.attention().equals(attention) && s.length() == length).findFirst()
                .orElse(null);
    }

    private static String format(ModeScore s) {
        return s == null || Double.isNaN(s.score()) ? "-" : String.format(Locale.ROOT, "%.1f", s.score());
    }
}
