package org.retroinfer.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.HeldOutSet;
import org.retroinfer.eval.RetroTiny;
import org.retroinfer.eval.Sample;
import org.retroinfer.model.tokenizer.Tokenizer;

/**
 * The held-out file was written by tools/train-tiny (Python) with base seed 5: every record of a
 * seeded task must come back character for character from its seed and haystack size, and the
 * length search must settle on the same size with the model's tokenizer.
 */
class NiahGeneratorTest {
    private static final Pattern NEEDLE = Pattern.compile("One of the special magic (\\w+) for (\\S+) is: (\\S+)\\.");

    @Test
    void rebuildsEveryHeldOutPromptOfTheSeededTasksFromItsSeedAndSize() {
        int checked = 0;
        for (Sample s : HeldOutSet.read(RetroTiny.HELDOUT).samples()) {
            if (!NiahGenerator.tasks().contains(s.task())) {
                continue;
            }
            assertEquals(SplitMix64.deriveSeed(5, "heldout/" + s.task().id() + "/" + s.targetLength() + "/" + s.index()),
                    s.seed(), s.label());
            TaskPrompt p = NiahGenerator.generate(s.task(), s.seed(), s.size(), WordKeys.Split.HELDOUT);
            assertEquals(s.prompt(), p.prompt(), s.label());
            assertEquals(s.answer(), p.answer(), s.label());
            assertEquals(s.references(), p.references(), s.label());
            checked++;
        }
        assertEquals(3 * (10 + 10 + 3), checked, "niah_single_1, niah_multikey_2 and niah_multikey_3 at 8K, 16K, 32K");
    }

    @Test
    void fitsHeldOutSamplesToTheirSizeWithTheModelsTokenizer() {
        Tokenizer tokenizer = Tokenizer.load(RetroTiny.DIR.resolve("tokenizer.json"));
        List<Sample> records = HeldOutSet.read(RetroTiny.HELDOUT).samples().stream()
                .filter(s -> s.targetLength() == 8192 && s.index() == 1
                        && (s.task() == EvalTask.NIAH_SINGLE_1 || s.task() == EvalTask.NIAH_MULTIKEY_3))
                .toList();
        assertEquals(2, records.size());
        for (Sample record : records) {
            Sample fitted = NiahGenerator.fitted(record.task(), record.seed(), 8192, WordKeys.Split.HELDOUT, tokenizer);
            assertEquals(record.size(), fitted.size(), record.label());
            assertEquals(record.length(), fitted.length(), record.label());
            assertEquals(record.answerLength(), fitted.answerLength(), record.label());
            assertEquals(record.prompt(), fitted.prompt(), record.label());
        }
    }

    @Test
    void singleNeedleInNoiseIsRulersSingularTemplateWithOneNeedleAtItsPlace() {
        long seed = new Random().nextLong();
        System.out.println("seed " + seed);
        int size = 5 + new Random(seed).nextInt(40);
        for (WordKeys.Split split : WordKeys.Split.values()) {
            TaskPrompt p = NiahGenerator.generate(EvalTask.NIAH_SINGLE_1, seed, size, split);
            Matcher m = NEEDLE.matcher(p.prompt());
            assertTrue(m.find(), p.prompt());
            String key = m.group(2);
            String value = m.group(3);
            assertTrue(!m.find(), "one needle");
            assertEquals(split, WordKeys.split(key), key);
            assertTrue(value.matches("[1-9]\\d{6}"), value);
            List<String> lines = Arrays.asList(p.prompt().split("\n", -1));
            assertEquals("A special magic number is hidden within the following text. Make sure to memorize it. "
                    + "I will quiz you about the number afterwards.", lines.getFirst());
            assertEquals("What is the special magic number for " + key + " mentioned in the provided text? "
                    + "The special magic number for " + key + " mentioned in the provided text is", lines.getLast());
            assertEquals(size + 3, lines.size());
            assertEquals(size, lines.stream().filter(NiahGenerator.NOISE::equals).count());
            assertEquals(" " + value + ".", p.answer());
            assertEquals(List.of(value), p.references());
        }
    }

