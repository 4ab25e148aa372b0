package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.HeldOutSet;
import org.retroinfer.eval.tasks.NiahGenerator;
import org.retroinfer.eval.tasks.WordKeys;
import org.retroinfer.model.tokenizer.Tokenizer;

/** {@code retroinfer eval heldout} end to end on the project's model, with two short samples of the held-out format. */
class EvalCommandTest {
    static final Path RETRO_TINY = Path.of("..", "models", "retro-tiny");

    @TempDir
    Path dir;

    @Test
    void heldOutEvalWritesEverySampleAndTheSummaryTables() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(RETRO_TINY.resolve("tokenizer.json"));
        Path file = dir.resolve("short.jsonl.gz");
        HeldOutSet.write(file, List.of(
                NiahGenerator.fitted(EvalTask.NIAH_SINGLE_1, 21, 224, WordKeys.Split.HELDOUT, tokenizer),
                NiahGenerator.fitted(EvalTask.NIAH_MULTIKEY_2, 22, 320, WordKeys.Split.HELDOUT, tokenizer)));
        Path out = dir.resolve("results");
        CliHarness r = CliHarness.run("eval", "heldout", "--model", RETRO_TINY.toString(), "--file", file.toString(),
                "--attention", "full,retro", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());

        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertTrue(json.get("complete").asBoolean());
        assertEquals(List.of("full (KV F16)", "retro (retrieval 0.018, estimation 0.232, KV F16)"),
                new ObjectMapper().convertValue(json.get("run").get("modes"), List.class));
        JsonNode results = json.get("results");
        assertEquals(4, results.size(), "two samples under two attention modes");
        for (JsonNode s : results) {
            assertTrue(s.get("exact").asBoolean(), s.toString());
            assertEquals(s.get("answer").asText() + "<|eos|>", s.get("generated").asText());
            assertTrue(s.get("prefillMillis").asDouble() > 0 && s.get("decodeMillis").asDouble() > 0, s.toString());
        }
        assertEquals("niah_single_1", results.get(0).get("task").asText());
        assertEquals(224, results.get(0).get("length").asInt());
        assertEquals("full", results.get(0).get("attention").asText());
        assertEquals("retro", results.get(1).get("attention").asText());
        assertEquals("niah_multikey_2", results.get(2).get("task").asText());

        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| command | `retroinfer eval heldout --model ../models/retro-tiny --file "), md);
        assertTrue(md.contains("| length | full | retro |\n| ---: | ---: | ---: |\n| 224 | 100.0% (1/1) | 100.0% (1/1) |"),
                md);
        assertTrue(md.contains("| niah_multikey_2 | - | 1/1 (100%) |"), md);
        assertTrue(r.out().contains("## Needle tasks exact") && md.endsWith(r.out()), r.out());
        assertTrue(r.err().contains("niah_single_1 224 #0 full: exact, wrote '"), r.err());
    }

    /**
     * The CI smoke run of the comparison suites: tiny lengths, two samples, two budgets, every task;
     * checks generation, scoring and the output files (the JSON round trip, the tables, the PNGs).
     */
    @Test
    void rulerSmokeRunScoresEveryTaskUnderEveryModeAndWritesTheOutputs() throws Exception {
        Path out = dir.resolve("ruler");
        CliHarness r = CliHarness.run("eval", "ruler", "--model", RETRO_TINY.toString(), "--lengths", "1k",
                "--samples", "2", "--budgets", "0.05,0.2", "--seed", "7", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertTrue(json.get("complete").asBoolean());
        List<String> modes = List.of("full", "retro 5%/23.2%", "retro 20%/23.2%", "streaming 5%", "streaming 20%",
                "quest 5%", "quest 20%");
        assertEquals(EvalTask.values().length * 2 * modes.size(), json.get("results").size());
        for (JsonNode s : json.get("results")) {
            double score = s.get("stringMatchAll").asDouble();
            assertTrue(score >= 0 && score <= 1, s.toString());
            assertEquals(modes.get(modes.indexOf(s.get("attention").asText())), s.get("attention").asText());
        }
        // every mode has a mean over the tasks, and the sparse ones a drop against full
        for (JsonNode score : json.get("scores")) {
            assertTrue(score.get("score").asDouble() >= 0, score.toString());
            assertEquals(score.get("attention").asText().equals("full"), score.get("dropVsFull").isNull(), score.toString());
        }
        assertEquals(json, new ObjectMapper().readTree(
                new ObjectMapper().writeValueAsString(org.retroinfer.eval.ComparisonReport.read(out.resolve("results.json")))));
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| attention | 1024 | all lengths | drop vs full |"), md);
        for (EvalTask task : EvalTask.values()) {
            assertTrue(md.contains("| " + task.id() + " |"), task + " in\n" + md);
        }
        assertPng(out.resolve("budget.png"));
        assertTrue(r.out().contains("## Mean score") && md.endsWith(r.out()), r.out());
    }

    @Test
    void niahSmokeRunDrawsTheDepthByLengthHeatmap() throws Exception {
        Path out = dir.resolve("niah");
        CliHarness r = CliHarness.run("eval", "niah", "--model", RETRO_TINY.toString(), "--lengths", "256,512",
                "--depths", "0,50,100", "--samples", "2", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(2 * 3 * 2 * 4, json.get("results").size(), "lengths x depths x samples x modes");
        assertEquals(2 * 3 * 4, json.get("cells").size(), "lengths x depths x modes");
        for (JsonNode c : json.get("cells")) {
            assertTrue(List.of(0, 50, 100).contains(c.get("depth").asInt()), c.toString());
            assertEquals(2, c.get("samples").asInt());
        }
        assertPng(out.resolve("niah-heatmap.png"));
        Files.delete(out.resolve("niah-heatmap.png"));
        CliHarness again = CliHarness.run("eval", "plot", out.toString());
        assertEquals(0, again.exitCode(), again.err());
        assertPng(out.resolve("niah-heatmap.png"));
    }

    @Test
    void fidelitySmokeRunMeasuresEverySparseModePerLayer() throws Exception {
        Path out = dir.resolve("fidelity");
        // prompts past 1092 tokens, so that the prompt is indexed at the end of prefill
        CliHarness r = CliHarness.run("eval", "fidelity", "--model", RETRO_TINY.toString(), "--lengths", "1200",
                "--tasks", "niah_single_1,vt", "--samples", "1", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode rows = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("rows");
        assertEquals(3 * (6 + 1), rows.size(), "retro, streaming and quest: 6 layers and their mean");
        for (JsonNode row : rows) {
            assertTrue(row.get("samples").asLong() > 0, row.toString());
            assertTrue(row.get("relativeError").asDouble() >= 0, row.toString());
            double exact = row.get("exactMass").asDouble();
            double estimated = row.get("exactAndEstimatedMass").asDouble();
            assertTrue(exact > 0 && exact <= estimated + 1e-9 && estimated <= 1 + 1e-9, row.toString());
            if (!row.get("attention").asText().equals("retro")) {
                assertEquals(exact, estimated, 1e-12, "baselines estimate nothing: " + row);
            }
        }
        assertTrue(Files.readString(out.resolve("results.md")).contains("| 1200 | retro |"));
        CliHarness full = CliHarness.run("eval", "fidelity", "--model", RETRO_TINY.toString(), "--lengths", "1200",
                "--attention", "full,retro", "--out", out.toString());
        assertEquals(2, full.exitCode());
        assertTrue(full.err().contains("leave full out"), full.err());
    }

    @Test
    void comparisonArgumentsAreCheckedWithOneLine() {
        String model = RETRO_TINY.toString();
        String[][] cases = {
                {"eval ruler: --lengths is required", "eval", "ruler", "--model", model},
                {"--budgets must be a comma-separated list of fractions in (0, 1], got '0,0.1'", "eval", "ruler",
                        "--model", model, "--lengths", "1k", "--budgets", "0,0.1"},
                {"--depths must be a comma-separated list of percentages from 0 to 100, got '10,200'", "eval", "niah",
                        "--model", model, "--lengths", "1k", "--depths", "10,200"},
                {"--cluster-size must be a comma-separated list of whole numbers in [1, 8192], got '16,0'", "eval",
                        "ruler", "--model", model, "--lengths", "1k", "--cluster-size", "16,0"},
                {"--tasks: unknown task 'nope'", "eval", "ruler", "--model", model, "--lengths", "1k", "--tasks", "nope"},
                {"--lengths 65536 is beyond the 32768 positions of", "eval", "niah", "--model", model, "--lengths", "64k"},
                {"eval plot: ", "eval", "plot", dir.resolve("none").toString()},
        };
        for (String[] c : cases) {
            CliHarness r = CliHarness.run(java.util.Arrays.copyOfRange(c, 1, c.length));
            assertEquals(2, r.exitCode(), r.err());
            assertTrue(r.err().contains(c[0]) && r.err().strip().lines().count() == 1, r.err());
        }
    }

    private static void assertPng(Path file) throws Exception {
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(file.toFile());
        assertTrue(image != null && image.getWidth() > 100 && image.getHeight() > 100, file + " is not a PNG plot");
    }
}
