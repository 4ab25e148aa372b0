package org.retroinfer.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.Model;
import org.retroinfer.serve.ApiServer;
import org.retroinfer.serve.LoadClient;
import org.retroinfer.serve.ServeConfig;

/**
 * {@code retroinfer serve-bench}: the server under load, per attention mode. Starts the server on
 * loopback in this JVM, warms it up, then drives {@code --clients} concurrent streaming clients
 * through {@code --requests} completions of distinct {@code --prompt-tokens}-token prompts, and
 * reports requests per second, generated tokens per second and time to first token.
 */
final class ServeBenchCommand implements Command {
    private static final Set<String> VALUED = GenerateCommand.union(Set.of("model", "attention", "clients", "requests",
            "prompt-tokens", "max-tokens", "max-batch", "kv-memory", "warmup", "reps", "out", "kv-type", ThreadsFlag.NAME),
            Engine.NAMES);

    @Override
    public String name() {
        return "serve-bench";
    }

    @Override
    public String summary() {
        return "measure the server under concurrent streaming clients: requests/s and time to first token";
    }

    @Override
    public boolean takesThreads() {
        return true;
    }

    @Override
    public String help() {
        return """
                usage: retroinfer serve-bench --model PATH [options]

                Serves the model on loopback in this process, one server per attention mode, warms
                every server up, then drives them in turn (alternating, --reps times) with concurrent
                streaming /v1/completions clients (greedy, distinct prompts of the model's own
                tokens). Reports requests/s, requests per CPU second of this process (which other work
                on the machine does not skew), generated tokens/s and time to first token (mean, p50,
                p95) as mean ± sd over the repetitions; every stream is checked complete and
                well-formed, and a run with a malformed or failed stream fails.

                  --model PATH        a Hugging Face model directory or a .gguf file
                  --attention LIST    full, retro, or both: full,retro (default full,retro)
                  --clients N         concurrent clients (default 64)
                  --requests N        completions in all, per mode (default 2 x clients)
                  --prompt-tokens N   tokens per prompt (default 2048)
                  --max-tokens N      tokens generated per request (default 32)
                  --max-batch N       the server's --max-batch (default 64)
                  --kv-memory SIZE    the server's --kv-memory (default 4g)
                  --warmup N          completions before measuring, per mode (default: clients)
                  --reps R            measured runs per mode, the modes alternating (default 2)
                  --out FILE          also write the results as JSON
                """ + Engine.HELP + ThreadsFlag.HELP;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options o = Options.parse(name(), args, VALUED, Set.of());
        Path modelPath = o.existingPath("model", "a model directory or .gguf file");
        ThreadsFlag.read(o);
        List<AttentionMode> modes = CacheFlags.readModes(o, "full,retro");
        Engine.wantsGpu(o, modes); // refuse a bad --device before loading the model
        int clients = o.integer("clients", 64, 1, 4096);
        int requests = o.integer("requests", 2 * clients, 1, 1 << 20);
        int promptTokens = o.integer("prompt-tokens", 2048, 1, 1 << 24);
        int maxTokens = o.integer("max-tokens", 32, 1, 1 << 20);
        int maxBatch = o.integer("max-batch", ServeConfig.DEFAULT_MAX_BATCH, 1, 4096);
        long kvMemory = ServeCommand.bytes(o, "kv-memory", ServeConfig.DEFAULT_KV_MEMORY);
        int warmup = o.integer("warmup", clients, 0, 1 << 20);
        int reps = o.integer("reps", 2, 1, 100);
        Path outFile = o.text("out").map(Path::of).orElse(null);
        ObjectMapper json = new ObjectMapper();
        ObjectNode report = json.createObjectNode();
        report.put("command", "retroinfer serve-bench " + String.join(" ", args));
        report.put("date", Instant.now().toString());
        report.put("cpu", cpuName());
        report.put("threads", ComputePool.threads());
        ArrayNode runs = report.putArray("runs");
        boolean failed = false;
        try (Model model = Model.load(modelPath);
             Engine engine = Engine.open(o, model, modes, ServeConfig.DEFAULT_PREFILL_CHUNK + maxBatch)) {
            report.put("device", engine.device());
            int context = model.config().maxPositions();
            if (promptTokens + maxTokens > context) {
                throw o.error("--prompt-tokens " + promptTokens + " plus --max-tokens " + maxTokens
                        + " exceeds the model's context of " + context + " tokens");
            }
            List<int[]> prompts = prompts(model, warmup + requests * reps, promptTokens);
            err.printf("serve-bench: %d clients, %d requests of %d prompt + %d generated tokens, per mode and repetition;"
                    + " %d repetitions, modes alternating%n", clients, requests, promptTokens, maxTokens, reps);
            List<ApiServer> servers = new ArrayList<>();
            try {
                for (AttentionMode mode : modes) {
                    RetroConfig retro = mode instanceof AttentionMode.Retro r ? r.config() : null;
                    ServeConfig config = new ServeConfig("bench", "127.0.0.1", 0, retro, maxBatch, context, kvMemory,
                            Math.max(ServeConfig.DEFAULT_MAX_WAITING, clients), ServeConfig.DEFAULT_PREFILL_CHUNK);
                    if (engine.onGpu()) {
                        // as `serve --device gpu`: a slot of the model's context per sequence
                        servers.add(ApiServer.start(model, config, null, engine.forward(),
                                engine.serverCache(o, model, mode, maxBatch, kvMemory, context)));
                    } else {
                        servers.add(ApiServer.start(model, config, null));
                    }
                }
                Duration timeout = Duration.ofMinutes(30);
                // Every mode warms up before any is measured, so that no mode runs on a colder JIT than another.
                for (ApiServer server : servers) {
                    if (warmup > 0) {
                        LoadClient.run(base(server), "bench", prompts.subList(0, warmup), Math.min(clients, warmup),
                                maxTokens, timeout);
                    }
                }
                double[][] rps = new double[modes.size()][reps];
                double[][] perCpu = new double[modes.size()][reps];
                double[][] tps = new double[modes.size()][reps];
                double[][][] ttft = new double[modes.size()][reps][];
                for (int rep = 0; rep < reps; rep++) {
                    List<int[]> measured = prompts.subList(warmup + rep * requests, warmup + (rep + 1) * requests);
                    for (int m = 0; m < modes.size(); m++) {
                        ApiServer server = servers.get(m);
                        long tokensBefore = server.metrics().generatedTokens();
                        long cpuBefore = processCpuNanos();
                        LoadClient.Report r = LoadClient.run(base(server), "bench", measured, clients, maxTokens, timeout);
                        double cpuSeconds = (processCpuNanos() - cpuBefore) / 1e9;
                        long generated = server.metrics().generatedTokens() - tokensBefore;
                        rps[m][rep] = r.requestsPerSecond();
                        perCpu[m][rep] = requests / cpuSeconds;
                        tps[m][rep] = generated / r.wallSeconds();
                        ttft[m][rep] = r.firstTokenSeconds();
                        err.printf("  repetition %d, %s: %.2f requests/s, %.3f requests per CPU second, TTFT mean %.3f s%n",
                                rep + 1, modes.get(m).name(), rps[m][rep], perCpu[m][rep], ttft[m][rep][0]);
                        r.results().stream().filter(x -> !x.ok()).limit(3).forEach(x -> err.println("  failed: " + x.problem()));
                        failed |= r.failures() > 0;
                    }
                }
                for (int m = 0; m < modes.size(); m++) {
                    ObjectNode run = runs.addObject();
                    run.put("attention", CacheFlags.describe(modes.get(m)));
                    run.put("requests_per_repetition", requests);
                    putStats(run, "requests_per_second", rps[m]);
                    putStats(run, "requests_per_cpu_second", perCpu[m]);
                    putStats(run, "generated_tokens_per_second", tps[m]);
                    double[] mean = new double[reps];
                    double[] p50 = new double[reps];
                    double[] p95 = new double[reps];
                    for (int rep = 0; rep < reps; rep++) {
                        mean[rep] = ttft[m][rep][0];
                        p50[rep] = ttft[m][rep][1];
                        p95[rep] = ttft[m][rep][2];
                    }
                    putStats(run, "ttft_mean_seconds", mean);
                    putStats(run, "ttft_p50_seconds", p50);
                    putStats(run, "ttft_p95_seconds", p95);
                    out.printf("%-52s %6.2f ± %.2f requests/s (%.3f ± %.3f per CPU second) %7.1f ± %.1f tokens/s"
                                    + "   TTFT mean %.2f ± %.2f s, p50 %.2f s, p95 %.2f s%n", CacheFlags.describe(modes.get(m)),
                            mean(rps[m]), sd(rps[m]), mean(perCpu[m]), sd(perCpu[m]), mean(tps[m]), sd(tps[m]), mean(mean),
                            sd(mean), mean(p50), mean(p95));
                }
            } finally {
                for (ApiServer server : servers) {
                    server.close();
                }
            }
        }
        if (outFile != null) {
            if (outFile.getParent() != null) {
                Files.createDirectories(outFile.getParent());
            }
            json.writerWithDefaultPrettyPrinter().writeValue(outFile.toFile(), report);
        }
        return failed ? 1 : 0;
    }

