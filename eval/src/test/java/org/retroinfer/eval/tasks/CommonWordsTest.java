package org.retroinfer.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CommonWordsTest {
    private static final String HEAD = "Below is a numbered list of words. In these words, some appear more often than "
            + "others. Memorize the ones that appear most often.\n";
    private static final String QUESTION = "\nQuestion: What are the 10 most common words in the above list? Answer: "
            + "The top 10 words that appear most often in the list are:";

    @Test
    void tenWordsAppearThirtyTimesTheOthersThreeAndTheAnswerListsThemInOrderOfAppearance() {
        long seed = new Random().nextLong();
        System.out.println("seed " + seed);
        int size = 11 + new Random(seed).nextInt(300);
        TaskPrompt p = CommonWords.generate(seed, size, 8192);
        String[] blocks = p.prompt().split("\n(?=Below is)");
        assertEquals(2, blocks.length, "the example, then the task");

        List<String> task = words(blocks[1]);
        assertCounts(task, size, 30, 3);
        assertEquals(commonInOrder(task, 30), p.references());
        assertEquals(" " + String.join(", ", p.references()) + ".", p.answer());

        List<String> example = words(blocks[0].substring(0, blocks[0].lastIndexOf(QUESTION) + QUESTION.length()));
        assertCounts(example, 40, 10, 3);
        assertTrue(blocks[0].endsWith(QUESTION + " " + String.join(", ", commonInOrder(example, 10)) + "."),
                "the example ends with its answer in the task's answer form");
    }

    @Test
    void belowFourThousandTokensTheShortFormOfRulerIsUsed() {
        TaskPrompt p = CommonWords.generate(3, 50, 2048);
        String[] blocks = p.prompt().split("\n(?=Below is)");
        assertCounts(words(blocks[1]), 50, 6, 1);
        assertCounts(words(blocks[0].substring(0, blocks[0].lastIndexOf(QUESTION) + QUESTION.length())), 20, 3, 1);
    }

    @Test
    void listsLongerThanTheWordPoolGoOnWithAdjectiveNounPairs() {
        TaskPrompt p = CommonWords.generate(11, 800, 32768);
        List<String> task = words(p.prompt().split("\n(?=Below is)")[1]);
        assertCounts(task, 800, 30, 3);
        long pairs = new LinkedHashSet<>(task).stream().filter(w -> w.contains("-")).count();
        assertEquals(800 - 579, pairs, "579 single words, then pairs");
        assertTrue(p.references().stream().noneMatch(w -> w.contains("-")), "the common words are single words");
    }

    /** The entries of a block's numbered list, checking that they are numbered 1, 2, 3, ... */
    private static List<String> words(String block) {
        assertTrue(block.startsWith(HEAD) && block.endsWith(QUESTION), block.substring(0, Math.min(200, block.length())));
        String list = block.substring(HEAD.length(), block.length() - QUESTION.length());
        String[] parts = list.split(" ");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < parts.length; i += 2) {
            assertEquals((i / 2 + 1) + ".", parts[i]);
            out.add(parts[i + 1]);
        }
        return out;
    }

    private static void assertCounts(List<String> entries, int distinct, int common, int uncommon) {
        Map<String, Integer> counts = new HashMap<>();
        entries.forEach(w -> counts.merge(w, 1, Integer::sum));
        assertEquals(distinct, counts.size());
        assertEquals(10, counts.values().stream().filter(c -> c == common).count());
        assertEquals(distinct - 10, counts.values().stream().filter(c -> c == uncommon).count());
    }

    private static List<String> commonInOrder(List<String> entries, int common) {
        Map<String, Integer> counts = new HashMap<>();
        entries.forEach(w -> counts.merge(w, 1, Integer::sum));
        Set<String> order = new LinkedHashSet<>();
        entries.stream().filter(w -> counts.get(w) == common).forEach(order::add);
        return List.copyOf(order);
    }
}
