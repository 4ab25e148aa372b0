package org.retroinfer.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.eval.ComparisonReport;
import org.retroinfer.eval.EvalListener;
import org.retroinfer.eval.EvalPlots;
import org.retroinfer.eval.EvalReport;
import org.retroinfer.eval.EvalRun;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.FidelityReport;
import org.retroinfer.eval.FidelityRun;
import org.retroinfer.eval.Sample;
import org.retroinfer.eval.SampleResult;
import org.retroinfer.eval.tasks.RulerTasks;
import org.retroinfer.eval.tasks.TextHaystack;
import org.retroinfer.eval.tasks.WordKeys;
import org.retroinfer.kernels.VectorSupport;
import org.retroinfer.model.Model;

/**
 * {@code retroinfer eval ruler} and {@code eval niah}: attention modes compared on identical
 * prompts generated from a seed and fitted to each length in the model's own tokens, scored as
 * RULER scores ({@link ComparisonReport}), with the plots of {@link EvalPlots}.
 */
final class CompareEval {
    static final Set<String> VALUED = GenerateCommand.union(Set.of("model", "lengths", "tasks", "depths", "samples",
            "seed", "budgets", "cluster-size", "out", "prefill-chunk", ThreadsFlag.NAME), CacheFlags.NAMES, Engine.NAMES);
    static final String FIDELITY_METHOD = "greedy decoding with exact attention (the answer's length + 2 tokens at "
            + "most); at every decode step of every layer each sparse mode answers the same queries from the same stored "
            + "keys and values; figures are averages over query heads and decode steps, per layer";
    static final List<Integer> DEFAULT_DEPTHS = List.of(0, 25, 50, 75, 100);
    static final String RULER_METHOD = "greedy decoding with the RetroInfer Java engine until end-of-sequence or a "
            + "newline, at most the answer's length + 2 tokens; score: RULER's string_match_all x 100 (the share of "
            + "reference strings found in the prediction, case-insensitive); every mode decodes from one shared prefill";

    private CompareEval() {}

    static String help(String suite) {
        String what = suite.equals("fidelity")
                ? """
                usage: retroinfer eval fidelity --model PATH --lengths LIST [options]

                Attention fidelity of the sparse modes on the model's own activations: the RULER-style
                samples of eval ruler are decoded with exact attention while each sparse mode answers
                the same queries at every decode step; per layer: relative output error, attention
                mass covered by the exactly attended (and estimated) positions, top-100 recall.
                Modes: --attention retro,streaming,quest (the default) at each of --budgets.
                  --tasks LIST       tasks to run (default: all)
                  --samples N        samples per task and length (default 5)
                """
                : suite.equals("ruler")
                ? """
                usage: retroinfer eval ruler --model PATH --lengths LIST [options]

                RULER-style tasks generated from a seed and fitted to each length in the model's own
                tokens: niah_single_1..3, niah_multikey_1..3, niah_multivalue, niah_multiquery (the
                text haystacks come from MODEL/eval/haystack.txt.gz), vt, cwe, fwe and passkey.
                  --tasks LIST       tasks to run (default: all)
                  --samples N        samples per task and length (default 5)
                """
                : """
                usage: retroinfer eval niah --model PATH --lengths LIST [options]

                A needle-in-a-haystack grid: one niah_single_1 needle (a word key, a 7-digit value) in
                noise, at each depth of each length.
                  --depths LIST      needle depths in percent of the haystack (default 0,25,50,75,100)
                  --samples N        samples per length and depth (default 1)
                """;
        return what + """
                Every sample is prefilled once and decoded greedily by each attention mode from that
                prefill. Writes DIR/results.json, DIR/results.md (mean scores, drops against full, per
                task or depth) and the PNG plots (niah-heatmap.png; budget.png where --budgets has two
                or more values), rewritten after each sample; prints the tables.

                  --model PATH       a Hugging Face model directory or a .gguf file
                  --lengths LIST     context lengths in tokens, e.g. 8k,16k,32k
                  --seed S           base seed of the samples (default 1)
                  --out DIR          where results go (default: eval-results/<suite>-<model>-<time>)
                  --prefill-chunk N  prompt tokens per prefill step (default 256; 1024 with --device gpu)
                  --no-plots         write no PNGs (for a Java runtime without java.desktop, such as
                                     the GPU machine's pack); draw them later with eval plot DIR
                """ + CacheFlags.SWEEP_HELP.replace("(default full,retro,streaming,quest)", "(default full,retro,streaming,quest;\n                                 full with --device gpu)") + Engine.HELP + ThreadsFlag.HELP;
    }