    /**
     * CPU time of this process (server and clients): requests per CPU second compare modes even where
     * other work shares the cores, which wall-clock requests/s and time to first token do not.
     */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static java.net.URI base(ApiServer server) {
        return java.net.URI.create("http://127.0.0.1:" + server.port());
    }

    private static void putStats(ObjectNode node, String name, double[] values) {
        node.put(name, mean(values));
        node.put(name + "_sd", sd(values));
        ArrayNode each = node.putArray(name + "_each");
        for (double v : values) {
            each.add(v);
        }
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    /** Sample standard deviation; 0 for one value. */
    private static double sd(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v);
        return Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / (v.length - 1));
    }

    /**
     * Distinct prompts of exactly {@code tokens} of the model's own tokens: numbered lines of
     * code-like text, so that every request prefills its own keys.
     */
    private static List<int[]> prompts(Model model, int count, int tokens) {
        List<int[]> out = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            StringBuilder text = new StringBuilder("# request " + p + "\n");
            int[] ids = model.tokenizer().encode(text.toString(), true);
            for (int line = 0; ids.length < tokens; line += 64) {
                for (int i = line; i < line + 64; i++) {
                    text.append("value_").append(p).append('_').append(i).append(" = ").append((i * 31 + p) % 97)
                            .append('\n');
                }
                ids = model.tokenizer().encode(text.toString(), true);
            }
            out.add(Arrays.copyOf(ids, tokens));
        }
        return out;
    }

    private static String cpuName() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown") + ", "
                    + Runtime.getRuntime().availableProcessors() + " cores";
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
