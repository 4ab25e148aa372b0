package org.retroinfer.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.Sample;
import org.retroinfer.eval.Score;
import org.retroinfer.eval.Scorer;
import org.retroinfer.eval.tasks.NiahGenerator;
import org.retroinfer.eval.tasks.WordKeys;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.VectorSupport;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.GenerationResult;
import org.retroinfer.model.generation.GenerationStats;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;

/**
 * The demo proper: one long needle-in-a-haystack prompt in exactly the training format, decoded
 * greedily under each attention mode, with the answers, whether each is right, and the speeds.
 * Decoding is timed over a fixed number of tokens, past the answer's end as benchmarks do; the
 * answer is what comes before its end. A short run of each mode first compiles the decode path, so
 * that no mode is timed while the JIT is still at work.
 */
final class NeedleDemo {
    /** Enough prompt for RetroInfer to build an index (4 sinks + 64 window + 1024 update positions). */
    private static final int WARM_UP_CONTEXT = 1280;
    /**
     * Decode steps of the warm-up, enough for the JIT to compile every decode kernel: after 16 of
     * them RetroInfer still decoded a 2K prompt about 10x slower than after 64.
     */
    private static final int WARM_UP_TOKENS = 128;

    /** What to run. */
    record Settings(Model model, Engine engine, String modelName, EvalTask task, long seed, int context, List<AttentionMode> modes,
                    int decodeTokens, int prefillChunk, boolean warmUp, boolean json) {}

    /**
     * One attention mode's run.
     *
     * @param answer the generated text up to the end of the answer
     * @param right  exact, as the evaluation counts it
     */
    record Run(String attention, String settings, String answer, boolean right, int promptTokens,
               double prefillTokensPerSecond, double prefillSeconds, long decodeTokens, double decodeTokensPerSecond,
               double decodeSeconds) {}

    /** Everything the demo measured, for --json. */
    record Report(String model, String task, String seed, int context, int promptTokens, int haystackSize,
                  String question, String expected, List<Run> runs, Double retroDecodeSpeedup, String device,
                  int threads, String cpu, String vectorSpecies) {}

    private NeedleDemo() {}

