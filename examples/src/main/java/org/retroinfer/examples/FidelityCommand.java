package org.retroinfer.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.FidelityProbe;
import org.retroinfer.kvstore.SparseKvCache;
import org.retroinfer.kvstore.baseline.QuestConfig;
import org.retroinfer.kvstore.baseline.QuestKvCache;
import org.retroinfer.kvstore.baseline.StreamingLlmConfig;
import org.retroinfer.kvstore.baseline.StreamingLlmKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;

/**
 * {@code retroinfer fidelity}: how closely a sparse attention (RetroInfer, or the StreamingLLM and
 * Quest baselines at RetroInfer's exact budget) follows exact attention on a model's own queries,
 * keys and values. The model generates greedily with exact attention, and at every decode step of
 * every layer the sparse attention answers the same queries from the same keys and values; the
 * report gives, per layer, the relative output error, the attention mass the exactly attended (and,
 * for RetroInfer, estimated) positions cover, and the recall of the 100 highest-scoring positions.
 */
final class FidelityCommand implements Command {
    private static final Set<String> VALUED = Set.of("model", "prompt", "prompt-file", "random-prompt", "max-tokens",
            "prefill-chunk", "attention", "retrieval-budget", "estimation-budget", "kv-type", "seed", "out");
    private static final Set<String> FLAGS = Set.of("json");

    /** Everything one fidelity run measured. */
    record Report(String model, String date, String attention, int promptTokens, int generatedTokens,
                  double retrievalBudget, double estimationBudget, String kvType, long indexBuilds, long indexUpdates,
                  List<FidelityProbe.LayerFidelity> layers) {}

    @Override
    public String name() {
        return "fidelity";
    }

    @Override
    public String summary() {
        return "measure RetroInfer (or StreamingLLM, Quest) attention against exact attention on a model's own queries";
    }

