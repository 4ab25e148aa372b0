package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.model.Model;

/** Every malformed request gets OpenAI's error object with the right status, parameter and message. */
class BadInputTest {
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

    static final String OK = "\"model\": \"retro-tiny\", \"prompt\": \"Hello\"";
    static final String CHAT = "\"model\": \"retro-tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]";

    static Arguments bad(String path, String body, int status, String param, String message) {
        return Arguments.of(path, body, status, param, message);
    }

    static Stream<Arguments> table() {
        String longPrompt = IntStream.range(0, 4100).mapToObj(i -> "7").collect(Collectors.joining(",", "[", "]"));
        return Stream.of(
                bad("/v1/completions", "{\"model\": \"retro-tiny\", \"prompt\": ", 400, null, "could not parse the JSON body"),
                bad("/v1/completions", "[1, 2]", 400, null, "must be a JSON object"),
                bad("/v1/completions", "", 400, null, "body is empty"),
                bad("/v1/completions", "{" + OK + "} trailing", 400, null, "could not parse the JSON body"),
                bad("/v1/completions", "{" + OK + ", \"prompt\": \"again\"}", 400, null, "Duplicate field 'prompt'"),
                bad("/v1/completions", "{\"prompt\": \"Hello\"}", 400, "model", "you must provide a model"),
                bad("/v1/completions", "{\"model\": 5, \"prompt\": \"Hello\"}", 400, "model", "model must be a string"),
                bad("/v1/completions", "{\"model\": \"gpt-4\", \"prompt\": \"Hello\"}", 404, "model",
                        "The model 'gpt-4' does not exist"),
                bad("/v1/completions", "{\"model\": \"retro-tiny\"}", 400, "prompt", "you must provide a prompt"),
                bad("/v1/completions", "{\"model\": \"retro-tiny\", \"prompt\": {\"a\": 1}}", 400, "prompt",
                        "prompt must be a string or a list of token ids, got an object"),
                bad("/v1/completions", "{\"model\": \"retro-tiny\", \"prompt\": [\"a\", \"b\"]}", 400, "prompt",
                        "one prompt per request"),
                bad("/v1/completions", "{\"model\": \"retro-tiny\", \"prompt\": [1, 99999]}", 400, "prompt",
                        "prompt[1] must be a token id in [0, 4096)"),
                bad("/v1/completions", "{" + OK + ", \"max_tokens\": -1}", 400, "max_tokens", "max_tokens must be at least 1"),
                bad("/v1/completions", "{" + OK + ", \"max_tokens\": \"ten\"}", 400, "max_tokens",
                        "max_tokens must be an integer, got a string"),
                bad("/v1/completions", "{" + OK + ", \"max_tokens\": 1.5}", 400, "max_tokens", "must be an integer"),
                bad("/v1/completions", "{" + OK + ", \"temperature\": 2.5}", 400, "temperature",
                        "temperature must be in [0, 2], got 2.5"),
                bad("/v1/completions", "{" + OK + ", \"temperature\": -0.1}", 400, "temperature", "must be in [0, 2]"),
                bad("/v1/completions", "{" + OK + ", \"top_p\": 1.5}", 400, "top_p", "top_p must be in (0, 1], got 1.5"),
                bad("/v1/completions", "{" + OK + ", \"top_p\": 0}", 400, "top_p", "top_p must be in (0, 1]"),
                bad("/v1/completions", "{" + OK + ", \"min_p\": 1}", 400, "min_p", "min_p must be in [0, 1)"),
                bad("/v1/completions", "{" + OK + ", \"top_k\": \"x\"}", 400, "top_k", "top_k must be an integer"),
                bad("/v1/completions", "{" + OK + ", \"seed\": 1.5}", 400, "seed", "seed must be a 64-bit integer"),
                bad("/v1/completions", "{" + OK + ", \"stop\": 5}", 400, "stop", "stop must be a string or a list"),
                bad("/v1/completions", "{" + OK + ", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", 400, "stop",
                        "at most 4 stop strings"),
                bad("/v1/completions", "{" + OK + ", \"stream\": \"yes\"}", 400, "stream", "stream must be a boolean"),
                bad("/v1/completions", "{" + OK + ", \"stream_options\": {\"include_usage\": true}}", 400,
                        "stream_options", "only allowed when stream is true"),
                bad("/v1/completions", "{" + OK + ", \"foo\": 1}", 400, "foo", "Unrecognized request argument supplied: foo"),
                bad("/v1/completions", "{" + OK + ", \"n\": 2}", 400, "n", "n must be 1"),
                bad("/v1/completions", "{" + OK + ", \"logprobs\": 5}", 400, "logprobs", "log-probabilities are not supported"),
                bad("/v1/completions", "{" + OK + ", \"presence_penalty\": 0.5}", 400, "presence_penalty",
                        "presence_penalty is not supported"),
                bad("/v1/completions", "{" + OK + ", \"retrieval_budget\": 0.1}", 400, "retrieval_budget",
                        "apply only to a server started with --attention retro"),
                bad("/v1/completions", "{\"model\": \"retro-tiny\", \"prompt\": " + longPrompt + "}", 400, "prompt",
                        "maximum context length is 4096 tokens, and the prompt alone has 4100"),
                bad("/v1/completions", "{" + OK + ", \"max_tokens\": 5000}", 400, "max_tokens",
                        "maximum context length is 4096 tokens. However, you requested 500"),
                bad("/v1/chat/completions", "{\"model\": \"retro-tiny\"}", 400, "messages", "you must provide messages"),
                bad("/v1/chat/completions", "{\"model\": \"retro-tiny\", \"messages\": []}", 400, "messages",
                        "messages must be a non-empty list"),
                bad("/v1/chat/completions", "{\"model\": \"retro-tiny\", \"messages\": [{\"role\": \"robot\", "
                        + "\"content\": \"Hi\"}]}", 400, "messages[0].role", "messages[0].role must be one of system, user"),
                bad("/v1/chat/completions", "{\"model\": \"retro-tiny\", \"messages\": [{\"role\": \"user\", "
                        + "\"content\": 5}]}", 400, "messages[0].content", "must be a string or a list of text parts"),
                bad("/v1/chat/completions", "{" + CHAT + ", \"tools\": [{\"type\": \"function\"}]}", 400, "tools",
                        "tools (function calling) are not supported"),
                bad("/v1/chat/completions", "{" + CHAT + ", \"tool_choice\": \"auto\"}", 400, "tool_choice",
                        "tool_choice is not supported by this server"),
                bad("/v1/chat/completions", "{" + CHAT + ", \"max_tokens\": 0}", 400, "max_tokens",
                        "max_tokens must be at least 1"),
                bad("/v1/chat/completions", "{" + CHAT + ", \"prompt\": \"x\"}", 400, "prompt",
                        "Unrecognized request argument supplied: prompt"));
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @MethodSource("table")
    void isAnsweredWithOpenAisErrorObject(String path, String body, int status, String param, String message)
            throws Exception {
        HttpResponse<String> r = RetroTiny.post(server, path, body);
        assertError(r, status, param, message);
    }

    static void assertError(HttpResponse<String> r, int status, String param, String message) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertTrue(error.get("message").asText().contains(message), error.get("message").asText());
        assertEquals(param, error.get("param").isNull() ? null : error.get("param").asText(), r.body());
        assertTrue(error.has("type") && error.has("code"), r.body());
        assertEquals(status >= 500 ? "server_error" : status == 429 ? "rate_limit_error" : "invalid_request_error",
                error.get("type").asText());
    }