    static int run(Settings s, PrintStream out, PrintStream err) throws Exception {
        Model model = s.model();
        Scorer scorer = new Scorer(model.tokenizer(), new HashSet<>(model.generationDefaults().eosTokenIds()));
        err.printf("demo: building a %s prompt of %d tokens (seed %s) for %s...%n", s.task(), s.context(),
                Long.toUnsignedString(s.seed()), s.modelName());
        Sample sample = fit(s, s.seed(), s.context());
        int[] prompt = model.tokenizer().encode(sample.prompt(), true);
        String question = question(sample.prompt());
        if (s.warmUp()) {
            err.println("demo: warming up each attention mode on a short prompt (JIT compilation)...");
            Sample shortSample = fit(s, s.seed() + 1, Math.min(WARM_UP_CONTEXT, s.context()));
            int[] shortPrompt = model.tokenizer().encode(shortSample.prompt(), true);
            for (AttentionMode mode : s.modes()) {
                generate(s, mode, shortPrompt, WARM_UP_TOKENS, null);
            }
        }
        List<Run> runs = new ArrayList<>();
        for (AttentionMode mode : s.modes()) {
            ProgressBar bar = ProgressBar.on(err, "prefill (" + mode.family() + ")", "tokens");
            GenerationResult result = generate(s, mode, prompt, Math.max(s.decodeTokens(), sample.answerLength() + 1), bar);
            int[] generated = result.completions().getFirst().tokens();
            int[] answer = upToTheFirstStop(generated, scorer.stopTokens());
            Score score = scorer.score(sample, answer);
            GenerationStats stats = result.stats();
            runs.add(new Run(mode.family(), CacheFlags.describe(mode), score.prediction(), score.exact(), prompt.length,
                    stats.prefillTokensPerSecond(), stats.prefillNanos() / 1e9, stats.decodeTokens(),
                    stats.decodeTokensPerSecond(), stats.decodeNanos() / 1e9));
        }
        Double speedup = speedup(runs);
        Report report = new Report(s.modelName(), s.task().id(), Long.toUnsignedString(s.seed()), s.context(),
                prompt.length, sample.size(), question, sample.answer().strip(), runs, speedup, s.engine().device(), ComputePool.threads(),
                BenchCommand.cpuName(), VectorSupport.FLOAT.toString());
        if (s.json()) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
        } else {
            print(report, out);
        }
        return 0;
    }

    private static Sample fit(Settings s, long seed, int context) {
        try {
            return NiahGenerator.fitted(s.task(), seed, context, WordKeys.Split.HELDOUT, s.model().tokenizer());
        } catch (IllegalArgumentException e) {
            throw new UsageException("demo: --context " + context + " is too short for a " + s.task() + " prompt ("
                    + e.getMessage() + "); give a longer one");
        }
    }

    private static GenerationResult generate(Settings s, AttentionMode mode, int[] prompt, int tokens, ProgressBar bar) {
        GenerationListener listener = bar == null ? GenerationListener.NONE : new GenerationListener() {
            @Override
            public void prefilled(int request, long done, long total) {
                bar.update(done, total);
            }
        };
        // No stop tokens: decoding is timed over the same number of tokens in every mode.
        GenerationRequest request = new GenerationRequest(prompt, tokens, SamplingParams.greedy(), Set.of());
        try (KvCache cache = s.engine().cache(s.model(), mode, 1, (long) prompt.length + tokens)) {
            return new Generator(s.engine().forward(), cache, s.prefillChunk()).generate(List.of(request), listener);
        }
    }

    private static int[] upToTheFirstStop(int[] tokens, Set<Integer> stops) {
        for (int i = 0; i < tokens.length; i++) {
            if (stops.contains(tokens[i])) {
                return Arrays.copyOf(tokens, i + 1);
            }
        }
        return tokens;
    }

    /** The prompt's question: its last line up to the question mark. */
    static String question(String prompt) {
        String last = prompt.substring(prompt.lastIndexOf('\n') + 1);
        int mark = last.indexOf('?');
        return mark < 0 ? last : last.substring(0, mark + 1);
    }

    private static Double speedup(List<Run> runs) {
        Run full = runs.stream().filter(r -> r.attention().equals("full")).findFirst().orElse(null);
        Run retro = runs.stream().filter(r -> r.attention().equals("retro")).findFirst().orElse(null);
        if (full == null || retro == null || full.decodeTokensPerSecond() == 0) {
            return null;
        }
        return retro.decodeTokensPerSecond() / full.decodeTokensPerSecond();
    }

    private static void print(Report r, PrintStream out) {
        out.printf("model:    %s; %s%n", r.model(), r.device().equals("cpu") ? r.threads() + " compute threads, " + r.cpu()
                : "on " + r.device());
        out.printf("prompt:   %s, %d tokens: one needle among %d %s; seed %s%n", r.task(), r.promptTokens(),
                r.haystackSize(), r.task().equals(EvalTask.NIAH_SINGLE_1.id()) ? "noise lines" : "distractor needles",
                r.seed());
        out.printf("question: %s%n", r.question());
        out.printf("expected: %s%n%n", r.expected());
        out.println("| attention | answer | right | prefill tok/s | decode tok/s |");
        out.println("| --- | --- | --- | ---: | ---: |");
        for (Run run : r.runs()) {
            out.printf(Locale.ROOT, "| %s | %s | %s | %.1f | %.1f |%n", run.settings(), run.answer(),
                    run.right() ? "yes" : "NO", run.prefillTokensPerSecond(), run.decodeTokensPerSecond());
        }
        if (r.retroDecodeSpeedup() != null) {
            out.printf(Locale.ROOT, "%nretro decodes %.2fx as fast as full attention (%d tokens each, greedy, batch 1)%n",
                    r.retroDecodeSpeedup(), r.runs().getFirst().decodeTokens());
        }
    }
}