    static int run(String suite, String[] args, String commandLine, PrintStream out, PrintStream err)
            throws IOException {
        Options o = Options.parse("eval " + suite, args, VALUED, Set.of("no-plots"));
        boolean plots = !o.flag("no-plots");
        Path modelPath = o.existingPath("model", "a model directory or .gguf file");
        if (!o.has("lengths")) {
            throw o.error("--lengths is required, e.g. --lengths 8k,16k");
        }
        List<Integer> lengths = List.copyOf(new LinkedHashSet<>(o.sizes("lengths", 64, 1 << 24)));
        boolean ruler = !suite.equals("niah");
        if (ruler && o.has("depths")) {
            throw o.error("--depths applies to eval niah only");
        }
        if (!ruler && o.has("tasks")) {
            throw o.error("--tasks applies to eval ruler only");
        }
        Set<EvalTask> tasks = ruler ? readTasks(o) : Set.of();
        List<Integer> depths = ruler ? List.of() : readDepths(o);
        int samplesPerCell = o.integer("samples", ruler ? 5 : 1, 1, 1_000_000);
        long seed = o.longValue("seed", 1);
        boolean fidelity = suite.equals("fidelity");
        boolean gpu = o.text("device").orElse("cpu").equals("gpu");
        if (fidelity && o.has("device")) {
            throw o.error("--device: eval fidelity runs on the CPU, which records every sparse mode's view of each step");
        }
        List<AttentionMode> modes = CacheFlags.readSweep(o, fidelity ? "retro,streaming,quest" : gpu ? "full" : "full,retro,streaming,quest");
        Engine.wantsGpu(o, modes); // refuse a bad --device before loading the model
        if (fidelity && modes.stream().anyMatch(m -> m.retrievalBudget() == null)) {
            throw o.error("--attention: fidelity measures the sparse modes against full attention; leave full out");
        }
        int chunk = Engine.prefillChunk(o);
        int threads = ThreadsFlag.read(o);
        Path outDir = EvalCommand.outDir(o, suite, modelPath);

        try (Model model = Model.load(modelPath)) {
            TextHaystack text = tasks.stream().anyMatch(RulerTasks::needsText) ? TextHaystack.forModel(modelPath) : null;
            List<Sample> samples = new ArrayList<>();
            Map<String, Integer> depthBySeed = new HashMap<>();
            for (int length : lengths) {
                if (length > model.config().maxPositions()) {
                    throw o.error("--lengths " + length + " is beyond the " + model.config().maxPositions()
                            + " positions of " + modelPath);
                }
                for (EvalTask task : tasks) {
                    for (int i = 0; i < samplesPerCell; i++) {
                        int index = i;
                        samples.add(fit(o, () -> RulerTasks.sample(task, seed, length, index, WordKeys.Split.HELDOUT,
                                text, model.tokenizer())));
                    }
                }
                for (int depth : depths) {
                    for (int i = 0; i < samplesPerCell; i++) {
                        long sampleSeed = RulerTasks.gridSeed(seed, length, depth, i);
                        Sample s = fit(o, () -> RulerTasks.niahGrid(sampleSeed, length, depth, WordKeys.Split.HELDOUT,
                                model.tokenizer()));
                        samples.add(s);
                        depthBySeed.put(s.seedHex(), depth);
                    }
                }
            }
            if (fidelity) {
                return fidelity(model, modelPath, modes, chunk, threads, seed, samplesPerCell, samples, commandLine,
                        outDir, out, err);
            }
            try (Engine engine = Engine.open(o, model, modes, chunk)) {
            EvalRun run = new EvalRun(model, modes, chunk, engine.evalBackend(model));
            List<ComparisonReport.ModeInfo> infos = modes.stream().map(m -> new ComparisonReport.ModeInfo(m.name(),
                    m.family(), m.retrievalBudget(), CacheFlags.describe(m))).toList();
            EvalReport.RunInfo info = new EvalReport.RunInfo(suite, modelPath.toString(),
                    "generated from seed " + seed + (ruler ? "" : ", depths " + depths) + ", " + samplesPerCell
                            + " per cell", commandLine, Instant.now().toString(), BenchCommand.cpuName(), threads,
                    VectorSupport.FLOAT.toString(), infos.stream().map(ComparisonReport.ModeInfo::description).toList(),
                    RULER_METHOD);
            List<int[]> prompts = run.tokenize(samples);
            err.printf("eval: %d samples x %d attention modes (%s); results go to %s%n", samples.size(), modes.size(),
                    String.join(", ", modes.stream().map(AttentionMode::name).toList()), outDir);
            EvalCommand.Progress progress = new EvalCommand.Progress(samples, modes.size(), err,
                    results -> write(ComparisonReport.of(info, infos, results, depthBySeed, false), outDir, false));
            List<SampleResult> results = run.run(samples, prompts, progress);
            ComparisonReport report = ComparisonReport.of(info, infos, results, depthBySeed, true);
            write(report, outDir, plots);
            out.print(report.tables());
            err.println("eval: results in " + outDir.resolve("results.json") + ", " + outDir.resolve("results.md")
                    + (plots ? " and the plots beside them" : "; draw the plots with retroinfer eval plot " + outDir));
            }
        }
        return 0;
    }