    @Test
    void unknownEndpointsAndWrongMethodsAre404And405() throws Exception {
        HttpResponse<String> missing = RetroTiny.get(server, "/v1/engines");
        assertError(missing, 404, null, "Unknown endpoint GET /v1/engines");
        assertEquals("unknown_url", JSON.readTree(missing.body()).get("error").get("code").asText());
        HttpResponse<String> get = RetroTiny.get(server, "/v1/completions");
        assertError(get, 405, null, "Method GET is not allowed on /v1/completions; use POST");
        assertEquals("POST", get.headers().firstValue("Allow").orElseThrow());
        assertError(RetroTiny.post(server, "/health", "{}"), 405, null, "use GET");
        assertError(RetroTiny.get(server, "/v1/models/gpt-4"), 404, "model", "The model 'gpt-4' does not exist");
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        byte[] huge = new byte[ApiServer.MAX_BODY_BYTES + 10];
        java.util.Arrays.fill(huge, (byte) ' ');
        HttpResponse<String> r = RawBody.post(server, huge);
        assertError(r, 413, null, "larger than " + ApiServer.MAX_BODY_BYTES + " bytes");
    }

    @Test
    void afterAllOfItTheServerIsHealthyAndHoldsNoMemory() throws Exception {
        for (Arguments a : table().toList()) {
            RetroTiny.post(server, (String) a.get()[0], (String) a.get()[1]);
        }
        assertEquals(200, RetroTiny.post(server, "/v1/completions", "{" + OK + ", \"max_tokens\": 2}").statusCode());
        RetroTiny.awaitIdle(server);
        assertEquals(0, server.scheduler().kvMemoryBytes());
        assertEquals(0, server.scheduler().kvReservedBytes());
        assertEquals(200, RetroTiny.get(server, "/health").statusCode());
    }

    /** Posts raw bytes. */
    static final class RawBody {
        static HttpResponse<String> post(ApiServer server, byte[] body) throws Exception {
            return RetroTiny.client().send(HttpRequest.newBuilder(RetroTiny.base(server).resolve("/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
