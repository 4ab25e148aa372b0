package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.random.RandomModel;

class GenerateCommandTest {
    static final RandomModel.Spec TINY = new RandomModel.Spec(ModelFamily.LLAMA, 64, 128, 2, 4, 2, 16, 400, 256, 10000,
            new RopeScaling.None(), false, false, DType.BF16, 7);

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = dir.resolve("tiny");
        RandomModel.write(model, TINY);
    }

    @Test
    void jsonOutputReportsTextTokenCountsAndTimings() throws Exception {
        CliHarness r = CliHarness.run("generate", "--model", model.toString(), "--prompt", "The quick brown fox",
                "--max-tokens", "12", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("prompt_tokens").asInt() > 1);
        int generated = json.get("generated_tokens").asInt();
        assertTrue(generated >= 1 && generated <= 12, "generated " + generated);
        assertTrue(json.get("stop_reason").asText().matches("max_tokens|stop_token"));
        assertTrue(json.get("prefill_tokens_per_second").asDouble() > 0);
        assertTrue(json.has("text") && json.has("decode_tokens_per_second") && json.has("seed"));
    }

    @Test
    void greedyGenerationIsRepeatableAndStreamsTheSameText() throws Exception {
        String[] args = {"generate", "--model", model.toString(), "--prompt", "Numbers: 1 2 3", "--max-tokens", "10",
            "--temperature", "0"};
        CliHarness first = CliHarness.run(args);
        CliHarness second = CliHarness.run(args);
        assertEquals(0, first.exitCode(), first.err());
        assertEquals(first.out(), second.out());
        assertTrue(first.err().contains("decode") && first.err().contains("tokens/s"), first.err());
        String[] json = {"generate", "--model", model.toString(), "--prompt", "Numbers: 1 2 3", "--max-tokens", "10",
            "--temperature", "0", "--json"};
        JsonNode node = new ObjectMapper().readTree(CliHarness.run(json).out());
        assertEquals(first.out().stripTrailing(), node.get("text").asText().stripTrailing());
    }

    @Test
    void aPromptFileWorksLikeThePromptFlag() throws Exception {
        Path prompt = dir.resolve("prompt.txt");
        java.nio.file.Files.writeString(prompt, "Hello from a file");
        CliHarness fromFile = CliHarness.run("generate", "--model", model.toString(), "--prompt-file", prompt.toString(),
                "--max-tokens", "5", "--temperature", "0");
        CliHarness fromFlag = CliHarness.run("generate", "--model", model.toString(), "--prompt", "Hello from a file",
                "--max-tokens", "5", "--temperature", "0");
        assertEquals(0, fromFile.exitCode(), fromFile.err());
        assertEquals(fromFlag.out(), fromFile.out());
    }

    @Test
    void aStopTokenGivenOnTheCommandLineEndsGeneration() throws Exception {
        String[] base = {"generate", "--model", model.toString(), "--prompt", "Stop here", "--max-tokens", "8",
            "--temperature", "0", "--json"};
        JsonNode free = new ObjectMapper().readTree(CliHarness.run(base).out());
        int first = free.get("tokens").get(0).asInt();
        String token;
        try (org.retroinfer.model.Model m = org.retroinfer.model.Model.load(model)) {
            token = m.tokenizer().token(first);
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(token.contains(","), "the first token holds a comma");
        String[] stopped = java.util.Arrays.copyOf(base, base.length + 2);
        stopped[base.length] = "--stop";
        stopped[base.length + 1] = token;
        JsonNode json = new ObjectMapper().readTree(CliHarness.run(stopped).out());
        assertEquals(1, json.get("generated_tokens").asInt());
        assertEquals("stop_token", json.get("stop_reason").asText());
    }

    @Test
    void retroAttentionGeneratesAndSaysSo() throws Exception {
        String[] base = {"generate", "--model", model.toString(), "--prompt", "Numbers: 1 2 3", "--max-tokens", "10",
            "--temperature", "0", "--json"};
        String[] retro = java.util.Arrays.copyOf(base, base.length + 6);
        System.arraycopy(new String[] {"--attention", "retro", "--retrieval-budget", "0.05", "--estimation-budget", "0.5"},
                0, retro, base.length, 6);
        CliHarness r = CliHarness.run(retro);
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals("retro", json.get("attention").asText());
        // A prompt this short stays in the steady zone, which is attended exactly: the same greedy tokens.
        JsonNode full = new ObjectMapper().readTree(CliHarness.run(base).out());
        assertEquals(full.get("tokens"), json.get("tokens"));
    }

    @Test
    void helpDescribesEveryOption() {
        CliHarness r = CliHarness.run("generate", "--help");
        assertEquals(0, r.exitCode());
        for (String option : new String[] {"--model", "--prompt", "--prompt-file", "--max-tokens", "--temperature",
            "--top-p", "--top-k", "--min-p", "--seed", "--attention", "--retrieval-budget", "--estimation-budget",
            "--json"}) {
            assertTrue(r.out().contains(option), option);
        }
    }
}