    private static int fidelity(Model model, Path modelPath, List<AttentionMode> modes, int chunk, int threads, long seed,
                                int perCell, List<Sample> samples, String commandLine, Path outDir, PrintStream out,
                                PrintStream err) throws IOException {
        FidelityRun run = new FidelityRun(model, modes, chunk);
        List<int[]> prompts = new EvalRun(model, modes, chunk).tokenize(samples);
        err.printf("eval: fidelity of %s on %d samples; results go to %s%n",
                String.join(", ", modes.stream().map(AttentionMode::name).toList()), samples.size(), outDir);
        ProgressBar bar = ProgressBar.on(err, "fidelity", "tokens");
        long total = samples.stream().mapToLong(Sample::length).sum();
        long[] before = {0};
        List<FidelityRun.SampleFidelity> all = run.run(samples, prompts, new EvalListener() {
            @Override
            public void prefilled(Sample sample, long done, long all) {
                bar.update(before[0] + done, total);
                if (done == all) {
                    before[0] += all;
                }
            }
        });
        EvalReport.RunInfo info = new EvalReport.RunInfo("fidelity", modelPath.toString(), "generated from seed " + seed
                + ", " + perCell + " per task and length", commandLine, Instant.now().toString(), BenchCommand.cpuName(),
                threads, VectorSupport.FLOAT.toString(), modes.stream().map(CacheFlags::describe).toList(),
                FIDELITY_METHOD);
        FidelityReport report = FidelityReport.of(info, modes.stream().map(AttentionMode::name).toList(), all);
        report.write(outDir);
        out.print(report.tables());
        err.println("eval: results in " + outDir.resolve("results.json") + " and " + outDir.resolve("results.md"));
        return 0;
    }