    @Test
    void multikeyHaystackIsDistractorNeedlesWithDistinctKeys() {
        long seed = new Random().nextLong();
        System.out.println("seed " + seed);
        TaskPrompt p = NiahGenerator.generate(EvalTask.NIAH_MULTIKEY_3, seed, 30, WordKeys.Split.TRAIN);
        Matcher m = NEEDLE.matcher(p.prompt());
        java.util.Set<String> keys = new java.util.HashSet<>();
        int needles = 0;
        while (m.find()) {
            assertEquals("uuids", m.group(1));
            assertTrue(keys.add(m.group(2)), "repeated key " + m.group(2));
            needles++;
        }
        assertEquals(31, needles, "30 distractors and the needle");
        assertTrue(p.prompt().contains("is: " + p.references().getFirst() + "."), p.answer());
    }

    @Test
    void needleAtDepthSitsAtItsShareOfTheNoiseWithNiahSingle1sKeyAndValue() {
        long seed = new Random().nextLong();
        System.out.println("seed " + seed);
        TaskPrompt drawn = NiahGenerator.generate(EvalTask.NIAH_SINGLE_1, seed, 41, WordKeys.Split.HELDOUT);
        // depth -> noise lines before the needle at size 41: 41 * depth / 100 with halves rounded up
        int[][] cases = {{0, 0}, {25, 10}, {50, 21}, {99, 41}, {100, 41}};
        for (int[] c : cases) {
            TaskPrompt p = NiahGenerator.atDepth(seed, 41, c[0], WordKeys.Split.HELDOUT);
            List<String> context = contextLines(p);
            assertEquals(42, context.size());
            int at = context.indexOf(context.stream().filter(l -> !l.equals(NiahGenerator.NOISE)).findFirst().orElseThrow());
            assertEquals(c[1], at, "depth " + c[0]);
            assertEquals(drawn.answer(), p.answer(), "the same key and value as niah_single_1 draws");
            assertEquals(contextLines(drawn).stream().filter(l -> !l.equals(NiahGenerator.NOISE)).toList(),
                    List.of(context.get(at)));
        }
    }

    @Test
    void gridSampleIsFittedWithTheNeedleAtItsDepth() {
        Tokenizer tokenizer = Tokenizer.load(RetroTiny.DIR.resolve("tokenizer.json"));
        long seed = RulerTasks.gridSeed(5, 2048, 30, 0);
        Sample s = RulerTasks.niahGrid(seed, 2048, 30, WordKeys.Split.HELDOUT, tokenizer);
        assertTrue(s.length() + s.answerLength() + 1 <= 2048, s.label());
        assertTrue(s.length() + s.answerLength() + 1 > 2048 - 40, "one noise line more would not fit: " + s.length());
        List<String> context = contextLines(new TaskPrompt(s.prompt(), s.answer(), s.references()));
        assertTrue(context.get((s.size() * 30 + 50) / 100).startsWith("One of the special magic numbers"), s.prompt());
    }

    /** The haystack and needle lines between the template's head and question. */
    private static List<String> contextLines(TaskPrompt p) {
        List<String> lines = Arrays.asList(p.prompt().split("\n", -1));
        return lines.subList(1, lines.size() - 1);
    }

    @Test
    void tooSmallAHaystackOrAnUnseededTaskIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> NiahGenerator.generate(EvalTask.NIAH_SINGLE_1, 1, NiahGenerator.MIN_SIZE - 1, WordKeys.Split.TRAIN));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NiahGenerator.generate(EvalTask.NIAH_SINGLE_2, 1, 10, WordKeys.Split.TRAIN));
        assertTrue(e.getMessage().contains("niah_single_1, niah_multikey_2, niah_multikey_3"), e.getMessage());
    }
}
