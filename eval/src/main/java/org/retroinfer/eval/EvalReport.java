package org.retroinfer.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An evaluation's results and their summary: per attention mode and length, each task's exact
 * matches and RULER string-match-all score, and the "needle tasks exact" rate of issue 5's quality
 * bar (the eight {@code niah_*} tasks and {@code passkey}, counted over samples as quality.py counts
 * them). Written as {@code results.json} (every sample) and {@code results.md} (the tables).
 *
 * @param complete whether every selected sample was run (a report is also written after each one)
 */
public record EvalReport(RunInfo run, boolean complete, List<Summary> summary, List<SampleResult> results) {
    /** How samples are decoded and scored, for reports. */
    public static final String METHOD = "greedy decoding with the RetroInfer Java engine until end-of-sequence or a "
            + "newline, at most the answer's length + 2 tokens; exact: the generated tokens are the answer's and then a stop "
            + "token, as tools/train-tiny/quality.py counts it; string_match_all: RULER's share of references found";

    /**
     * Where and how the evaluation ran.
     *
     * @param command the command line that ran it
     * @param modes   each attention mode with its settings, e.g. {@code retro (retrieval 0.018, estimation 0.232)}
     */
    public record RunInfo(String suite, String model, String file, String command, String date, String cpu, int threads,
                          String vectorSpecies, List<String> modes, String method) {
        public RunInfo {
            modes = List.copyOf(modes);
        }

        /** The Markdown table of what ran, where and how, that heads every report. */
        String table(boolean complete, List<String> modeDescriptions) {
            return "| | |\n| --- | --- |\n"
                    + "| model | " + model + " |\n"
                    + "| samples | " + file + " |\n"
                    + "| command | `" + command + "` |\n"
                    + "| date | " + date + (complete ? "" : " (incomplete: the run was still going)") + " |\n"
                    + "| machine | " + cpu + "; " + threads + " compute threads; " + vectorSpecies + " |\n"
                    + "| attention | " + String.join("; ", modeDescriptions) + " |\n"
                    + "| method | " + method + " |\n\n";
        }
    }

    /** One task's scores at one length under one attention mode. */
    public record TaskScore(int samples, int exact, double exactRate, double stringMatchAll) {}

    /**
     * One attention mode at one length.
     *
     * @param needleTasksExact exact matches over all needle-task samples, or null where none ran
     */
    public record Summary(String attention, int length, Double needleTasksExact, int needleTasksSamples,
                          int needleTasksCorrect, Map<String, TaskScore> tasks, double meanPrefillMillis,
                          double meanDecodeMillis) {}

    public EvalReport {
        summary = List.copyOf(summary);
        results = List.copyOf(results);
    }

    /** The report of {@code results}, summarised per attention mode (in the order they first appear) and length. */
    public static EvalReport of(RunInfo run, List<SampleResult> results, boolean complete) {
        List<String> attentionOrder = new ArrayList<>();
        for (SampleResult r : results) {
            if (!attentionOrder.contains(r.attention())) {
                attentionOrder.add(r.attention());
            }
        }
        List<Summary> summary = new ArrayList<>();
        for (String attention : attentionOrder) {
            TreeSet<Integer> lengths = new TreeSet<>();
            results.stream().filter(r -> r.attention().equals(attention)).forEach(r -> lengths.add(r.length()));
            for (int length : lengths) {
                List<SampleResult> cell = results.stream()
                        .filter(r -> r.attention().equals(attention) && r.length() == length).toList();
                summary.add(summarise(attention, length, cell));
            }
        }
        return new EvalReport(run, complete, summary, results);
    }

    private static Summary summarise(String attention, int length, List<SampleResult> cell) {
        Map<EvalTask, List<SampleResult>> byTask = new TreeMap<>();
        for (SampleResult r : cell) {
            byTask.computeIfAbsent(r.task(), t -> new ArrayList<>()).add(r);
        }
        Map<String, TaskScore> tasks = new LinkedHashMap<>();
        int needleSamples = 0;
        int needleExact = 0;
        for (Map.Entry<EvalTask, List<SampleResult>> e : byTask.entrySet()) {
            List<SampleResult> rs = e.getValue();
            int exact = (int) rs.stream().filter(SampleResult::exact).count();
            double matchAll = rs.stream().mapToDouble(SampleResult::stringMatchAll).average().orElse(0);
            tasks.put(e.getKey().id(), new TaskScore(rs.size(), exact, (double) exact / rs.size(), matchAll));
            if (e.getKey().isNeedleTask()) {
                needleSamples += rs.size();
                needleExact += exact;
            }
        }
        return new Summary(attention, length, needleSamples == 0 ? null : (double) needleExact / needleSamples,
                needleSamples, needleExact, tasks,
                cell.stream().mapToDouble(SampleResult::prefillMillis).average().orElse(0),
                cell.stream().mapToDouble(SampleResult::decodeMillis).average().orElse(0));
    }

