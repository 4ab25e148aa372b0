package org.retroinfer.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.VectorSupport;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.config.ModelShapes;
import org.retroinfer.model.Model;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.GenerationStats;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;

/**
 * {@code retroinfer bench}: llama-bench-style prefill and decode speed over context depths, mean ±
 * standard deviation over repetitions, with the memory each run used.
 */
final class BenchCommand implements Command {
    private static final Set<String> VALUED = GenerateCommand.union(
            Set.of("model", "shape", "cuda-graphs", "profiler-step", "context", "batch", "micro-batches", "reps", "warmup", "gen", "prefill-chunk",
                    "gpu-memory", "seed", "out"), CacheFlags.NAMES,
            Engine.NAMES);
    private static final Set<String> FLAGS = Set.of("json", "prefill");
    /** Prompt rows per prefill step of a {@code --shape --prefill} bench: enough tiles to fill the GPU. */
    static final int SHAPE_PREFILL_CHUNK = 2048;
    /** The longest context a warm-up prefills. */
    private static final int WARM_UP_CONTEXT = 16384;
    /** Tokens the warm-up decodes at least. */
    private static final int WARM_UP_TOKENS = 256;

    /**
     * One measured point: a context depth and batch size, over all repetitions. Attention's time per
     * decode step covers every layer; the index build's share of prefill is RetroInfer's only
     * (empty for full attention).
     */
    record Point(int context, int batch, int generated, List<Double> prefillTokensPerSecond,
                 List<Double> decodeTokensPerSecond, List<Double> decodeAttentionMillisPerStep,
                 List<Double> indexBuildSeconds, List<Double> indexBuildShareOfPrefill, long kvCacheBytes,
                 long heapBytes) {
        double prefillMean() {
            return mean(prefillTokensPerSecond);
        }

        double prefillSd() {
            return sd(prefillTokensPerSecond);
        }

        double decodeMean() {
            return mean(decodeTokensPerSecond);
        }

        double decodeSd() {
            return sd(decodeTokensPerSecond);
        }

        double attentionMean() {
            return mean(decodeAttentionMillisPerStep);
        }

        double attentionSd() {
            return sd(decodeAttentionMillisPerStep);
        }
    }

    /** What one generation measured. */
    private record Measurement(GenerationStats stats, long decodeAttentionNanos, RetroKvCache.Stats retro) {}

