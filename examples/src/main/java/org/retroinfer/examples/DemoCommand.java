package org.retroinfer.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
                --model-dir) and generates from it, streaming the text and reporting prefill and
                decode speed. The model is random, so its text is gibberish: the demo shows the
                engine running end to end, not a trained model's quality. With --attention retro, a
                prompt shorter than 1092 tokens is attended densely until 1024 generated tokens are
                indexed.

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
        CacheFlags cacheFlags = CacheFlags.read(o);
        if (!Files.exists(dir.resolve("config.json"))) {
            err.println("demo: writing a random demo model to " + dir + " (once)...");
            RandomModel.write(dir, RandomModel.Spec.demo());
        }
        err.println("""
                demo: NOTE - this model has random weights (the project's own trained model is not released yet),
                demo: so the text below is gibberish. It shows tokenisation, chunked prefill, the KV cache,
                demo: sampling and streaming working end to end, and how fast they run on this machine.""");
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