    /**
     * {@code eval plot DIR} draws the PNGs of an earlier run's results.json again; {@code eval plot
     * --out DIR RUN...} first merges several runs (one per length, or more modes on the same
     * samples, run apart) into one report in DIR.
     */
    static int plot(String[] args, PrintStream err) throws IOException {
        List<String> dirs = new ArrayList<>(Arrays.asList(args));
        Path outDir = null;
        int at = dirs.indexOf("--out");
        if (at >= 0) {
            if (at + 1 >= dirs.size()) {
                throw new UsageException("eval plot: --out needs a directory");
            }
            outDir = Path.of(dirs.get(at + 1));
            dirs.subList(at, at + 2).clear();
        }
        if (dirs.isEmpty() || dirs.stream().anyMatch(d -> d.startsWith("--")) || (outDir == null && dirs.size() != 1)) {
            throw new UsageException("eval plot: give the results directory of an eval ruler or eval niah run "
                    + "(retroinfer eval plot DIR), or merge runs: retroinfer eval plot --out DIR RUN1 RUN2 ...");
        }
        List<ComparisonReport> reports = new ArrayList<>();
        for (String d : dirs) {
            Path file = Path.of(d).resolve("results.json");
            if (!Files.isRegularFile(file)) {
                throw new UsageException("eval plot: " + file + " does not exist; give the directory of an eval run");
            }
            try {
                reports.add(ComparisonReport.read(file));
            } catch (IOException e) {
                throw new UsageException("eval plot: " + file + " is not the results.json of eval ruler or eval niah ("
                        + e.getMessage().lines().findFirst().orElse("") + ")");
            }
        }
        ComparisonReport report = reports.getFirst();
        if (reports.size() > 1) {
            try {
                report = ComparisonReport.merge(reports);
            } catch (IllegalArgumentException e) {
                throw new UsageException("eval plot: " + e.getMessage());
            }
        }
        Path target = outDir != null ? outDir : Path.of(dirs.getFirst());
        if (outDir != null) {
            report.write(outDir);
            err.println("eval: wrote " + outDir.resolve("results.json") + " and " + outDir.resolve("results.md"));
        }
        for (Path p : EvalPlots.write(report, target)) {
            err.println("eval: wrote " + p);
        }
        return 0;
    }

    private static void write(ComparisonReport report, Path dir, boolean plots) {
        try {
            report.write(dir);
            if (plots) {
                EvalPlots.write(report, dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write results to " + dir, e);
        }
    }

    private interface SampleMaker {
        Sample make();
    }

    private static Sample fit(Options o, SampleMaker maker) {
        try {
            return maker.make();
        } catch (IllegalArgumentException e) {
            throw o.error("--lengths: " + e.getMessage());
        }
    }

    private static Set<EvalTask> readTasks(Options o) {
        if (!o.has("tasks")) {
            return EnumSet.allOf(EvalTask.class);
        }
        Set<EvalTask> tasks = EnumSet.noneOf(EvalTask.class);
        for (String name : o.requireText("tasks", "task names").split(",")) {
            tasks.add(EvalTask.byId(name.trim()).orElseThrow(() -> o.error("--tasks: unknown task '" + name.trim()
                    + "'; tasks: " + EvalTask.ids())));
        }
        return tasks;
    }

    private static List<Integer> readDepths(Options o) {
        if (!o.has("depths")) {
            return DEFAULT_DEPTHS;
        }
        List<Integer> depths = new ArrayList<>();
        for (String part : o.requireText("depths", "depths in percent").split(",")) {
            try {
                int d = Integer.parseInt(part.trim());
                if (d < 0 || d > 100) {
                    throw new NumberFormatException();
                }
                if (!depths.contains(d)) {
                    depths.add(d);
                }
            } catch (NumberFormatException e) {
                throw o.error("--depths must be a comma-separated list of percentages from 0 to 100, got '"
                        + o.text("depths").orElseThrow() + "'");
            }
        }
        return depths;
    }
}
