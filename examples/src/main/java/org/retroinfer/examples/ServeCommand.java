package org.retroinfer.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.Model;
import org.retroinfer.model.chat.ChatTemplate;
import org.retroinfer.serve.ApiServer;
import org.retroinfer.serve.ServeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code retroinfer serve}: the OpenAI-compatible HTTP server of the {@code serve} module. */
final class ServeCommand implements Command {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);
    static final Set<String> VALUED = GenerateCommand.union(Set.of("model", "host", "port", "device", "max-batch",
            "max-context", "kv-memory", "max-waiting", "prefill-chunk", "chat-template", "model-name", ThreadsFlag.NAME),
            Set.of("attention", "retrieval-budget", "estimation-budget"), Engine.NAMES);

    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String summary() {
        return "serve a model over an OpenAI-compatible HTTP API with continuous batching";
    }

    @Override
    public boolean takesThreads() {
        return true;
    }

    @Override
    public String help() {
        return """
                usage: retroinfer serve --model PATH [options]

                Serves the model over HTTP with OpenAI's API: POST /v1/completions and
                /v1/chat/completions (whole or streamed as server-sent events), GET /v1/models,
                GET /health and GET /metrics (Prometheus). Requests join the running batch between
                decode steps; long prompts are prefilled in chunks between them. Requests take
                max_tokens, temperature, top_p, top_k, min_p, repetition_penalty, stop, seed, stream,
                and, with --attention retro, their own retrieval_budget and estimation_budget.
                Stops on Ctrl-C (SIGINT/SIGTERM), answering what still runs with 503.

                  --model PATH         a Hugging Face model directory or a .gguf file
                  --model-name NAME    the name clients pass as "model" (default: the directory or
                                       file name, without .gguf)
                  --host ADDRESS       the address to listen on (default 127.0.0.1; 0.0.0.0 for all)
                  --port N             the port (default 8080; 0 picks a free one)
                  --device cpu|gpu     where to decode (default cpu); gpu: CUDA GPU 0, a KV slot of --max-context
                                       tokens per sequence, min(--max-batch, --kv-memory / slot) of them (retro's
                                       slots: GPU memory, and pinned host memory for what does not fit there)
                  --attention MODE     full (exact attention) or retro (RetroInfer) (default full)
                  --retrieval-budget R retro: the default fraction of clusters attended exactly (0.018)
                  --estimation-budget E retro: the default fraction of clusters estimated (0.232)
                  --host-kv int8|int4  gpu retro: the host tier's keys and values as INT8 or INT4 (default: the KV type)
                  --gpu-kv int8|int4   gpu retro: the GPU tier's keys and values as INT8 or INT4 (default: the KV type)
                  --value-sums int8    gpu retro: the index's value sums as INT8 (default: the KV type)
                  --centroids int8     gpu retro: the index's centroids as INT8 (default: the KV type)
                  --gpu-store-layers N gpu retro: at most N layers' keys and values in GPU memory (all: every
                                       layer's, no host tier)
                  --lookups L          gpu retro: the wave buffer's lookups on the host, the gpu, or auto (default:
                                       the gpu unless a retrieval zone exceeds 512 clusters)
                  --max-batch N        sequences that run at once (default 64)
                  --max-context N      prompt + max_tokens allowed per request (default: the model's context)
                  --kv-memory SIZE     KV memory of all running requests together, e.g. 512m, 4g (default 4g);
                                       each request reserves its worst case; one that can never fit gets 400
                  --max-waiting N      requests that may wait for memory or a batch slot; more get 429
                                       with Retry-After (default 256)
                  --prefill-chunk N    prompt tokens prefilled per step, between decode steps (default 256)
                  --chat-template NAME for a model without one: llama, qwen2, qwen3 or mistral
                """ + ThreadsFlag.HELP;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options o = Options.parse(name(), args, VALUED, Set.of());
        Running running = start(o, err);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "retroinfer-serve-shutdown"));
        stopped.await();
        return 0;
    }

    /** A server and the model it serves, closed together. */
    /** A started server, its model and, with --device gpu, the GPU session it decodes on (closed after the server). */
    record Running(ApiServer server, Model model, Engine engine) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
            if (engine != null) {
                engine.close();
            }
            model.close();
        }
    }

    /** Checks every option, loads the model and starts serving; for {@link #run} and tests. */
    static Running start(Options o, PrintStream err) throws IOException {
        Path modelPath = o.existingPath("model", "a model directory or .gguf file");
        ThreadsFlag.read(o);
        String host = o.text("host").orElse("127.0.0.1");
        int port = o.integer("port", ServeConfig.DEFAULT_PORT, 0, 65535);
        CacheFlags cache = CacheFlags.read(o);
        boolean gpu = Engine.wantsGpu(o, java.util.List.of(cache.mode()));
        RetroConfig retro = cache.retro();
        int maxBatch = o.integer("max-batch", ServeConfig.DEFAULT_MAX_BATCH, 1, 4096);
        long kvMemory = bytes(o, "kv-memory", ServeConfig.DEFAULT_KV_MEMORY);
        int maxWaiting = o.integer("max-waiting", ServeConfig.DEFAULT_MAX_WAITING, 1, 1 << 20);
        int chunk = o.integer("prefill-chunk", ServeConfig.DEFAULT_PREFILL_CHUNK, 1, 1 << 16);
        String templateName = o.text("chat-template").orElse(null);
        if (templateName != null && !ChatTemplate.FAMILIES.contains(templateName)) {
            throw o.error("--chat-template must be one of " + String.join(", ", ChatTemplate.FAMILIES) + ", got '"
                    + templateName + "'");
        }
        String fileName = modelPath.toAbsolutePath().normalize().getFileName().toString();
        String modelId = o.text("model-name").orElse(fileName.toLowerCase(Locale.ROOT).endsWith(".gguf")
                ? fileName.substring(0, fileName.length() - 5) : fileName);
        if (modelId.isBlank()) {
            throw o.error("--model-name must not be blank");
        }
        Model model = Model.load(modelPath);
        try {
            int context = model.config().maxPositions();
            int maxContext = o.integer("max-context", context, 2, Integer.MAX_VALUE);
            if (maxContext > context) {
                throw o.error("--max-context " + maxContext + " is more than the model's context of " + context + " tokens");
            }
            ChatTemplate template = templateName != null ? ChatTemplate.forFamily(templateName)
                    : model.chatTemplate().orElse(null);
            if (template == null) {
                LOG.warn("{} has no chat template: /v1/chat/completions answers 400 unless --chat-template names one",
                        modelPath);
            }
            ServeConfig config = new ServeConfig(modelId, host, port, retro, maxBatch, maxContext, kvMemory, maxWaiting,
                    chunk);
            ApiServer server;
            Engine engine = null;
            try {
                if (gpu) {
                    engine = Engine.open(o, model, java.util.List.of(cache.mode()), chunk + maxBatch);
                    server = ApiServer.start(model, config, template, engine.forward(),
                            engine.serverCache(o, model, cache.mode(), maxBatch, kvMemory, maxContext));
                } else {
                    server = ApiServer.start(model, config, template);
                }
            } catch (java.net.BindException e) {
                if (engine != null) engine.close();
                throw o.error("cannot listen on " + host + ":" + port + ": " + e.getMessage()
                        + "; choose another --port or --host");
            } catch (RuntimeException e) {
                if (engine != null) engine.close();
                throw e;
            }
            err.println("retroinfer serve: " + modelId + " (" + CacheFlags.describe(cache.mode()) + ", " + maxBatch
                    + " sequences at once, KV memory " + kvMemory + " bytes) on http://" + host + ":" + server.port());
            return new Running(server, model, engine);
        } catch (RuntimeException | IOException e) {
            model.close();
            throw e;
        }
    }

    /** A size in bytes: an integer or decimal, optionally with k, m, g or t (powers of 1024). */
    static long bytes(Options o, String name, long fallback) {
        String v = o.text(name).orElse(null);
        if (v == null) {
            return fallback;
        }
        String s = v.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        long unit = 1;
        if (!s.isEmpty() && "kmgt".indexOf(s.charAt(s.length() - 1)) >= 0) {
            unit = 1L << (10 * ("kmgt".indexOf(s.charAt(s.length() - 1)) + 1));
            s = s.substring(0, s.length() - 1);
        }
        double n;
        try {
            n = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw o.error("--" + name + " must be a size such as 512m or 4g, got '" + v + "'");
        }
        if (!(n * unit >= 1 && n * unit < 1L << 62)) {
            throw o.error("--" + name + " must be a positive size such as 512m or 4g, got '" + v + "'");
        }
        return (long) (n * unit);
    }
}