    @Override
    public String help() {
        return """
                usage: retroinfer fidelity --model PATH (--prompt TEXT | --prompt-file F | --random-prompt N) [options]

                Generates greedily with exact attention and, at every decode step of every layer, also
                answers the model's queries with a sparse attention from the same keys and values.
                Reports per layer, averaged over query heads and decode steps: its relative output
                error, the exact softmax's mass on the positions it attends exactly (RetroInfer: steady
                zone and retrieved clusters) and on those plus the estimated clusters (RetroInfer only),
                and the recall of the 100 highest-scoring positions among those it attends exactly.
                StreamingLLM (sinks and the most recent positions) and Quest (pages of 16 positions
                ranked by their min/max key bound) attend exactly to as many positions as RetroInfer
                at the same --retrieval-budget. A prompt needs 1092 tokens or more to be indexed at
                once; shorter ones are attended whole until 1024 tokens have been generated.

                  --model PATH            a Hugging Face model directory or a .gguf file
                  --prompt TEXT           the prompt
                  --prompt-file F         read the prompt from a UTF-8 file instead
                  --random-prompt N       a prompt of N random tokens instead (seeded by --seed)
                  --max-tokens N          tokens to generate (default 32)
                  --prefill-chunk N       prompt tokens per prefill step (default 256)
                  --attention MODE        retro, streaming or quest (default retro)
                  --retrieval-budget R    fraction of clusters attended exactly, in (0, 1] (default 0.018)
                  --estimation-budget E   fraction of clusters estimated, in [0, 1] (default 0.232; retro only)
                  --kv-type TYPE          storage of keys and values: f16 or bf16 (default f16)
                  --seed S                seed of --random-prompt (default 1)
                  --json                  print the results as JSON instead of a table
                  --out FILE              also write the JSON results to FILE
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options o = Options.parse(name(), args, VALUED, FLAGS);
        Path modelPath = o.existingPath("model", "a model directory or .gguf file");
        int given = (o.has("prompt") ? 1 : 0) + (o.has("prompt-file") ? 1 : 0) + (o.has("random-prompt") ? 1 : 0);
        if (given != 1) {
            throw o.error("give exactly one of --prompt TEXT, --prompt-file F or --random-prompt N");
        }
        int maxTokens = o.integer("max-tokens", 32, 1, 1 << 20);
        int chunk = o.integer("prefill-chunk", Generator.DEFAULT_PREFILL_CHUNK, 1, 1 << 16);
        RetroConfig defaults = RetroConfig.defaults();
        double retrieval = o.number("retrieval-budget", defaults.retrievalBudget(), 0, false, 1, true);
        double estimation = o.number("estimation-budget", defaults.estimationBudget(), 0, true, 1, true);
        String type = o.text("kv-type").orElse("f16");
        DType kvType = switch (type) {
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw o.error("--kv-type must be f16 or bf16, got '" + type + "'");
        };
        String attention = o.text("attention").orElse("retro");
        if (!Set.of("retro", "streaming", "quest").contains(attention)) {
            throw o.error("--attention must be retro, streaming or quest, got '" + attention + "'");
        }
        if (!attention.equals("retro") && o.has("estimation-budget")) {
            throw o.error("--estimation-budget applies to --attention retro only; " + attention + " estimates nothing");
        }
        RetroConfig config = defaults.withBudgets(retrieval, estimation).withStorage(kvType);
        try (Model model = Model.load(modelPath)) {
            ModelConfig c = model.config();
            int[] prompt = prompt(o, model);
            if ((long) prompt.length + maxTokens > c.maxPositions()) {
                throw o.error("the prompt (" + prompt.length + " tokens) plus --max-tokens " + maxTokens
                        + " exceeds the model's context of " + c.maxPositions() + " tokens");
            }
            AttentionShape shape = c.attentionShape();
            Report report;
            SparseKvCache cache = switch (attention) {
                case "streaming" -> new StreamingLlmKvCache(shape, new StreamingLlmConfig(config));
                case "quest" -> new QuestKvCache(shape, new QuestConfig(config, QuestConfig.defaults().pageTokens()));
                default -> new RetroKvCache(shape, config);
            };
            try (FidelityProbe probe = new FidelityProbe(cache)) {
                ProgressBar progress = ProgressBar.onStderr("fidelity", "tokens");
                int[] generated = new Generator(model.transformer(), probe, chunk).generate(
                        List.of(new GenerationRequest(prompt, maxTokens, SamplingParams.greedy(), Set.of())),
                        new GenerationListener() {
                            private int tokens;

                            @Override
                            public void token(int request, int token) {
                                progress.update(++tokens, maxTokens);
                            }
                        }).completions().getFirst().tokens();
                RetroKvCache.Stats stats = cache instanceof RetroKvCache retro ? retro.stats() : null;
                report = new Report(modelPath.toString(), Instant.now().toString(), attention, prompt.length,
                        generated.length, retrieval, attention.equals("retro") ? estimation : 0, kvType.name(),
                        stats == null ? 0 : stats.indexBuilds(), stats == null ? 0 : stats.indexUpdates(),
                        probe.fidelity());
            }
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            if (o.has("out")) {
                mapper.writeValue(Path.of(o.text("out").orElseThrow()).toFile(), report);
            }
            if (o.flag("json")) {
                out.println(mapper.writeValueAsString(report));
            } else {
                printTable(report, out);
            }
        }
        return 0;
    }

    private static int[] prompt(Options o, Model model) throws IOException {
        if (o.has("random-prompt")) {
            int n = o.integer("random-prompt", 0, 1, Integer.MAX_VALUE);
            return new Random(o.longValue("seed", 1)).ints(n, 0, model.config().vocabSize()).toArray();
        }
        String text;
        if (o.has("prompt")) {
            text = o.requireText("prompt", "the prompt text");
        } else {
            Path file = o.existingPath("prompt-file", "a UTF-8 text file");
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (java.nio.charset.MalformedInputException e) {
                throw o.error("--prompt-file " + file + " is not valid UTF-8 text");
            }
        }
        int[] tokens = model.tokenizer().encode(text, true);
        if (tokens.length == 0) {
            throw o.error("the prompt is empty after tokenisation; give some text");
        }
        return tokens;
    }

    private static void printTable(Report r, PrintStream out) {
        out.printf("model: %s; attention %s; prompt %d tokens, %d generated; retrieval %s, estimation %s, KV %s; "
                        + "index builds %d, updates %d%n%n", r.model(), r.attention(), r.promptTokens(),
                r.generatedTokens(), r.retrievalBudget(), r.estimationBudget(), r.kvType(), r.indexBuilds(),
                r.indexUpdates());
        out.println("| layer | samples | relative error, mean | relative error, max | mass attended exactly "
                + "| mass exact + estimated | recall@" + FidelityProbe.RECALL_AT + " | recall@1 |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (FidelityProbe.LayerFidelity l : r.layers()) {
            out.printf("| %d | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |%n", l.layer(), l.samples(),
                    l.relativeError(), l.maxRelativeError(), l.exactMass(), l.exactAndEstimatedMass(), l.recallAt100(),
                    l.recallAt1());
        }
    }
}
