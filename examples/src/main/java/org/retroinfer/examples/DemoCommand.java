package org.retroinfer.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.retroinfer.model.random.RandomModel;

/**
 * {@code retroinfer demo}: the main job end to end. Until the project ships its own trained model,
 * it runs on a randomly initialised model generated on first use, and says so.
 */
final class DemoCommand implements Command {
    private static final Set<String> VALUED = GenerateCommand.union(Set.of("max-tokens", "prompt", "model-dir"),
            CacheFlags.NAMES);
    private static final String PROMPT = "RetroInfer treats the KV cache as vector storage: it clusters the keys of a "
            + "long context, attends exactly to the few clusters that matter, and estimates the rest.";

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "generate text with a demo model to show the engine working end to end";
    }

    @Override
    public String help() {
        return """
                usage: retroinfer demo [options]

                Writes a small randomly initialised Llama-style model (about 12 MiB, once, under
                --model-dir) and generates from it with full attention, streaming the text and
                reporting prefill and decode speed. The model is random, so its text is gibberish:
                the demo shows the engine running end to end, not a trained model's quality.

                  --prompt TEXT      the prompt (default: a sentence about RetroInfer)
                  --max-tokens N     tokens to generate (default 64)
                  --model-dir DIR    where the demo model lives (default ~/.cache/retroinfer/demo-random-model)
                """ + CacheFlags.HELP;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options o = Options.parse(name(), args, VALUED, Set.of());
        int maxTokens = o.integer("max-tokens", 64, 1, 4096);
        Path dir = o.text("model-dir").map(Path::of).orElse(defaultDirectory());
        if (!Files.exists(dir.resolve("config.json"))) {
            err.println("demo: writing a random demo model to " + dir + " (once)...");
            RandomModel.write(dir, RandomModel.Spec.demo());
        }
        err.println("""
                demo: NOTE - this model has random weights (the project's own trained model is not released yet),
                demo: so the text below is gibberish. It shows tokenisation, chunked prefill, the KV cache,
                demo: sampling and streaming working end to end, and how fast they run on this machine.""");
        String[] generateArgs = {
            "--model", dir.toString(),
            "--prompt", o.text("prompt").orElse(PROMPT),
            "--max-tokens", Integer.toString(maxTokens),
            "--temperature", "0.8", "--top-p", "0.95", "--seed", "42",
            "--attention", o.text("attention").orElse("full"),
            "--kv-type", o.text("kv-type").orElse("f16"),
        };
        err.println("demo: retroinfer generate " + String.join(" ", quoted(generateArgs)));
        return new GenerateCommand().run(generateArgs, out, err);
    }

    private static Path defaultDirectory() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("retroinfer").resolve("demo-random-model");
    }

    private static String[] quoted(String[] args) {
        String[] q = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            q[i] = args[i].contains(" ") ? "'" + args[i] + "'" : args[i];
        }
        return q;
    }
}
