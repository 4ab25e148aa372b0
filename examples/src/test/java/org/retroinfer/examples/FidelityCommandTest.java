package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.model.random.RandomModel;

class FidelityCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = dir.resolve("long");
        RandomModel.write(model, BenchAndDemoCommandTest.LONG);
    }

    @Test
    void reportsEveryLayersErrorMassAndRecallOnTheModelsOwnQueries() throws Exception {
        CliHarness r = CliHarness.run("fidelity", "--model", model.toString(), "--random-prompt", "1200", "--max-tokens",
                "5", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertEquals(1200, report.get("promptTokens").asInt());
        assertEquals(1, report.get("indexBuilds").asInt());
        assertEquals(2, report.get("layers").size());
        for (JsonNode layer : report.get("layers")) {
            // 4 decode steps (the first token comes from the prefill) × 4 query heads.
            assertEquals(16, layer.get("samples").asInt());
            double mass = layer.get("exactMass").asDouble();
            assertTrue(mass > 0 && mass <= layer.get("exactAndEstimatedMass").asDouble() + 1e-9, layer.toString());
            double recall = layer.get("recallAt100").asDouble();
            assertTrue(recall > 0 && recall <= 1, layer.toString());
            assertTrue(Double.isFinite(layer.get("relativeError").asDouble()), layer.toString());
        }
    }

    @Test
    void budgetsCoveringEveryClusterShowNoError() throws Exception {
        CliHarness r = CliHarness.run("fidelity", "--model", model.toString(), "--random-prompt", "1200", "--max-tokens",
                "3", "--retrieval-budget", "1", "--estimation-budget", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("| layer | samples | relative error, mean"), r.out());
        for (String line : r.out().split("\n")) {
            if (line.startsWith("| 0 |") || line.startsWith("| 1 |")) {
                String[] cells = line.split("\\|");
                assertTrue(Double.parseDouble(cells[4].trim()) < 1e-4, "max relative error in " + line);
                assertEquals(1.0, Double.parseDouble(cells[5].trim()), 1e-4, "mass in " + line);
                assertEquals(1.0, Double.parseDouble(cells[7].trim()), 1e-9, "recall in " + line);
            }
        }
    }

    @Test
    void aPromptMustBeGivenOnce() {
        CliHarness r = CliHarness.run("fidelity", "--model", model.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("exactly one of --prompt"), r.err());
        CliHarness both = CliHarness.run("fidelity", "--model", model.toString(), "--prompt", "hi", "--random-prompt", "9");
        assertEquals(2, both.exitCode());
    }
}
