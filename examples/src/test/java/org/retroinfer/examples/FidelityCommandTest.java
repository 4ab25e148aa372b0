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

    /** The baselines at a full budget attend to everything; at the default one they cover part of the mass. */
    @Test
    void theBaselinesAreMeasuredAtRetroInfersBudget() throws Exception {
        for (String mode : new String[] {"streaming", "quest"}) {
            for (String budget : new String[] {"1", "0.018"}) {
                CliHarness r = CliHarness.run("fidelity", "--model", model.toString(), "--random-prompt", "1200",
                        "--max-tokens", "3", "--attention", mode, "--retrieval-budget", budget, "--json");
                assertEquals(0, r.exitCode(), r.err());
                JsonNode report = new ObjectMapper().readTree(r.out());
                assertEquals(mode, report.get("attention").asText());
                assertEquals(0, report.get("indexBuilds").asInt());
                for (JsonNode layer : report.get("layers")) {
                    double mass = layer.get("exactMass").asDouble();
                    assertEquals(mass, layer.get("exactAndEstimatedMass").asDouble(), 1e-12, layer.toString());
                    if (budget.equals("1")) {
                        assertTrue(layer.get("maxRelativeError").asDouble() < 1e-4, mode + " " + layer);
                        assertEquals(1.0, mass, 1e-6, mode + " " + layer);
                        assertEquals(1.0, layer.get("recallAt100").asDouble(), 1e-9, mode + " " + layer);
                    } else {
                        assertTrue(mass > 0 && mass < 1, mode + " " + layer);
                    }
                }
            }
        }
        CliHarness refused = CliHarness.run("fidelity", "--model", model.toString(), "--random-prompt", "50",
                "--attention", "quest", "--estimation-budget", "0.1");
        assertEquals(2, refused.exitCode());
        assertTrue(refused.err().contains("--estimation-budget applies to --attention retro only"), refused.err());
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
