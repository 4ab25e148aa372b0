package org.retroinfer.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.tasks.NiahGenerator;
import org.retroinfer.model.Model;

/**
 * {@code retroinfer demo}: the project's own model, {@code models/retro-tiny}, finds a needle in a
 * long haystack with full attention and with RetroInfer attention on the CPU, and the demo shows
 * both answers, whether each is right, and how fast each decodes. {@code --random-model} keeps the
 * older demo on a random-weight model for a checkout without the trained one.
 */
final class DemoCommand implements Command {
    /** Set by the {@code retroinfer} launcher to the repository root, where the default model lives. */
    static final String HOME_PROPERTY = "retroinfer.home";
    static final Path DEFAULT_MODEL = Path.of("models", "retro-tiny");
    private static final Set<String> VALUED = GenerateCommand.union(Set.of("model", "context", "seed", "task",
            "decode-tokens", "prefill-chunk", ThreadsFlag.NAME, "max-tokens", "prompt", "model-dir"), CacheFlags.NAMES, Engine.NAMES);
    private static final Set<String> FLAGS = Set.of("json", "random-model", "no-warm-up");
    private static final Set<String> RANDOM_MODEL_ONLY = Set.of("max-tokens", "prompt", "model-dir");
    private static final Set<String> NEEDLE_ONLY = Set.of("model", "context", "seed", "task", "decode-tokens",
            "prefill-chunk", "device");

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "find a needle in a 16K-token prompt with full and RetroInfer attention, and compare their speed";
    }

    @Override
    public boolean takesThreads() {
        return true;
    }

    @Override
    public String help() {
        return """
                usage: retroinfer demo [options]

                Builds a long needle-in-a-haystack prompt exactly as the project's model was trained
                on (RULER's niah_single_1: one 'special magic number' hidden among noise lines, with a
                key the model never saw in training), decodes it greedily with full attention and
                with RetroInfer attention on the CPU, and prints the question, both answers, whether
                each is right, prefill and decode tokens/s, and RetroInfer's decode speed-up. Decoding
                is timed over --decode-tokens tokens, past the answer's end; each mode first runs once
                on a short prompt so that the JIT has compiled its decode path.

                  --model PATH       the model (default: models/retro-tiny of this repository)
                  --context N        tokens of the prompt and its answer, e.g. 16k (default 16384)
                  --seed S           the prompt's random choices, decimal or 0x-hex (default 1); with
                                     a held-out record's seed and target length it rebuilds that prompt
                  --task T           niah_single_1 (default), niah_multikey_2 (the haystack is other
                                     needles) or niah_multikey_3 (needles of UUIDs)
                  --decode-tokens N  tokens decoded and timed per mode (default 64)
                  --prefill-chunk N  prompt tokens per prefill step (default 256; 1024 with --device gpu)
                  --no-warm-up       time each mode without the warm-up run
                  --json             print one JSON object instead of the table
                """ + CacheFlags.LIST_HELP.replace("or both: full,retro", "or both: full,retro (default; full with --device gpu)")
                + Engine.HELP
                + ThreadsFlag.HELP + "\n" + RandomModelDemo.HELP;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options o = Options.parse(name(), args, VALUED, FLAGS);
        ThreadsFlag.read(o);
        boolean random = o.flag("random-model");
        for (String option : random ? NEEDLE_ONLY : RANDOM_MODEL_ONLY) {
            if (o.has(option)) {
                throw o.error("--" + option
                        + (random ? " does not apply to --random-model" : " applies only to --random-model"));
            }
        }
        if (random) {
            if (o.flag("json") || o.flag("no-warm-up")) {
                throw o.error("--json and --no-warm-up do not apply to --random-model");
            }
            return RandomModelDemo.run(o, out, err);
        }
        Path modelPath = o.has("model") ? o.existingPath("model", "a model directory or .gguf file") : defaultModel(o);
        EvalTask task = readTask(o);
        long seed = readSeed(o);
        int decodeTokens = o.integer("decode-tokens", 64, 1, 4096);
        int chunk = Engine.prefillChunk(o);
        List<AttentionMode> modes = CacheFlags.readModes(o, o.text("device").orElse("cpu").equals("gpu") ? "full" : "full,retro");
        Engine.wantsGpu(o, modes); // refuse a bad --device before loading the model
        try (Model model = Model.load(modelPath)) {
            if (o.text("context").orElse("").contains(",")) {
                throw o.error("--context takes one length, got '" + o.text("context").orElseThrow() + "'");
            }
            int positions = model.config().maxPositions();
            int context = o.has("context") ? o.sizes("context", 256, positions).getFirst() : Math.min(16384, positions);
            String name = o.has("model") ? modelPath.toString() : DEFAULT_MODEL.toString();
            try (Engine engine = Engine.open(o, model, modes, chunk)) {
                return NeedleDemo.run(new NeedleDemo.Settings(model, engine, name, task, seed, context, modes, decodeTokens, chunk,
                        !o.flag("no-warm-up"), o.flag("json")), out, err);
            }
        }
    }

    /** models/retro-tiny under the repository root the launcher names. */
    private static Path defaultModel(Options o) {
        String home = System.getProperty(HOME_PROPERTY);
        if (home == null || home.isBlank()) {
            throw o.error("no default model: -D" + HOME_PROPERTY + " (set by the ./retroinfer launcher) does not name the "
                    + "repository; give --model PATH (e.g. models/retro-tiny) or --random-model");
        }
        Path model = Path.of(home).resolve(DEFAULT_MODEL);
        if (!Files.isRegularFile(model.resolve("config.json"))) {
            throw o.error("the default model " + model + " is missing (it ships with the repository: git checkout "
                    + DEFAULT_MODEL + "); give --model PATH, or --random-model for a random-weight demo");
        }
        return model;
    }

    private static EvalTask readTask(Options o) {
        String id = o.text("task").orElse(EvalTask.NIAH_SINGLE_1.id());
        return EvalTask.byId(id).filter(NiahGenerator.tasks()::contains).orElseThrow(() -> o.error(
                "--task must be one of " + NiahGenerator.taskIds() + " (the tasks built from a seed alone), got '" + id
                        + "'"));
    }

    private static long readSeed(Options o) {
        String text = o.text("seed").orElse("1").trim();
        try {
            return text.startsWith("0x") || text.startsWith("0X") ? Long.parseUnsignedLong(text.substring(2), 16)
                    : Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw o.error("--seed must be an integer from 0 to 2^64 - 1, decimal or 0x-hex, got '" + text + "'");
        }
    }
}