    /** Writes {@code results.json} and {@code results.md} into {@code dir} (created if need be), each atomically. */
    public void write(Path dir) throws IOException {
        writeFiles(dir, this, markdown());
    }

    /**
     * The files of every report: {@code report} as indented JSON in {@code results.json} and
     * {@code markdown} in {@code results.md}, in {@code dir} (created if need be), each atomically.
     */
    static void writeFiles(Path dir, Object report, String markdown) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        replace(dir.resolve("results.json"), mapper.writeValueAsString(report) + "\n");
        replace(dir.resolve("results.md"), markdown);
    }

    /** Writes {@code text} to {@code file} through a sibling file and a move, so readers never see half of it. */
    static void replace(Path file, String text) throws IOException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        Files.writeString(partial, text, StandardCharsets.UTF_8);
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The whole {@code results.md}: what ran, then {@link #tables()}. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Evaluation: ").append(run.suite()).append(", ").append(run.model()).append("\n\n");
        b.append(run.table(complete, run.modes()));
        b.append(tables());
        return b.toString();
    }

    /**
     * The summary tables: needle tasks exact per length and attention mode, then for each mode every
     * task's exact matches per length (with RULER's string-match-all), then mean times per sample.
     */
    public String tables() {
        List<String> modes = summary.stream().map(Summary::attention).distinct().toList();
        TreeSet<Integer> lengths = new TreeSet<>();
        summary.forEach(s -> lengths.add(s.length()));
        StringBuilder b = new StringBuilder();
        b.append("## Needle tasks exact\n\n| length |");
        modes.forEach(m -> b.append(' ').append(m).append(" |"));
        b.append("\n| ---: |");
        modes.forEach(m -> b.append(" ---: |"));
        b.append('\n');
        for (int length : lengths) {
            b.append("| ").append(length).append(" |");
            for (String m : modes) {
                Summary s = find(m, length);
                b.append(' ').append(s == null || s.needleTasksExact() == null ? "-"
                        : String.format(Locale.ROOT, "%.1f%% (%d/%d)", 100 * s.needleTasksExact(), s.needleTasksCorrect(),
                                s.needleTasksSamples())).append(" |");
            }
            b.append('\n');
        }
        for (String m : modes) {
            b.append("\n## ").append(m).append(" attention: exact/samples (string-match-all)\n\n| task |");
            lengths.forEach(l -> b.append(' ').append(l).append(" |"));
            b.append("\n| --- |");
            lengths.forEach(l -> b.append(" ---: |"));
            b.append('\n');
            for (EvalTask task : EvalTask.values()) {
                if (summary.stream().noneMatch(s -> s.attention().equals(m) && s.tasks().containsKey(task.id()))) {
                    continue;
                }
                b.append("| ").append(task.id()).append(" |");
                for (int length : lengths) {
                    Summary s = find(m, length);
                    TaskScore t = s == null ? null : s.tasks().get(task.id());
                    b.append(' ').append(t == null ? "-" : String.format(Locale.ROOT, "%d/%d (%.0f%%)", t.exact(),
                            t.samples(), 100 * t.stringMatchAll())).append(" |");
                }
                b.append('\n');
            }
        }
        b.append("\n## Mean time per sample\n\n| length | attention | samples | prefill s | decode ms |\n")
                .append("| ---: | --- | ---: | ---: | ---: |\n");
        for (int length : lengths) {
            for (String m : modes) {
                Summary s = find(m, length);
                if (s != null) {
                    int n = s.tasks().values().stream().mapToInt(TaskScore::samples).sum();
                    b.append(String.format(Locale.ROOT, "| %d | %s | %d | %.1f | %.0f |%n", length, m, n,
                            s.meanPrefillMillis() / 1000, s.meanDecodeMillis()));
                }
            }
        }
        return b.toString();
    }

    private Summary find(String attention, int length) {
        return summary.stream().filter(s -> s.attention().equals(attention) && s.length() == length).findFirst()
                .orElse(null);
    }
}
