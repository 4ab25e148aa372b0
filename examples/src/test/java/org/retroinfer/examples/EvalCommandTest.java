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
}
