package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.chat.ChatMessage;
import org.retroinfer.model.chat.ChatTemplate;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;

class ApiServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Model model;
    static ApiServer server;

    @BeforeAll
    static void start() throws Exception {
        model = Model.load(RetroTiny.DIR);
        server = RetroTiny.start(model, RetroTiny.config(null));
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    /** The greedy continuation of {@code prompt} by the library's own Generator, alone in its cache. */
    static String generatorText(Model model, String prompt, int maxTokens) {
        ModelConfig c = model.config();
        try (KvCache cache = new DenseKvCache(new AttentionShape(c.layers(), c.heads(), c.kvHeads(), c.headDim()),
                DenseKvCache.Config.defaults())) {
            int[] tokens = new Generator(model.transformer(), cache, 256).generate(List.of(new GenerationRequest(
                    model.tokenizer().encode(prompt, true), maxTokens, SamplingParams.greedy(),
                    Set.copyOf(model.generationDefaults().eosTokenIds()))), GenerationListener.NONE)
                    .completions().getFirst().tokens();
            return model.tokenizer().decode(tokens, true);
        }
    }

    static String completion(String prompt, int maxTokens, String extra) {
        return "{\"model\": \"retro-tiny\", \"prompt\": " + JSON.valueToTree(prompt) + ", \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0" + extra + "}";
    }

    /** Concatenated text of an SSE body, checking its framing; the last element is the finish reason. */
    static List<String> streamed(String body, String object, boolean chat) throws Exception {
        StringBuilder text = new StringBuilder();
        String finish = null;
        String[] events = body.split("\n\n");
        assertEquals("data: [DONE]", events[events.length - 1].strip(), body);
        for (int i = 0; i < events.length - 1; i++) {
            String e = events[i];
            if (e.startsWith(":")) {
                continue;
            }
            assertTrue(e.startsWith("data: "), e);
            JsonNode chunk = JSON.readTree(e.substring(6));
            assertEquals(object, chunk.get("object").asText(), e);
            JsonNode choice = chunk.get("choices").get(0);
            if (choice == null) {
                continue;
            }
            text.append(chat ? choice.path("delta").path("content").asText("") : choice.get("text").asText());
            if (!choice.get("finish_reason").isNull()) {
                assertEquals(null, finish, "one finish reason per stream");
                finish = choice.get("finish_reason").asText();
            }
        }
        return List.of(text.toString(), String.valueOf(finish));
    }

    @Test
    void aGreedyCompletionIsTheGeneratorsTextWithUsage() throws Exception {
        String prompt = "def fibonacci(n):";
        HttpResponse<String> r = RetroTiny.post(server, "/v1/completions", completion(prompt, 12, ""));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("text_completion", body.get("object").asText());
        assertEquals("retro-tiny", body.get("model").asText());
        assertTrue(body.get("id").asText().startsWith("cmpl-"));
        JsonNode choice = body.get("choices").get(0);
        String expected = generatorText(model, prompt, 12);
        assertEquals(expected, choice.get("text").asText());
        JsonNode usage = body.get("usage");
        assertEquals(model.tokenizer().encode(prompt, true).length, usage.get("prompt_tokens").asInt());
        int completionTokens = usage.get("completion_tokens").asInt();
        assertEquals(choice.get("finish_reason").asText().equals("length") ? 12 : completionTokens, completionTokens);
        assertEquals(usage.get("prompt_tokens").asInt() + completionTokens, usage.get("total_tokens").asInt());
    }

    @Test
    void aStreamedCompletionCarriesTheSameTextInChunksThenDone() throws Exception {
        String prompt = "import numpy as np\n";
        String whole = JSON.readTree(RetroTiny.post(server, "/v1/completions", completion(prompt, 10, "")).body())
                .get("choices").get(0).get("text").asText();
        HttpResponse<String> r = RetroTiny.post(server, "/v1/completions",
                completion(prompt, 10, ", \"stream\": true, \"stream_options\": {\"include_usage\": true}"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        List<String> streamed = streamed(r.body(), "text_completion", false);
        assertEquals(whole, streamed.get(0));
        assertTrue(Set.of("length", "stop").contains(streamed.get(1)), streamed.get(1));
        assertTrue(r.body().contains("\"usage\":{\"prompt_tokens\""), "include_usage adds a usage chunk: " + r.body());
    }

    @Test
    void aStopStringEndsTheTextBeforeIt() throws Exception {
        String prompt = "The following is a list of Python keywords:";
        String whole = generatorText(model, prompt, 24);
        // A stop string from the middle of the greedy text: the answer is the text before it.
        String stop = whole.substring(whole.length() / 2, whole.length() / 2 + 3);
        HttpResponse<String> r = RetroTiny.post(server, "/v1/completions",
                completion(prompt, 24, ", \"stop\": [\"\\u0000never\", " + JSON.valueToTree(stop) + "]"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode choice = JSON.readTree(r.body()).get("choices").get(0);
        assertEquals(whole.substring(0, whole.indexOf(stop)), choice.get("text").asText(), "stop " + stop);
        assertEquals("stop", choice.get("finish_reason").asText());
        HttpResponse<String> s = RetroTiny.post(server, "/v1/completions",
                completion(prompt, 24, ", \"stream\": true, \"stop\": " + JSON.valueToTree(stop)));
        assertEquals(List.of(whole.substring(0, whole.indexOf(stop)), "stop"), streamed(s.body(), "text_completion", false));
    }

    @Test
    void chatCompletionsUseTheTemplateWholeAndStreamed() throws Exception {
        String body = "{\"model\": \"retro-tiny\", \"max_tokens\": 8, \"temperature\": 0, \"messages\": ["
                + "{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": [{\"type\": "
                + "\"text\", \"text\": \"What is a list?\"}]}]";
        HttpResponse<String> r = RetroTiny.post(server, "/v1/chat/completions", body + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode json = JSON.readTree(r.body());
        assertEquals("chat.completion", json.get("object").asText());
        assertTrue(json.get("id").asText().startsWith("chatcmpl-"));
        JsonNode message = json.get("choices").get(0).get("message");
        assertEquals("assistant", message.get("role").asText());
        int promptTokens = model.tokenizer().encode(ChatTemplate.forFamily("qwen2").render(
                List.of(ChatMessage.system("Be brief."),
                        ChatMessage.user("What is a list?")), true), false).length;
        assertEquals(promptTokens, json.get("usage").get("prompt_tokens").asInt());
        HttpResponse<String> s = RetroTiny.post(server, "/v1/chat/completions", body + ", \"stream\": true}");
        assertEquals(200, s.statusCode(), s.body());
        assertTrue(s.body().startsWith("data: {") && s.body().contains("\"delta\":{\"role\":\"assistant\""), s.body());
        assertEquals(message.get("content").asText(), streamed(s.body(), "chat.completion.chunk", true).get(0));
    }

    @Test
    void concurrentRequestsJoinOneBatchAndEachGetsItsSoloText() throws Exception {
        List<String> prompts = List.of("class Stack:", "for i in range(10):", "# Licensed under the Apache License",
                "import os\nimport sys\n", "def main():\n    parser = ", "The quick brown fox", "x = [1, 2, 3]\n",
                "Copyright (c) 2020");
        List<String> expected = prompts.stream().map(p -> generatorText(model, p, 10)).toList();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (String p : prompts) {
                answers.add(pool.submit(() -> RetroTiny.post(server, "/v1/completions", completion(p, 10, ""))));
            }
            for (int i = 0; i < prompts.size(); i++) {
                HttpResponse<String> r = answers.get(i).get();
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(expected.get(i), JSON.readTree(r.body()).get("choices").get(0).get("text").asText(),
                        "prompt " + prompts.get(i));
            }
        }
        RetroTiny.awaitIdle(server);
        assertEquals(0, server.scheduler().kvMemoryBytes());
    }

    @Test
    void aClientThatDisconnectsHasItsSequenceFreed() throws Exception {
        String body = completion("def f(x):", 3000, ", \"stream\": true");
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            // the scheduler publishes its counts after each step, and a step sends its token before
            // that: a second token proves the first step's counts are out
            int tokens = 0;
            for (String line = in.readLine(); line != null && tokens < 2; line = in.readLine()) {
                assertTrue(!line.startsWith("HTTP/1.1") || line.contains("200"), line);
                tokens += line.contains("data: {") ? 1 : 0;
            }
            assertEquals(2, tokens, "two streamed tokens");
            assertEquals(1, server.scheduler().running(), "the stream is running");
            assertTrue(server.scheduler().kvMemoryBytes() > 0);
        }
        long start = System.nanoTime();
        RetroTiny.awaitIdle(server);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(0, server.scheduler().running(), "the sequence of a client that left is freed");
        assertEquals(0, server.scheduler().kvMemoryBytes());
        assertEquals(0, server.scheduler().kvReservedBytes());
        assertTrue(seconds < 3, "freed " + seconds + " s after the client left, long before its 3000 tokens");
        assertTrue(RetroTiny.get(server, "/metrics").body().contains("retroinfer_requests_cancelled_total 1"));
    }

    /** Whole responses too: the server writes a space a second while it works, so a failed write tells it the client left. */
    @Test
    void aNonStreamingClientThatDisconnectsHasItsSequenceFreed() throws Exception {
        String body = completion("def f(x):", 3000, "");
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String status = in.readLine(); // the 200 comes with the first space, a second into the work
            assertTrue(status != null && status.contains("200"), "status line: " + status);
            assertEquals(1, server.scheduler().running(), "the request is running");
        }
        long start = System.nanoTime();
        RetroTiny.awaitIdle(server);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(0, server.scheduler().running(), "the sequence of a client that left is freed");
        assertEquals(0, server.scheduler().kvMemoryBytes());
        assertEquals(0, server.scheduler().kvReservedBytes());
        assertTrue(seconds < 4, "freed " + seconds + " s after the client left, long before its 3000 tokens");
    }

    @Test
    void modelsHealthAndMetricsAnswer() throws Exception {
        JsonNode models = JSON.readTree(RetroTiny.get(server, "/v1/models").body());
        assertEquals("list", models.get("object").asText());
        assertEquals("retro-tiny", models.get("data").get(0).get("id").asText());
        assertEquals("model", models.get("data").get(0).get("object").asText());
        assertEquals(4096, models.get("data").get(0).get("max_model_len").asInt());
        assertEquals(200, RetroTiny.get(server, "/v1/models/retro-tiny").statusCode());
        assertEquals("ok", JSON.readTree(RetroTiny.get(server, "/health").body()).get("status").asText());
        RetroTiny.post(server, "/v1/completions", completion("a", 2, ""));
        HttpResponse<String> metrics = RetroTiny.get(server, "/metrics");
        assertTrue(metrics.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
        for (String line : metrics.body().split("\n")) {
            assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ")
                    || line.matches("[a-z_]+(\\{[^}]*\\})? [-+0-9.eE]+|[a-z_]+(\\{[^}]*\\})? \\+?Inf"),
                    "not Prometheus text: " + line);
        }
        for (String name : List.of("retroinfer_generation_tokens_per_second", "retroinfer_requests_in_flight",
                "retroinfer_queue_length", "retroinfer_kv_memory_bytes{tier=\"cpu\"}",
                "retroinfer_time_to_first_token_seconds_count", "retroinfer_generation_tokens_total",
                "retroinfer_http_responses_total{endpoint=\"/v1/completions\",status=\"200\"}")) {
            assertTrue(metrics.body().contains("\n" + name + " "), name + " missing from\n" + metrics.body());
        }
    }
}
