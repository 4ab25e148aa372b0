package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.model.random.RandomModel;

class BenchAndDemoCommandTest {
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
    void demoWritesItsRandomModelOnceAndSaysItIsRandom() {
        Path modelDir = dir.resolve("demo");
        CliHarness first = CliHarness.run("demo", "--model-dir", modelDir.toString(), "--max-tokens", "4");
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.err().contains("random weights"), first.err());
        assertTrue(first.err().contains("writing a random demo model"), first.err());
        assertTrue(Files.exists(modelDir.resolve("model.safetensors")));
        CliHarness second = CliHarness.run("demo", "--model-dir", modelDir.toString(), "--max-tokens", "4");
        assertEquals(0, second.exitCode(), second.err());
        assertTrue(!second.err().contains("writing a random demo model"), second.err());
        assertEquals(first.out(), second.out(), "the demo's seed makes its output repeatable");
    }
}