    /** Everything one bench run measured, and where. */
    record Report(String model, String format, String attention, Double retrievalBudget, Double estimationBudget,
                  String kvType, String date, String device, String cpu, int threads, String vectorSpecies, long weightBytes,
                  List<Point> points) {}

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "measure prefill and decode tokens/s over context lengths (llama-bench style)";
    }

    @Override
    public String help() {
        return """
                usage: retroinfer bench --model PATH --context N[,N...] [options]
                       retroinfer bench --shape llama3-8b --device gpu --context N[,N...] [options]

                For each context length N: prefills --batch sequences of N random tokens, then decodes
                --gen tokens for all of them in lock step. Reports prefill (pp) and decode (tg)
                tokens/s as mean ± sd over --reps repetitions after --warmup warm-up runs, the memory used, the
                attention's time per decode step (all layers), and with --attention retro the wave
                index build's share of prefill time.

                  --model PATH       a Hugging Face model directory or a .gguf file
                  --shape NAME       instead of --model: random BF16 weights of a real model's shape, made
                                     on the GPU (llama3-8b); each context is filled with random keys and
                                     values rather than prefilled, and only decoding is timed; --batch
                                     defaults to the largest batch whose KV fits the GPU
                  --cuda-graphs on|off  with --device gpu: replay repeated step shapes as CUDA graphs (default on)
                  --profiler-step on|off  with --shape: after the timed passes, decode one more step inside a
                                     CUDA profiler range, for `ncu --profile-from-start off` to record that
                                     step's kernels alone (default off)
                  --prefill          with --shape: time prefill instead of decoding: one sequence of N random
                                     tokens a repetition, in chunks of --prefill-chunk (default 2048), and with
                                     retro the index build that ends it, with its share of the whole
                  --micro-batches M  with --shape: decode the batch as M parts at once, each on its own GPU
                                     stream and host thread, so that one part's transfers overlap another's
                                     compute (default 1)
                  --gpu-memory G     with --shape: decode as if the GPU had G GiB, the rest held back from the
                                     start (e.g. an 80 GB card's batches on a larger one: its bandwidth stays)
                  --context LIST     context lengths, e.g. 512,4k,16k
                  --batch B          sequences decoded together (default 1)
                  --gen G            tokens decoded per sequence (default 32)
                  --reps R           repetitions (default 3)
                  --warmup W         untimed runs before the first context (default 1), at the longest
                                     context up to 16K tokens, at least 256 tokens decoded; more of them
                                     let the JIT finish compiling (RetroInfer's index build needs 2-3)
                  --prefill-chunk N  prompt tokens per prefill step (default 256; 1024 with --device gpu)
                  --seed S           the random prompts, first tokens and, with --shape, weights and contexts
                                     (default 1): greedy decoding follows its own tokens, so a change that
                                     rounds anything differently decodes other tokens; compare over seeds
                """ + CacheFlags.HELP + Engine.HELP + """
                  --json             print the results as JSON instead of a table
                  --out FILE         also write the JSON results to FILE
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options o = Options.parse(name(), args, VALUED, FLAGS);
        if (o.has("shape")) {
            return runShape(o, out, err);
        }
        for (String shapeOnly : List.of("micro-batches", "gpu-memory", "profiler-step")) {
            if (o.has(shapeOnly)) {
                throw o.error("--" + shapeOnly + " applies to --shape benches only");
            }
        }
        if (o.flag("prefill")) {
            throw o.error("--prefill applies to --shape benches only (a --model bench times prefill always)");
        }
        Path modelPath = o.existingPath("model", "a model directory or .gguf file");
        List<Integer> contexts = o.sizes("context", 1, Integer.MAX_VALUE);
        int batch = o.integer("batch", 1, 1, 4096);
        int gen = o.integer("gen", 32, 1, 1 << 20);
        int reps = o.integer("reps", 3, 1, 1000);
        int warmups = o.integer("warmup", 1, 0, 100);
        long seed = seed(o);
        int chunk = Engine.prefillChunk(o);
        CacheFlags cacheFlags = CacheFlags.read(o);
        Engine.wantsGpu(o, List.of(cacheFlags.mode())); // refuse a bad --device before loading the model
        Path outFile = o.text("out").map(Path::of).orElse(null);
        boolean graphs = cudaGraphs(o);
        try (Model model = Model.load(modelPath); Engine engine = Engine.open(o, model, List.of(cacheFlags.mode()),
                Math.max(chunk, batch))) {
            if (engine.onGpu()) {
                engine.gpu().transformer().withGraphs(graphs);
            }
            int maxContext = model.config().maxPositions();
            for (int n : contexts) {
                if ((long) n + gen > maxContext) {
                    throw o.error("--context " + n + " plus --gen " + gen + " exceeds the model's context of "
                            + maxContext + " tokens");
                }
            }
            Random random = new Random(seed);
            // Warm-ups at the longest context up to 16K tokens, decoding enough tokens for the JIT to
            // compile the decode path (Vector API code runs orders of magnitude slower until C2 compiles
            // it) before anything is timed: shorter warm-ups left the first timed index builds at 8K
            // still running partly uncompiled kernels, and warm-ups at 8K only left the first 16K build
            // compiling the k-means pass that a single 8K segment never runs (16K: 0.37 ± 0.28 s).
            int warmUpContext = Math.min(WARM_UP_CONTEXT, contexts.stream().mapToInt(Integer::intValue).max().orElseThrow());
            for (int w = 0; w < warmups; w++) {
                measure(model, engine, cacheFlags, warmUpContext, 1, Math.max(gen, WARM_UP_TOKENS), chunk, random);
            }
            List<Point> points = new ArrayList<>();
            for (int n : contexts) {
                List<Double> pp = new ArrayList<>();
                List<Double> tg = new ArrayList<>();
                List<Double> attention = new ArrayList<>();
                List<Double> build = new ArrayList<>();
                List<Double> buildShare = new ArrayList<>();
                long kv = 0;
                ProgressBar progress = ProgressBar.onStderr("bench context " + n, "reps");
                for (int r = 0; r < reps; r++) {
                    Measurement m = measure(model, engine, cacheFlags, n, batch, gen, chunk, random);
                    GenerationStats s = m.stats();
                    pp.add(s.prefillTokensPerSecond());
                    tg.add(s.decodeTokensPerSecond());
                    if (!engine.onGpu()) {
                        attention.add(s.decodeSteps() == 0 ? 0 : m.decodeAttentionNanos() / 1e6 / s.decodeSteps());
                    }
                    if (m.retro() != null) {
                        build.add(m.retro().indexBuildNanos() / 1e9);
                        buildShare.add((double) m.retro().indexBuildNanos() / s.prefillNanos());
                    }
                    kv = Math.max(kv, s.peakKvBytes());
                    progress.update(r + 1, reps);
                }
                Runtime rt = Runtime.getRuntime();
                points.add(new Point(n, batch, gen, pp, tg, attention, build, buildShare, kv,
                        rt.totalMemory() - rt.freeMemory()));
            }
            RetroConfig retro = cacheFlags.retro();
            Report report = new Report(modelPath.toString(), model.format(), cacheFlags.attention(),
                    retro == null ? null : retro.retrievalBudget(), retro == null ? null : retro.estimationBudget(),
                    cacheFlags.kvType().name(), Instant.now().toString(), engine.device(), cpuName(), ComputePool.threads(),
                    VectorSupport.FLOAT.toString(), model.weightBytes(), points);
            report(report, outFile, o.flag("json"), out, BenchCommand::printTable);
        }
        return 0;
    }

    /**
     * A bench's results: as JSON to {@code outFile} where given, and on {@code out} as JSON ({@code --json}) or as the
     * bench's table.
     */
    static <R> void report(R report, Path outFile, boolean json, PrintStream out,
            java.util.function.BiConsumer<R, PrintStream> table) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (outFile != null) {
            mapper.writeValue(outFile.toFile(), report);
        }
        if (json) {
            out.println(mapper.writeValueAsString(report));
        } else {
            table.accept(report, out);
        }
    }

    /** {@code --shape}: random weights of a named model shape on the GPU, decode only ({@link GpuShapeBench}). */
    private static int runShape(Options o, PrintStream out, PrintStream err) throws IOException {
        if (o.has("model")) {
            throw o.error("give --model PATH or --shape NAME, not both");
        }
        String name = o.requireText("shape", "a model shape");
        ModelConfig config = ModelShapes.byName(name).orElseThrow(() -> o.error("--shape must be one of " + ModelShapes.names()
                + ", got '" + name + "'"));
        if (!o.text("device").orElse("cpu").equals("gpu")) {
            throw o.error("--shape runs on the GPU only: add --device gpu");
        }
        boolean prefill = o.flag("prefill");
        if (o.has("prefill-chunk") && !prefill) {
            throw o.error("--prefill-chunk applies to --shape with --prefill only: decode benches fill their contexts");
        }
        CacheFlags cacheFlags = CacheFlags.read(o);
        Engine.wantsGpu(o, List.of(cacheFlags.mode()));
        List<Integer> contexts = o.sizes("context", 1, config.maxPositions());
        if (prefill) {
            for (String decodeOnly : List.of("batch", "micro-batches", "gen", "cuda-graphs", "gpu-memory", "profiler-step")) {
                if (o.has(decodeOnly)) {
                    throw o.error("--" + decodeOnly + " does not apply to --prefill, which prefills one sequence at a time");
                }
            }
            int chunk = o.integer("prefill-chunk", SHAPE_PREFILL_CHUNK, 1, 1 << 16);
            return GpuShapePrefill.run(o, name, config, contexts, chunk, o.integer("reps", 1, 1, 1000),
                    o.integer("warmup", 1, 0, 100), cacheFlags.mode(), o.text("out").map(Path::of).orElse(null),
                    o.flag("json"), out, err);
        }
        Integer batch = o.has("batch") ? o.integer("batch", 1, 1, 256) : null;
        int gen = o.integer("gen", 32, 1, 1 << 20);
        int reps = o.integer("reps", 3, 1, 1000);
        int warmups = o.integer("warmup", 1, 0, 100);
        int microBatches = o.integer("micro-batches", 1, 1, 8);
        boolean profilerStep = switch (o.text("profiler-step").orElse("off")) {
            case "on" -> true;
            case "off" -> false;
            default -> throw o.error("--profiler-step must be on or off, got '" + o.text("profiler-step").orElseThrow() + "'");
        };
        return GpuShapeBench.run(o, name, config, contexts, batch, gen, reps, warmups, cacheFlags.mode(), cudaGraphs(o),
                profilerStep, microBatches, o.text("out").map(Path::of).orElse(null), o.flag("json"), out, err);
    }

    /** {@code --seed S}: what the bench's random choices start from (default 1). */
    static long seed(Options o) {
        return o.integer("seed", 1, 0, Integer.MAX_VALUE);
    }

    /** {@code --cuda-graphs on|off} (default on); refused without --device gpu. */
    static boolean cudaGraphs(Options o) {
        String value = o.text("cuda-graphs").orElse("on");
        if (o.has("cuda-graphs") && !o.text("device").orElse("cpu").equals("gpu")) {
            throw o.error("--cuda-graphs applies only to --device gpu");
        }
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw o.error("--cuda-graphs must be on or off, got '" + value + "'");
        };
    }

    private static Measurement measure(Model model, Engine engine, CacheFlags flags, int context, int batch, int gen, int chunk,
                                       Random random) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] prompt = random.ints(context, 0, model.config().vocabSize()).toArray();
            requests.add(new GenerationRequest(prompt, gen, SamplingParams.greedy(), Set.of()));
        }
        if (engine.onGpu()) {
            // the GPU forward pass needs its own cache type, so its attention is not timed apart
            try (KvCache cache = engine.cache(model, flags.mode(), batch, (long) context + gen)) {
                GenerationStats stats = new Generator(engine.forward(), cache, chunk).generate(requests, GenerationListener.NONE).stats();
                return new Measurement(stats, 0, null);
            }
        }
        try (AttentionTimer cache = new AttentionTimer(flags.create(model.config()))) {
            GenerationStats stats = new Generator(model.transformer(), cache, chunk)
                    .generate(requests, GenerationListener.NONE).stats();
            RetroKvCache.Stats retro = cache.inner() instanceof RetroKvCache r ? r.stats() : null;
            return new Measurement(stats, cache.decodeAttentionNanos(), retro);
        }
    }

    private static void printTable(Report r, PrintStream out) {
        String attention = r.retrievalBudget() == null ? r.attention()
                : r.attention() + " (retrieval " + r.retrievalBudget() + ", estimation " + r.estimationBudget() + ")";
        String where = r.device().equals("cpu") ? r.threads() + " threads, " + r.vectorSpecies() + "; " + r.cpu() : "on " + r.device();
        out.printf("model: %s (%s, %.1f MiB of weights); attention %s, KV %s; %s%n%n", r.model(),
                r.format(), r.weightBytes() / 1048576.0, attention, r.kvType(), where);
        out.println("| context | batch | test | tokens/s | attention ms/step | index build % of prefill | KV cache MiB |");
        out.println("| ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        for (Point p : r.points()) {
            String build = p.indexBuildShareOfPrefill().isEmpty() ? "-"
                    : String.format("%.1f ± %.1f", 100 * mean(p.indexBuildShareOfPrefill()),
                            100 * sd(p.indexBuildShareOfPrefill()));
            out.printf("| %d | %d | pp%d | %.2f ± %.2f | | %s | %.1f |%n", p.context(), p.batch(), p.context(),
                    p.prefillMean(), p.prefillSd(), build, p.kvCacheBytes() / 1048576.0);
            String attentionTime = p.decodeAttentionMillisPerStep().isEmpty() ? "-"
                    : String.format("%.3f ± %.3f", p.attentionMean(), p.attentionSd());
            out.printf("| %d | %d | tg%d | %.2f ± %.2f | %s | | %.1f |%n", p.context(), p.batch(), p.generated(),
                    p.decodeMean(), p.decodeSd(), attentionTime, p.kvCacheBytes() / 1048576.0);
        }
    }

    static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim() + ", " + Runtime.getRuntime().availableProcessors()
                            + " cores";
                }
            }
        } catch (IOException e) {
            // Not Linux: fall through to the JVM's description.
        }
        return System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }

    static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    }

    static double sd(List<Double> xs) {
        if (xs.size() < 2) {
            return 0;
        }
        double m = mean(xs);
        return Math.sqrt(xs.stream().mapToDouble(x -> (x - m) * (x - m)).sum() / (xs.size() - 1));
    }
}
