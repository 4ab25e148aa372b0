package org.retroinfer.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The server's counters, rendered in Prometheus' text format for {@code GET /metrics}. Counters
 * are updated from the scheduler and the HTTP threads; gauges are read from the scheduler when
 * rendered.
 */
public final class ServerMetrics {
    /** Upper bounds of the time-to-first-token histogram, in seconds. */
    private static final double[] TTFT_BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    /** Seconds over which {@code retroinfer_generation_tokens_per_second} is averaged. */
    private static final int RATE_WINDOW = 10;

    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final Map<String, LongAdder> finished = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> responses = new ConcurrentHashMap<>();
    private final long[] ttftBuckets = new long[TTFT_BUCKETS.length];
    private long ttftCount;
    private double ttftSum;
    /** Generated tokens per second of the clock, a ring of the last {@link #RATE_WINDOW} + 1 seconds. */
    private final long[] tokensInSecond = new long[RATE_WINDOW + 1];
    private final long[] secondOfSlot = new long[RATE_WINDOW + 1];
    private final LongSupplier clockSeconds;

    public ServerMetrics() {
        this(() -> System.nanoTime() / 1_000_000_000L);
    }

    ServerMetrics(LongSupplier clockSeconds) {
        this.clockSeconds = clockSeconds;
    }

    /** Tokens generated since the server started. */
    public long generatedTokens() {
        return generatedTokens.sum();
    }

    void promptTokens(int n) {
        promptTokens.add(n);
    }

    void generatedTokens(int n) {
        generatedTokens.add(n);
        long now = clockSeconds.getAsLong();
        synchronized (tokensInSecond) {
            int slot = (int) (now % tokensInSecond.length);
            if (secondOfSlot[slot] != now) {
                secondOfSlot[slot] = now;
                tokensInSecond[slot] = 0;
            }
            tokensInSecond[slot] += n;
        }
    }

    /** Generated tokens per second over the last {@link #RATE_WINDOW} whole seconds. */
    double tokensPerSecond() {
        long now = clockSeconds.getAsLong();
        long total = 0;
        synchronized (tokensInSecond) {
            for (int i = 0; i < tokensInSecond.length; i++) {
                if (secondOfSlot[i] < now && secondOfSlot[i] >= now - RATE_WINDOW) {
                    total += tokensInSecond[i];
                }
            }
        }
        return (double) total / RATE_WINDOW;
    }

    synchronized void firstToken(double seconds) {
        for (int i = 0; i < TTFT_BUCKETS.length; i++) {
            if (seconds <= TTFT_BUCKETS[i]) {
                ttftBuckets[i]++;
            }
        }
        ttftCount++;
        ttftSum += seconds;
    }

    void finished(SequenceListener.FinishReason reason) {
        finished.computeIfAbsent(reason.openAiName(), k -> new LongAdder()).increment();
    }

    void cancelled() {
        cancelled.increment();
    }

    void response(String endpoint, int status) {
        responses.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
    }

    /** The Prometheus text exposition of every metric. */
    String render(BatchScheduler scheduler, ServeConfig config) {
        StringBuilder b = new StringBuilder();
        gauge(b, "retroinfer_requests_in_flight", "Requests running: prefilling or decoding.", scheduler.running());
        gauge(b, "retroinfer_queue_length", "Requests waiting for KV memory or a batch slot.", scheduler.waiting());
        counter(b, "retroinfer_prompt_tokens_total", "Prompt tokens prefilled.", promptTokens.sum());
        counter(b, "retroinfer_generation_tokens_total", "Tokens generated.", generatedTokens.sum());
        gauge(b, "retroinfer_generation_tokens_per_second",
                "Tokens generated per second, averaged over the last " + RATE_WINDOW + " seconds.", tokensPerSecond());
        help(b, "retroinfer_kv_memory_bytes", "gauge",
                "KV cache memory held, by tier (cpu: off-heap host memory; gpu: device memory of the GPU cache's slots;"
                        + " host: pinned host memory the GPU reads, RetroInfer's host tier).");
        java.util.Map<String, Long> tiers = scheduler.kvMemoryBytesByTier();
        for (String tier : tiers.isEmpty() ? java.util.List.of("cpu") : new java.util.TreeSet<>(tiers.keySet())) {
            b.append("retroinfer_kv_memory_bytes{tier=\"").append(tier).append("\"} ").append(tiers.getOrDefault(tier, 0L))
                    .append('\n');
        }
        java.util.OptionalDouble hitRatio = scheduler.cacheHitRatio();
        if (hitRatio.isPresent()) {
            gauge(b, "retroinfer_cache_hit_ratio",
                    "Retrieved clusters found in RetroInfer's GPU block cache, as a fraction of those retrieved so far.",
                    hitRatio.getAsDouble());
        }
        gauge(b, "retroinfer_kv_memory_reserved_bytes",
                "KV memory reserved by running requests: each reserves its worst case at admission.",
                scheduler.kvReservedBytes());
        gauge(b, "retroinfer_kv_memory_limit_bytes", "The KV memory limit (--kv-memory).", scheduler.kvLimitBytes());
        help(b, "retroinfer_time_to_first_token_seconds", "histogram",
                "Seconds from a request's arrival to its first generated token.");
        synchronized (this) {
            for (int i = 0; i < TTFT_BUCKETS.length; i++) {
                b.append("retroinfer_time_to_first_token_seconds_bucket{le=\"").append(number(TTFT_BUCKETS[i]))
                        .append("\"} ").append(ttftBuckets[i]).append('\n');
            }
            b.append("retroinfer_time_to_first_token_seconds_bucket{le=\"+Inf\"} ").append(ttftCount).append('\n');
            b.append("retroinfer_time_to_first_token_seconds_sum ").append(number(ttftSum)).append('\n');
            b.append("retroinfer_time_to_first_token_seconds_count ").append(ttftCount).append('\n');
        }
        help(b, "retroinfer_requests_finished_total", "counter", "Requests that finished, by OpenAI finish_reason.");
        for (Map.Entry<String, Long> e : snapshot(finished).entrySet()) {
            b.append("retroinfer_requests_finished_total{finish_reason=\"").append(e.getKey()).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        counter(b, "retroinfer_requests_cancelled_total",
                "Requests whose client disconnected before they finished; their sequences were freed.", cancelled.sum());
        help(b, "retroinfer_http_responses_total", "counter", "HTTP responses, by endpoint and status.");
        for (Map.Entry<String, Long> e : snapshot(responses).entrySet()) {
            String[] parts = e.getKey().split("\u0000");
            b.append("retroinfer_http_responses_total{endpoint=\"").append(parts[0]).append("\",status=\"")
                    .append(parts[1]).append("\"} ").append(e.getValue()).append('\n');
        }
        help(b, "retroinfer_info", "gauge", "The served model and attention.");
        b.append("retroinfer_info{model=\"").append(escape(config.modelId())).append("\",attention=\"")
                .append(config.attention()).append("\",device=\"cpu\"} 1\n");
        return b.toString();
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counters) {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    private static void help(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void gauge(StringBuilder b, String name, String help, double value) {
        help(b, name, "gauge", help);
        b.append(name).append(' ').append(number(value)).append('\n');
    }

    private static void counter(StringBuilder b, String name, String help, long value) {
        help(b, name, "counter", help);
        b.append(name).append(' ').append(value).append('\n');
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.6g", v);
    }

    private static String escape(String label) {
        return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
