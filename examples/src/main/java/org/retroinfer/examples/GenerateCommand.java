package org.retroinfer.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.chat.ChatMessage;
import org.retroinfer.model.generation.Completion;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.GenerationResult;
import org.retroinfer.model.generation.GenerationStats;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;
import org.retroinfer.model.tokenizer.StreamDecoder;

/** {@code retroinfer generate}: one prompt in, its continuation streamed out, with timings. */
final class GenerateCommand implements Command {
    private static final Set<String> VALUED = union(Set.of("model", "prompt", "prompt-file", "max-tokens", "prefill-chunk", "stop"),
            SamplingFlags.NAMES, CacheFlags.NAMES, Engine.NAMES);
    private static final Set<String> FLAGS = Set.of("json", "chat");

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "continue a prompt with a model, streaming the text";
    }

    @Override
    public String help() {
        return """
                usage: retroinfer generate --model PATH (--prompt TEXT | --prompt-file F) [options]

                Continues the prompt and streams the text to standard output; prompt tokens, prefill
                and decode speed go to standard error (or into the --json object).

                  --model PATH       a Hugging Face model directory (config.json, *.safetensors,
                                     tokenizer.json) or a .gguf file
                  --prompt TEXT      the prompt
                  --prompt-file F    read the prompt from a UTF-8 file instead
                  --chat             wrap the prompt as a user message in the model's chat template
                  --max-tokens N     tokens to generate at most (default 256, or what the context has room for)
                  --prefill-chunk N  prompt tokens per prefill step (default 256; 1024 with --device gpu)
                  --stop T1,T2       more tokens that end generation, as vocabulary strings (e.g. <|eot_id|>);
                                     the model's end-of-sequence tokens always do
                """ + SamplingFlags.HELP + CacheFlags.HELP + Engine.HELP + """
                  --json             print one JSON object (text, token counts, timings) instead of streaming
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Options o = Options.parse(name(), args, VALUED, FLAGS);
        Path modelPath = o.existingPath("model", "a model directory or .gguf file");
        String prompt = readPrompt(o);
        int maxTokens = o.integer("max-tokens", 256, 0, Integer.MAX_VALUE);
        int chunk = Engine.prefillChunk(o);
        CacheFlags cacheFlags = CacheFlags.read(o);
        Engine.wantsGpu(o, List.of(cacheFlags.mode())); // refuse a bad --device before loading the model
        boolean json = o.flag("json");
        try (Model model = Model.load(modelPath)) {
            SamplingParams sampling = SamplingFlags.read(o, model.generationDefaults());
            String text = prompt;
            if (o.flag("chat")) {
                text = model.chatTemplate()
                        .orElseThrow(() -> o.error("--chat needs a chat template, and " + modelPath + " has none"))
                        .render(List.of(new ChatMessage("user", prompt)), true);
            }
            int[] tokens = model.tokenizer().encode(text, !o.flag("chat"));
            if (tokens.length == 0) {
                throw o.error("the prompt is empty after tokenisation; give some text");
            }
            int context = model.config().maxPositions();
            if (tokens.length >= context) {
                throw o.error("the prompt (" + tokens.length + " tokens) does not fit the model's context of " + context
                        + " tokens; shorten it");
            }
            if (!o.has("max-tokens")) {
                maxTokens = Math.min(maxTokens, context - tokens.length);
            }
            if ((long) tokens.length + maxTokens > context) {
                throw o.error("the prompt (" + tokens.length + " tokens) plus --max-tokens " + maxTokens
                        + " exceeds the model's context of " + context + " tokens; lower --max-tokens or shorten the prompt");
            }
            Set<Integer> stops = new HashSet<>(model.generationDefaults().eosTokenIds());
            for (String stop : o.text("stop").map(t -> t.split(",")).orElse(new String[0])) {
                stops.add(model.tokenizer().tokenId(stop).orElseThrow(() -> o.error("--stop '" + stop
                        + "' is not a token of this model's vocabulary; give tokens such as its end-of-turn token")));
            }
            StreamDecoder decoder = model.tokenizer().streamDecoder(true);
            StringBuilder generated = new StringBuilder();
            ProgressBar progress = ProgressBar.onStderr("prefill", "tokens");
            GenerationListener listener = new GenerationListener() {
                @Override
                public void prefilled(int request, long done, long total) {
                    if (total >= 1024) {
                        progress.update(done, total);
                    }
                }

                @Override
                public void token(int request, int token) {
                    String piece = decoder.push(token);
                    generated.append(piece);
                    if (!json && !piece.isEmpty()) {
                        out.print(piece);
                        out.flush();
                    }
                }
            };
            GenerationResult result;
            GenerationRequest request = new GenerationRequest(tokens, maxTokens, sampling, stops);
            String device;
            try (Engine engine = Engine.open(o, model, List.of(cacheFlags.mode()), chunk);
                 KvCache cache = engine.cache(model, cacheFlags.mode(), 1, (long) tokens.length + maxTokens)) {
                device = engine.device();
                result = new Generator(engine.forward(), cache, chunk).generate(List.of(request), listener);
            }
            Completion completion = result.completions().getFirst();
            GenerationStats stats = result.stats();
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode node = mapper.createObjectNode();
                node.put("model", modelPath.toString());
                node.put("attention", cacheFlags.attention());
                node.put("device", device);
                node.put("text", generated.toString());
                node.put("prompt_tokens", tokens.length);
                node.put("generated_tokens", completion.tokens().length);
                node.putPOJO("tokens", completion.tokens());
                node.put("stop_reason", completion.reason().name().toLowerCase());
                node.put("prefill_seconds", stats.prefillNanos() / 1e9);
                node.put("prefill_tokens_per_second", stats.prefillTokensPerSecond());
                node.put("decode_seconds", stats.decodeNanos() / 1e9);
                node.put("decode_tokens_per_second", stats.decodeTokensPerSecond());
                node.put("kv_cache_bytes", stats.peakKvBytes());
                node.put("seed", sampling.seed());
                node.put("temperature", sampling.temperature());
                out.println(mapper.writeValueAsString(node));
            } else {
                out.println();
                err.printf("prompt: %d tokens, prefill %.1f tokens/s; generated %d tokens, decode %.2f tokens/s (%s)%n",
                        tokens.length, stats.prefillTokensPerSecond(), completion.tokens().length,
                        stats.decodeTokensPerSecond(), completion.reason().name().toLowerCase().replace('_', ' '));
            }
        }
        return 0;
    }

    private static String readPrompt(Options o) throws IOException {
        if (o.has("prompt") == o.has("prompt-file")) {
            throw o.error("give exactly one of --prompt TEXT or --prompt-file F");
        }
        if (o.has("prompt")) {
            return o.requireText("prompt", "the prompt text");
        }
        Path file = o.existingPath("prompt-file", "a UTF-8 text file");
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw o.error("--prompt-file " + file + " is not valid UTF-8 text");
        }
    }

    @SafeVarargs
    static Set<String> union(Set<String>... sets) {
        Set<String> all = new HashSet<>();
        for (Set<String> s : sets) {
            all.addAll(s);
        }
        return Set.copyOf(all);
    }
}
