package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.Model;

/** A server with RetroInfer attention, whose requests may carry their own budgets. */
class RetroServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Model model;
    static ApiServer server;

    @BeforeAll
    static void start() throws Exception {
        model = Model.load(RetroTiny.DIR);
        server = RetroTiny.start(model, RetroTiny.config(RetroConfig.defaults()));
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    @Test
    void aRequestRetrievingEveryClusterDecodesAsFullAttention() throws Exception {
        // Long enough for a wave index (more than 4 sinks + 64 window + 1024 update positions).
        String prompt = IntStream.range(0, 400).mapToObj(i -> "x" + i + " = " + (i * 7 % 13))
                .collect(Collectors.joining("\n", "", "\nx3 ="));
        int promptTokens = model.tokenizer().encode(prompt, true).length;
        assertTrue(promptTokens > 1100, promptTokens + " prompt tokens");
        String full = ApiServerTest.generatorText(model, prompt, 8);
        String body = ApiServerTest.completion(prompt, 8, ", \"retrieval_budget\": 1.0, \"estimation_budget\": 0");
        HttpResponse<String> r = RetroTiny.post(server, "/v1/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(full, JSON.readTree(r.body()).get("choices").get(0).get("text").asText());
        HttpResponse<String> paper = RetroTiny.post(server, "/v1/completions", ApiServerTest.completion(prompt, 8, ""));
        assertEquals(200, paper.statusCode(), paper.body());
        RetroTiny.awaitIdle(server);
        assertEquals(0, server.scheduler().kvMemoryBytes());
    }

    @Test
    void budgetsOutOfRangeAre400() throws Exception {
        BadInputTest.assertError(RetroTiny.post(server, "/v1/completions", ApiServerTest.completion("a", 2,
                ", \"retrieval_budget\": 0")), 400, "retrieval_budget", "retrieval_budget must be in (0, 1], got 0");
        BadInputTest.assertError(RetroTiny.post(server, "/v1/completions", ApiServerTest.completion("a", 2,
                ", \"estimation_budget\": 1.5")), 400, "estimation_budget", "estimation_budget must be in [0, 1]");
        BadInputTest.assertError(RetroTiny.post(server, "/v1/completions", ApiServerTest.completion("a", 2,
                ", \"retrieval_budget\": \"all\"")), 400, "retrieval_budget", "must be a number");
    }
}
