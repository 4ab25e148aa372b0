package org.retroinfer.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Drives a server with concurrent streaming completions and checks every stream as it reads it:
 * SSE {@code data:} lines of well-formed {@code text_completion} chunks, exactly one finish
 * reason, then {@code [DONE]} and nothing after. Measures each request's time to first token
 * (the first chunk with text) and the whole run's requests per second. For the load test and the
 * {@code serve-bench} command.
 */
public final class LoadClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One streamed request as the client saw it.
     *
     * @param problem what was malformed or missing, or null where the stream was complete and well-formed
     */
    public record StreamResult(int status, String text, String finishReason, int textChunks, double firstTokenSeconds,
                               double seconds, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    /** A run: every request's result and the wall time of all of them. */
    public record Report(List<StreamResult> results, double wallSeconds) {
        public double requestsPerSecond() {
            return results.size() / wallSeconds;
        }

        public long failures() {
            return results.stream().filter(r -> !r.ok()).count();
        }

        /** Time to first token: {mean, p50, p95} in seconds, over the complete streams. */
        public double[] firstTokenSeconds() {
            double[] t = results.stream().filter(StreamResult::ok).mapToDouble(StreamResult::firstTokenSeconds)
                    .sorted().toArray();
            if (t.length == 0) {
                return new double[] {Double.NaN, Double.NaN, Double.NaN};
            }
            return new double[] {Arrays.stream(t).average().orElseThrow(), percentile(t, 0.50), percentile(t, 0.95)};
        }

        private static double percentile(double[] sorted, double p) {
            return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
        }
    }

    private LoadClient() {}

    /**
     * Sends {@code prompts.size()} streamed completions from {@code clients} concurrent clients,
     * each client taking the next prompt when its stream ends. A prompt is a string or an
     * {@code int[]} of token ids.
     */
    public static Report run(URI base, String model, List<?> prompts, int clients, int maxTokens,
                             Duration timeout) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        StreamResult[] results = new StreamResult[prompts.size()];
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                running.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < prompts.size(); i = next.getAndIncrement()) {
                        results[i] = stream(http, base, model, prompts.get(i), maxTokens, i, timeout);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        }
        return new Report(List.of(results), (System.nanoTime() - start) / 1e9);
    }

    /** One streamed completion, greedy with a seed per request, checked line by line. */
    static StreamResult stream(HttpClient http, URI base, String model, Object prompt, int maxTokens, long seed,
                               Duration timeout) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        body.set("prompt", JSON.valueToTree(prompt));
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        body.put("seed", seed);
        body.put("stream", true);
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/v1/completions")).timeout(timeout)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
        long start = System.nanoTime();
        double first = Double.NaN;
        StringBuilder text = new StringBuilder();
        String finish = null;
        int chunks = 0;
        try {
            HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
            if (response.statusCode() != 200) {
                String error = String.join("\n", response.body().toList());
                return new StreamResult(response.statusCode(), "", null, 0, first, seconds(start),
                        "status " + response.statusCode() + ": " + error);
            }
            if (!response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
                return problem(response.statusCode(), start, "Content-Type is not text/event-stream");
            }
            boolean done = false;
            Iterator<String> lines = response.body().iterator();
            while (lines.hasNext()) {
                String line = lines.next();
                if (line.isEmpty() || line.startsWith(":")) {
                    continue;
                }
                if (done) {
                    return problem(200, start, "data after [DONE]: " + line);
                }
                if (!line.startsWith("data: ")) {
                    return problem(200, start, "a line that is not an SSE data line: " + line);
                }
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                JsonNode chunk = JSON.readTree(data);
                JsonNode choice = chunk.path("choices").path(0);
                if (!"text_completion".equals(chunk.path("object").asText()) || !choice.path("text").isTextual()
                        || !chunk.path("id").isTextual()) {
                    return problem(200, start, "a malformed chunk: " + data);
                }
                if (finish != null) {
                    return problem(200, start, "a chunk after the finish reason: " + data);
                }
                String piece = choice.get("text").asText();
                if (!piece.isEmpty()) {
                    if (chunks == 0) {
                        first = seconds(start);
                    }
                    chunks++;
                    text.append(piece);
                }
                if (!choice.path("finish_reason").isNull()) {
                    finish = choice.path("finish_reason").asText();
                }
            }
            String problem = !done ? "the stream ended without [DONE]"
                    : finish == null ? "no chunk gave a finish reason"
                    : chunks == 0 && finish.equals("length") ? "no text before finish_reason length" : null;
            if (chunks == 0) {
                first = seconds(start);
            }
            return new StreamResult(200, text.toString(), finish, chunks, first, seconds(start), problem);
        } catch (Exception e) {
            return problem(-1, start, e.toString());
        }
    }

    private static StreamResult problem(int status, long start, String what) {
        return new StreamResult(status, "", null, 0, Double.NaN, seconds(start), what);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
