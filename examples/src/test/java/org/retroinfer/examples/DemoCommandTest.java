package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code retroinfer demo} on the project's model, found the way the launcher tells it, at a short context. */
class DemoCommandTest {
    @Test
    void demoAnswersTheNeedleWithFullAndRetroAttentionAndComparesTheirSpeed() throws Exception {
        String home = System.getProperty(DemoCommand.HOME_PROPERTY);
        CliHarness r;
        try {
            System.setProperty(DemoCommand.HOME_PROPERTY, "..");
            // 1200 tokens: just long enough for RetroInfer to index the prompt rather than attend to it densely
            r = CliHarness.run("demo", "--context", "1200", "--decode-tokens", "12", "--no-warm-up", "--json");
        } finally {
            if (home == null) {
                System.clearProperty(DemoCommand.HOME_PROPERTY);
            } else {
                System.setProperty(DemoCommand.HOME_PROPERTY, home);
            }
        }
        assertEquals(0, r.exitCode(), r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertEquals("models/retro-tiny", report.get("model").asText());
        assertEquals("niah_single_1", report.get("task").asText());
        int promptTokens = report.get("promptTokens").asInt();
        assertTrue(promptTokens > 1092 && promptTokens <= 1200 - 9, "prompt of " + promptTokens + " tokens");
        String key = report.get("question").asText()
                .replaceAll("^What is the special magic number for (\\S+) mentioned in the provided text\\?$", "$1");
        assertTrue(key.matches("[a-z]+-[a-z]+"), report.get("question").asText());
        assertTrue(report.get("expected").asText().matches("[1-9]\\d{6}\\."), report.toString());
        JsonNode runs = report.get("runs");
        assertEquals(2, runs.size());
        assertEquals("full", runs.get(0).get("attention").asText());
        assertEquals("retro", runs.get(1).get("attention").asText());
        assertTrue(runs.get(0).get("right").asBoolean(), "full attention finds the needle: " + runs.get(0));
        assertEquals(report.get("expected").asText(), runs.get(0).get("answer").asText());
        for (JsonNode run : runs) {
            assertEquals(promptTokens, run.get("promptTokens").asInt());
            assertEquals(11, run.get("decodeTokens").asInt(), "the first of 12 tokens comes from prefill");
            assertTrue(run.get("decodeTokensPerSecond").asDouble() > 0 && run.get("prefillTokensPerSecond").asDouble() > 0);
        }
        double speedup = report.get("retroDecodeSpeedup").asDouble();
        double full = runs.get(0).get("decodeTokensPerSecond").asDouble();
        assertEquals(runs.get(1).get("decodeTokensPerSecond").asDouble() / full, speedup, 1e-9);
    }
}
