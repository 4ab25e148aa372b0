package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.random.RandomModel;

class BenchAndDemoCommandTest {
    /** A tiny model with room for prompts long enough to be indexed (1092 positions and more). */
    static final RandomModel.Spec LONG = new RandomModel.Spec(ModelFamily.LLAMA, 64, 128, 2, 4, 2, 16, 400, 2048, 10000,
            new RopeScaling.None(), false, false, DType.BF16, 11);

    @TempDir
    Path dir;

    @Test
    void benchReportsPrefillAndDecodeRatesPerContextWithTheirSpread() throws Exception {
        Path model = dir.resolve("tiny");
        RandomModel.write(model, GenerateCommandTest.TINY);
        Path out = dir.resolve("bench.json");
        CliHarness r = CliHarness.run("bench", "--model", model.toString(), "--context", "16,48", "--batch", "2",
                "--gen", "4", "--reps", "2", "--json", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertEquals(report, new ObjectMapper().readTree(Files.readString(out)));
        assertEquals(2, report.get("points").size());
        for (JsonNode p : report.get("points")) {
            assertEquals(2, p.get("prefillTokensPerSecond").size());
            assertEquals(2, p.get("decodeTokensPerSecond").size());
            assertTrue(p.get("decodeTokensPerSecond").get(0).asDouble() > 0);
            assertTrue(p.get("kvCacheBytes").asLong() > 0);
            assertEquals(2, p.get("batch").asInt());
        }
        assertTrue(report.get("weightBytes").asLong() > 0);

        CliHarness table = CliHarness.run("bench", "--model", model.toString(), "--context", "16", "--gen", "2",
                "--reps", "1");
        assertEquals(0, table.exitCode(), table.err());
        assertTrue(table.out().contains("| 16 | 1 | pp16 |") && table.out().contains("| 16 | 1 | tg2 |"), table.out());
    }

    @Test
    void benchWithRetroAttentionReportsTheIndexBuildShareOfPrefill() throws Exception {
        Path model = dir.resolve("long");
        RandomModel.write(model, LONG);
        CliHarness r = CliHarness.run("bench", "--model", model.toString(), "--context", "1200", "--gen", "3", "--reps",
                "1", "--attention", "retro", "--retrieval-budget", "0.1", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertEquals("retro", report.get("attention").asText());
        assertEquals(0.1, report.get("retrievalBudget").asDouble());
        assertEquals(0.232, report.get("estimationBudget").asDouble());
        JsonNode point = report.get("points").get(0);
        double share = point.get("indexBuildShareOfPrefill").get(0).asDouble();
        assertTrue(share > 0 && share < 1, "index build share " + share);
        assertTrue(point.get("indexBuildSeconds").get(0).asDouble() > 0);
        assertTrue(point.get("decodeAttentionMillisPerStep").get(0).asDouble() > 0);

        CliHarness full = CliHarness.run("bench", "--model", model.toString(), "--context", "1200", "--gen", "2",
                "--reps", "1");
        assertEquals(0, full.exitCode(), full.err());
        assertTrue(full.out().contains("| 1200 | 1 | pp1200 |") && full.out().contains("attention ms/step"), full.out());
    }

    @Test
    void demoRunsWithRetroAttention() {
        Path modelDir = dir.resolve("demo-retro");
        CliHarness r = CliHarness.run("demo", "--random-model", "--model-dir", modelDir.toString(), "--max-tokens", "4",
                "--attention", "retro", "--retrieval-budget", "0.05");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("--attention retro --kv-type f16 --retrieval-budget 0.05"), r.err());
    }

    @Test
    void demoWritesItsRandomModelOnceAndSaysItIsRandom() {
        Path modelDir = dir.resolve("demo");
        CliHarness first = CliHarness.run("demo", "--random-model", "--model-dir", modelDir.toString(), "--max-tokens",
                "4");
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.err().contains("random weights"), first.err());
        assertTrue(first.err().contains("writing a random demo model"), first.err());
        assertTrue(Files.exists(modelDir.resolve("model.safetensors")));
        CliHarness second = CliHarness.run("demo", "--random-model", "--model-dir", modelDir.toString(), "--max-tokens",
                "4");
        assertEquals(0, second.exitCode(), second.err());
        assertTrue(!second.err().contains("writing a random demo model"), second.err());
        assertEquals(first.out(), second.out(), "the demo's seed makes its output repeatable");
    }
}
