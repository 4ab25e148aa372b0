package org.retroinfer.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.retroinfer.model.random.RandomModel;

/**
 * {@code retroinfer demo --random-model}: generation from a small randomly initialised model,
 * written on first use, for a machine without the project's trained model. Its text is gibberish,
 * and it says so.
 */
final class RandomModelDemo {
    static final String HELP = """
            With --random-model: writes a small randomly initialised Llama-style model (about 12 MiB,
            once, under --model-dir) and generates from it, streaming the text and reporting prefill
            and decode speed. Its text is gibberish: it shows the engine running end to end.
              --random-model     run this demo instead of the needle demo
              --prompt TEXT      the prompt (default: a sentence about RetroInfer)
              --max-tokens N     tokens to generate (default 64)
              --model-dir DIR    where the random model lives (default ~/.cache/retroinfer/demo-random-model)
            """;
    private static final String PROMPT = "RetroInfer treats the KV cache as vector storage: it clusters the keys of a "
            + "long context, attends exactly to the few clusters that matter, and estimates the rest.";

    private RandomModelDemo() {}

    static int run(Options o, PrintStream out, PrintStream err) throws Exception {
        int maxTokens = o.integer("max-tokens", 64, 1, 4096);
        Path dir = o.text("model-dir").map(Path::of).orElse(defaultDirectory());
        CacheFlags cacheFlags = CacheFlags.read(o);
        if (!Files.exists(dir.resolve("config.json"))) {
            err.println("demo: writing a random demo model to " + dir + " (once)...");
            RandomModel.write(dir, RandomModel.Spec.demo());
        }
        err.println("""
                demo: NOTE - this model has random weights, so the text below is gibberish. It shows
                demo: tokenisation, chunked prefill, the KV cache, sampling and streaming working end to end,
                demo: and how fast they run on this machine. Without --random-model the demo runs the
                demo: project's trained model, models/retro-tiny, on a long needle-in-a-haystack prompt.""");
        List<String> generateArgs = new ArrayList<>(List.of(
                "--model", dir.toString(),
                "--prompt", o.text("prompt").orElse(PROMPT),
                "--max-tokens", Integer.toString(maxTokens),
                "--temperature", "0.8", "--top-p", "0.95", "--seed", "42",
                "--attention", cacheFlags.attention(),
                "--kv-type", o.text("kv-type").orElse("f16")));
        for (String budget : new String[] {"retrieval-budget", "estimation-budget"}) {
            o.text(budget).ifPresent(value -> generateArgs.addAll(List.of("--" + budget, value)));
        }
        err.println("demo: retroinfer generate " + String.join(" ", quoted(generateArgs)));
        return new GenerateCommand().run(generateArgs.toArray(String[]::new), out, err);
    }

    private static Path defaultDirectory() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("retroinfer").resolve("demo-random-model");
    }

    private static List<String> quoted(List<String> args) {
        return args.stream().map(a -> a.contains(" ") ? "'" + a + "'" : a).toList();
    }
}
