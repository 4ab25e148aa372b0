package org.retroinfer.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.eval.EvalInputException;
import org.retroinfer.eval.EvalListener;
import org.retroinfer.eval.EvalReport;
import org.retroinfer.eval.EvalRun;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.HeldOutSet;
import org.retroinfer.eval.Sample;
import org.retroinfer.eval.SampleResult;
import org.retroinfer.kernels.VectorSupport;
import org.retroinfer.model.Model;

/**
 * {@code retroinfer eval heldout}: a model's accuracy on its held-out long-context set, measured by
 * the Java engine under each attention mode and scored as the training tools score it, so that the
 * numbers compare with the model card's (transformers) ones.
 */
final class EvalCommand implements Command {
    private static final Set<String> VALUED = GenerateCommand.union(Set.of("model", "file", "lengths", "tasks", "samples",
            "out", "prefill-chunk", ThreadsFlag.NAME), CacheFlags.NAMES, Engine.NAMES);
    private static final List<String> SUITES = List.of("heldout", "ruler", "niah", "fidelity", "plot");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "measure long-context accuracy (held-out set, RULER-style tasks, NIAH grid) and attention fidelity "
                + "of full, RetroInfer, StreamingLLM and Quest attention";
    }

    @Override
    public boolean takesThreads() {
        return true;
    }

    @Override
    public String help() {
        return """
                usage: retroinfer eval heldout --model PATH [options]

                Runs the model's held-out long-context samples (RULER-style needle tasks, variable
                tracking, word frequencies, pass keys; see tools/train-tiny/README.md) through the
                engine: greedy decoding until the answer ends, at most its length + 2 tokens. A
                sample is exact when the model writes exactly the answer's tokens and stops, as
                tools/train-tiny/quality.py counts it (RULER's string-match-all is reported beside
                it). Writes DIR/results.json (every sample: text, scores, prefill and decode time)
                and DIR/results.md (tables per task and length, and "needle tasks exact": the eight
                niah_* tasks and passkey), rewritten after each sample, and prints the tables.

                  --model PATH       a Hugging Face model directory or a .gguf file
                  --file F           held-out samples, JSON lines, plain or .gz
                                     (default: MODEL/eval/heldout.jsonl.gz)
                  --lengths LIST     target lengths to run, e.g. 8k,16k (default: all in the file)
                  --tasks LIST       tasks to run, e.g. niah_single_1,vt (default: all in the file)
                  --samples N        at most N samples of each task and length, the first by index
                                     (default: all)
                  --out DIR          where results go (default: eval-results/heldout-<model>-<time>)
                  --prefill-chunk N  prompt tokens per prefill step (default 256; 1024 with --device gpu)
                """ + CacheFlags.LIST_HELP + Engine.HELP + ThreadsFlag.HELP + "\n" + CompareEval.help("ruler") + "\n"
                + CompareEval.help("niah") + "\n" + CompareEval.help("fidelity") + """

                usage: retroinfer eval plot DIR | retroinfer eval plot --out DIR RUN1 RUN2 ...

                Draws the PNGs of an eval ruler or eval niah run again, or merges runs (one per length,
                or more attention modes on the same samples) into one report in DIR and draws its plots;
                two runs may not both hold one mode's results for the same sample.
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        if (args.length == 0 || args[0].startsWith("--")) {
            throw new UsageException("eval: name a suite first: retroinfer eval heldout --model PATH; suites: "
                    + String.join(", ", SUITES));
        }
        if (!SUITES.contains(args[0])) {
            throw new UsageException("eval: unknown suite '" + args[0] + "'; suites: " + String.join(", ", SUITES));
        }
        String suite = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (suite) {
            case "ruler", "niah", "fidelity" -> {
                return CompareEval.run(suite, rest, commandLine(args), out, err);
            }
            case "plot" -> {
                return CompareEval.plot(rest, err);
            }
            default -> {
                return heldout(suite, args, rest, out, err);
            }
        }
    }

    private int heldout(String suite, String[] args, String[] rest, PrintStream out, PrintStream err)
            throws IOException {
        Options o = Options.parse(name(), rest, VALUED, Set.of());
        Path modelPath = o.existingPath("model", "a model directory or .gguf file");
        Path file = o.text("file").map(Path::of).orElse(modelPath.resolve("eval").resolve("heldout.jsonl.gz"));
        if (!Files.isRegularFile(file)) {
            throw o.error((o.has("file") ? "--file " + file + " does not exist"
                    : "the model has no held-out set at " + file) + "; give one with --file F");
        }
        List<AttentionMode> modes = CacheFlags.readModes(o, "full");
        Engine.wantsGpu(o, modes); // refuse a bad --device before loading the model
        int perCell = o.integer("samples", Integer.MAX_VALUE, 1, Integer.MAX_VALUE);
        int chunk = Engine.prefillChunk(o);
        int threads = ThreadsFlag.read(o);

        HeldOutSet set = HeldOutSet.read(file);
        Set<Integer> lengths = o.has("lengths") ? new TreeSet<>(o.sizes("lengths", 1, Integer.MAX_VALUE)) : set.lengths();
        for (int length : lengths) {
            if (!set.lengths().contains(length)) {
                throw o.error("--lengths " + length + " is not a length of " + file + "; it has " + set.lengths());
            }
        }
        Set<EvalTask> tasks = readTasks(o, set);
        List<Sample> samples = set.select(lengths, tasks, perCell);
        Path outDir = outDir(o, suite, modelPath);

        try (Model model = Model.load(modelPath); Engine engine = Engine.open(o, model, modes, chunk)) {
            EvalRun run = new EvalRun(model, modes, chunk, engine.evalBackend(model));
            EvalReport.RunInfo info = new EvalReport.RunInfo(suite, modelPath.toString(), file.toString(),
                    commandLine(args), Instant.now().toString(), BenchCommand.cpuName(), threads,
                    VectorSupport.FLOAT.toString(), modes.stream().map(CacheFlags::describe).toList(),
                    EvalReport.METHOD);
            List<int[]> prompts;
            try {
                prompts = run.tokenize(samples);
            } catch (EvalInputException e) {
                throw new EvalInputException(file, e.getMessage());
            }
            err.printf("eval: %d samples x %s attention, %s; results go to %s%n", samples.size(),
                    String.join(" and ", modes.stream().map(AttentionMode::name).toList()), lengthsText(samples), outDir);
            Progress progress = new Progress(samples, modes.size(), err, partial -> {
                try {
                    EvalReport.of(info, partial, false).write(outDir);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write results to " + outDir, e);
                }
            });
            List<SampleResult> results = run.run(samples, prompts, progress);
            EvalReport report = EvalReport.of(info, results, true);
            report.write(outDir);
            out.print(report.tables());
            err.println("eval: results in " + outDir.resolve("results.json") + " and " + outDir.resolve("results.md"));
        }
        return 0;
    }

    /** The progress bar over prompt tokens, a note per finished sample, and the report rewritten after each. */
    static final class Progress implements EvalListener {
        private final ProgressBar bar;
        private final long total;
        private final Consumer<List<SampleResult>> report;
        private final List<SampleResult> results = new ArrayList<>();
        private final int runs;
        private final int modes;
        private final long start = System.nanoTime();
        private long finishedTokens;

        /** The bar counts prompt tokens prefilled: each prompt once, as every mode shares its prefill. */
        Progress(List<Sample> samples, int modes, PrintStream err, Consumer<List<SampleResult>> report) {
            this.bar = ProgressBar.on(err, "eval", "tokens");
            this.total = samples.stream().mapToLong(Sample::length).sum();
            this.runs = modes * samples.size();
            this.modes = modes;
            this.report = report;
        }

        @Override
        public void prefilled(Sample sample, long done, long all) {
            bar.update(finishedTokens + done, total);
        }

        @Override
        public void finished(Sample sample, SampleResult r) {
            results.add(r);
            if (results.size() % modes == 0) {
                finishedTokens += r.promptTokens();
            }
            // the estimate goes by prompt tokens, as the bar does
            double seconds = (System.nanoTime() - start) / 1e9;
            String left = finishedTokens >= total || finishedTokens == 0 ? ""
                    : ", about " + ProgressBar.duration(seconds * (total - finishedTokens) / finishedTokens) + " left";
            bar.note(String.format("%s %s: %s, wrote '%s' (prefill %.1f s, decode %.0f ms) [%d/%d%s]", sample.label(),
                    r.attention(), r.exact() ? "exact" : "WRONG", r.prediction(), r.prefillMillis() / 1000,
                    r.decodeMillis(), results.size(), runs, left));
            bar.update(finishedTokens, total);
            report.accept(List.copyOf(results));
        }
    }

    /** --out DIR, or eval-results/SUITE-MODEL-TIME; created now rather than after the first sample's minutes. */
    static Path outDir(Options o, String suite, Path modelPath) {
        Path outDir = o.text("out").map(Path::of).orElse(Path.of("eval-results", suite + "-"
                + modelPath.toAbsolutePath().normalize().getFileName() + "-" + STAMP.format(Instant.now())));
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw o.error("--out " + outDir + " is a file; give a directory");
        }
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw o.error("--out " + outDir + " cannot be created (" + e.getMessage() + "); give another directory");
        }
        return outDir;
    }

    private static Set<EvalTask> readTasks(Options o, HeldOutSet set) {
        Set<EvalTask> inFile = EnumSet.noneOf(EvalTask.class);
        set.samples().forEach(s -> inFile.add(s.task()));
        if (!o.has("tasks")) {
            return inFile;
        }
        Set<EvalTask> tasks = EnumSet.noneOf(EvalTask.class);
        for (String name : o.requireText("tasks", "task names").split(",")) {
            EvalTask task = EvalTask.byId(name.trim()).orElseThrow(() -> o.error("--tasks: unknown task '" + name.trim()
                    + "'; tasks: " + EvalTask.ids()));
            if (!inFile.contains(task)) {
                throw o.error("--tasks " + task + " has no samples in " + set.file());
            }
            tasks.add(task);
        }
        return tasks;
    }

    private static String lengthsText(List<Sample> samples) {
        TreeSet<Integer> lengths = new TreeSet<>();
        samples.forEach(s -> lengths.add(s.targetLength()));
        return "lengths " + lengths.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("none");
    }

    private static String commandLine(String[] args) {
        return "retroinfer eval " + String.join(" ", Arrays.stream(args).map(a -> a.contains(" ") ? "'" + a + "'" : a)
                .toList());
    }
}
