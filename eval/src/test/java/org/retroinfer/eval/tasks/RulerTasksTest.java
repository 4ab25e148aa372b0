package org.retroinfer.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.HeldOutSet;
import org.retroinfer.eval.RetroTiny;
import org.retroinfer.eval.Sample;
import org.retroinfer.model.tokenizer.Tokenizer;

/**
 * Prompts must equal those of tools/train-tiny/tasks.py for the same seed and size: the held-out
 * file (base seed 5) and python-samples.jsonl.gz (made by python_samples.py beside it) are the
 * references.
 */
class RulerTasksTest {
    /** python_samples.py's TINY source: one empty document, one ending in a blank line, wrapped around at small sizes. */
    static final List<String> TINY = List.of("alpha\nbeta", "", "gamma\n\ndelta\n", "last line");
    private static final Set<EvalTask> SEEDED_NON_NIAH = EnumSet.of(EvalTask.VT, EvalTask.FWE, EvalTask.PASSKEY);

    @Test
    void rebuildsThePythonSamplesOfEveryTrainedTaskFromSeedAndSize() throws IOException {
        TextHaystack shipped = TextHaystack.forModel(RetroTiny.DIR);
        TextHaystack tiny = TextHaystack.of(TINY);
        Set<EvalTask> seen = EnumSet.noneOf(EvalTask.class);
        int checked = 0;
        try (InputStream in = new GZIPInputStream(RulerTasksTest.class.getResourceAsStream("python-samples.jsonl.gz"));
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            ObjectMapper json = new ObjectMapper();
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                JsonNode r = json.readTree(line);
                EvalTask task = EvalTask.of(r.get("task").asText());
                String label = line.substring(0, Math.min(line.length(), 160));
                TextHaystack text = switch (r.get("text").asText("")) {
                    case "haystack" -> shipped;
                    case "tiny" -> tiny;
                    default -> null;
                };
                TaskPrompt p = RulerTasks.generate(task, Long.parseUnsignedLong(r.get("seed").asText(), 16),
                        r.get("size").asInt(), r.get("target").asInt(),
                        WordKeys.Split.valueOf(r.get("split").asText().toUpperCase(Locale.ROOT)), text);
                assertEquals(r.get("prompt").asText(), p.prompt(), label);
                assertEquals(r.get("answer").asText(), p.answer(), label);
                List<String> references = new ArrayList<>();
                r.get("references").forEach(v -> references.add(v.asText()));
                assertEquals(references, p.references(), label);
                seen.add(task);
                checked++;
            }
        }
        assertEquals(EnumSet.complementOf(EnumSet.of(EvalTask.CWE)), seen, "every task tasks.py makes");
        assertEquals(50, checked);
    }

    @Test
    void rebuildsEveryHeldOutRecordOfVtFweAndPasskeyFromItsSeedAndSize() {
        int checked = 0;
        for (Sample s : HeldOutSet.read(RetroTiny.HELDOUT).samples()) {
            if (!SEEDED_NON_NIAH.contains(s.task())) {
                continue;
            }
            assertEquals(SplitMix64.deriveSeed(5, "heldout/" + s.task().id() + "/" + s.targetLength() + "/" + s.index()),
                    s.seed(), s.label());
            TaskPrompt p = RulerTasks.generate(s.task(), s.seed(), s.size(), s.targetLength(), WordKeys.Split.HELDOUT,
                    null);
            assertEquals(s.prompt(), p.prompt(), s.label());
            assertEquals(s.answer(), p.answer(), s.label());
            assertEquals(s.references(), p.references(), s.label());
            checked++;
        }
        assertEquals(3 * 23, checked, "vt, fwe and passkey: 10 at 8K and 16K, 3 at 32K");
    }

    /**
     * The held-out text came from documents of the training machine, D of them, and the first
     * document was below(D) of one draw. That draw is one next() whatever D (a rejection needs the
     * draw to land within D of 2^64), so the needles, their places, the question and the answer
     * follow from the seed and the size alone; only the lines depend on the documents. Given a
     * haystack that serves the record's own lines, the whole prompt must come back.
     */
    @Test
    void rebuildsEveryHeldOutTextTaskRecordFromItsOwnLines() throws IOException {
        List<List<String>> shippedDocs = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(RetroTiny.DIR.resolve("eval/haystack.txt.gz")))) {
            for (String doc : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\0", -1)) {
                shippedDocs.add(List.of(doc.split("\n", -1)));
            }
        }
        int checked = 0;
        for (Sample s : HeldOutSet.read(RetroTiny.HELDOUT).samples()) {
            if (!RulerTasks.needsText(s.task())) {
                continue;
            }
            List<String> lines = haystackLines(s);
            TaskPrompt p = RulerTasks.generate(s.task(), s.seed(), s.size(), s.targetLength(), WordKeys.Split.HELDOUT,
                    TextHaystack.of(List.of(String.join("\n", lines))));
            assertEquals(s.prompt(), p.prompt(), s.label());
            assertEquals(s.answer(), p.answer(), s.label());
            assertEquals(s.references(), p.references(), s.label());
            assertTrue(shippedDocs.stream().anyMatch(doc -> Collections.indexOfSubList(doc, lines) >= 0),
                    s.label() + ": its haystack lines are one run of the shipped haystack.txt.gz");
            checked++;
        }
        assertEquals(5 * 23, checked, "five text tasks");
    }

    @Test
    void fitsHeldOutSamplesOfVtFweAndPasskeyToTheirSizeWithTheModelsTokenizer() {
        Tokenizer tokenizer = Tokenizer.load(RetroTiny.DIR.resolve("tokenizer.json"));
        List<Sample> records = HeldOutSet.read(RetroTiny.HELDOUT).samples().stream()
                .filter(s -> s.targetLength() == 8192 && s.index() == 2 && SEEDED_NON_NIAH.contains(s.task()))
                .toList();
        assertEquals(3, records.size());
        for (Sample record : records) {
            Sample fitted = RulerTasks.fitted(record.task(), record.seed(), 8192, WordKeys.Split.HELDOUT, null,
                    tokenizer);
            assertEquals(record.size(), fitted.size(), record.label());
            assertEquals(record.length(), fitted.length(), record.label());
            assertEquals(record.answerLength(), fitted.answerLength(), record.label());
            assertEquals(record.prompt(), fitted.prompt(), record.label());
        }
    }

    @Test
    void sampleTakesItsSeedFromTheTaskLengthAndIndexAndFillsTheLength() {
        Tokenizer tokenizer = Tokenizer.load(RetroTiny.DIR.resolve("tokenizer.json"));
        TextHaystack text = TextHaystack.forModel(RetroTiny.DIR);
        for (EvalTask task : EvalTask.values()) {
            int target = task == EvalTask.FWE || task == EvalTask.CWE ? 2048 : 1024;
            Sample s = RulerTasks.sample(task, 7, target, 3, WordKeys.Split.HELDOUT, text, tokenizer);
            assertEquals(SplitMix64.deriveSeed(7, "eval/" + task.id() + "/" + target + "/3"), s.seed(), task.id());
            assertEquals(3, s.index());
            int total = s.length() + s.answerLength() + 1;
            assertTrue(total <= target, task.id() + " " + total);
            // one more unit adds at most a text line or a needle (some tens of tokens), so the fit is close
            assertTrue(total > target - 160, task.id() + " fills only " + total + " of " + target);
            assertEquals(s.prompt(), RulerTasks.generate(task, s.seed(), s.size(), target, WordKeys.Split.HELDOUT, text)
                    .prompt());
        }
    }

    @Test
    void badInputIsRefusedWithOneMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalTask.of("qa_9"));
        assertTrue(e.getMessage().startsWith("unknown task 'qa_9'; known tasks: niah_single_1,"), e.getMessage());
        assertTrue(e.getMessage().endsWith("passkey, cwe"), e.getMessage());
        Tokenizer tokenizer = Tokenizer.load(RetroTiny.DIR.resolve("tokenizer.json"));
        e = assertThrows(IllegalArgumentException.class,
                () -> RulerTasks.fitted(EvalTask.VT, 1, 100, WordKeys.Split.HELDOUT, null, tokenizer));
        assertTrue(e.getMessage().startsWith("task vt does not fit in 100 tokens: even the smallest haystack (5 units)"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RulerTasks.fitted(EvalTask.NIAH_MULTIVALUE, 1, 4096, WordKeys.Split.HELDOUT, null, tokenizer));
        assertTrue(e.getMessage().startsWith("task niah_multivalue needs a text haystack"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RulerTasks.niahGrid(1, 4096, 101, WordKeys.Split.HELDOUT, tokenizer));
        assertEquals("depthPercent must be in [0, 100], got 101", e.getMessage());
        assertNotNull(RulerTasks.generate(EvalTask.PASSKEY, 1, Passkey.MIN_SIZE, 0, WordKeys.Split.HELDOUT, null));
    }

    /** Haystack line i of the record: the prompt made over placeholder lines shows where each one went. */
    private static List<String> haystackLines(Sample s) {
        List<String> placeholders = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            placeholders.add("\0" + i);
        }
        TaskPrompt made = RulerTasks.generate(s.task(), s.seed(), s.size(), s.targetLength(), WordKeys.Split.HELDOUT,
                TextHaystack.of(List.of(String.join("\n", placeholders))));
        String[] madeLines = made.prompt().split("\n", -1);
        String[] realLines = s.prompt().split("\n", -1);
        assertEquals(madeLines.length, realLines.length, s.label());
        String[] lines = new String[s.size()];
        for (int i = 0; i < madeLines.length; i++) {
            if (madeLines[i].startsWith("\0")) {
                lines[Integer.parseInt(madeLines[i].substring(1))] = realLines[i];
            }
        }
        return List.of(lines);
    }
}
