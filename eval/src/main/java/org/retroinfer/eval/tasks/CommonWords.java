package org.retroinfer.eval.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * RULER's common-words extraction ({@code cwe}; {@code shared/design/benchmarks.md}, "Common words")
 * built from the project's word lists and drawn with {@link SplitMix64}: a numbered list in which ten
 * words appear often and the others rarely, after one solved example. retro-tiny was not trained on
 * it. Size: distinct words of the task's list.
 *
 * <p>Deviations from RULER, each so that the task works with what the project has and keeps one exact
 * answer:
 * <ul>
 *   <li>The word pool is the sorted union of {@code tools/train-tiny/words} (257 adjectives and 322
 *       nouns, 579 words) where RULER takes wonderwords' nouns, adjectives and verbs; there is no verb
 *       list. Where a list needs more words than the pool holds (RULER's newer version then switches
 *       to a large English list, which we do not have), the rest are distinct
 *       {@code adjective-noun} pairs; the ten common words always come from the pool.</li>
 *   <li>A sample draws its words and shuffles with its own generator; RULER shuffles every list with
 *       one fixed {@code Random(seed)}.</li>
 *   <li>The example ends with the answer prefix and its answer in the task's answer form, then
 *       {@code \n} and the task, as {@code vt}'s example does, instead of RULER's numbered list after
 *       the question; answers are {@code " w1, w2, ..., w10."} listing the common words in the
 *       order they first appear in the list.</li>
 * </ul>
 *
 * <p>Draws, in order: the example's words (a shuffle of the sorted pool, then pairs if needed), the
 * shuffle of the example's list, the task's words likewise, the shuffle of the task's list.
 */
public final class CommonWords {
    static final int COMMON = 10;
    /** Ten common words and at least one uncommon one. */
    public static final int MIN_SIZE = COMMON + 1;
    /** RULER's switch: from this length on, the long example (40 words, 10/3) and repeats 30/3. */
    static final int LONG_FORM_TOKENS = 4096;

    private static final String HEAD = "Below is a numbered list of words. In these words, some appear more often than "
            + "others. Memorize the ones that appear most often.\n";
    private static final String QUESTION = "\nQuestion: What are the 10 most common words in the above list?";
    private static final String ANSWER_PREFIX = " Answer: The top 10 words that appear most often in the list are:";

    private static final List<String> POOL = pool();

    /** One numbered list and its common words in order of first appearance. */
    private record WordList(String text, List<String> common) {}

    private CommonWords() {}

    /** The form (example size and repeats) follows the length the sample is fitted to, as in RULER. */
    public static TaskPrompt generate(long seed, int size, int targetTokens) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("task cwe needs a haystack of at least " + MIN_SIZE + " units, got "
                    + size);
        }
        SplitMix64 rng = new SplitMix64(seed);
        boolean longForm = targetTokens >= LONG_FORM_TOKENS;
        WordList example = longForm ? list(rng, 40, 10, 3) : list(rng, 20, 3, 1);
        WordList task = longForm ? list(rng, size, 30, 3) : list(rng, size, 6, 1);
        String prompt = HEAD + example.text() + QUESTION + ANSWER_PREFIX + VariableTracking.answer(example.common())
                + "\n" + HEAD + task.text() + QUESTION + ANSWER_PREFIX;
        return new TaskPrompt(prompt, VariableTracking.answer(task.common()), task.common());
    }

    /** RULER's get_example: {@code words} distinct words, the first ten repeated often, the rest rarely, shuffled. */
    private static WordList list(SplitMix64 rng, int words, int commonRepeats, int uncommonRepeats) {
        List<String> chosen = words(rng, words);
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            entries.addAll(Collections.nCopies(i < COMMON ? commonRepeats : uncommonRepeats, chosen.get(i)));
        }
        rng.shuffle(entries);
        Set<String> common = new HashSet<>(chosen.subList(0, COMMON));
        Set<String> firstSeen = new LinkedHashSet<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < entries.size(); i++) {
            String w = entries.get(i);
            text.append(i == 0 ? "" : " ").append(i + 1).append(". ").append(w);
            if (common.contains(w)) {
                firstSeen.add(w);
            }
        }
        return new WordList(text.toString(), List.copyOf(firstSeen));
    }

    /** {@code n} distinct words: the shuffled pool's first ones, then adjective-noun pairs past its end. */
    private static List<String> words(SplitMix64 rng, int n) {
        WordKeys lists = WordKeys.lists();
        long most = POOL.size() + (long) lists.adjectives().size() * lists.nouns().size();
        if (n > most) {
            throw new IllegalArgumentException("task cwe has " + most + " distinct words, cannot list " + n);
        }
        List<String> shuffled = new ArrayList<>(POOL);
        rng.shuffle(shuffled);
        List<String> out = new ArrayList<>(shuffled.subList(0, Math.min(n, shuffled.size())));
        Set<String> used = new HashSet<>(out);
        while (out.size() < n) {
            String pair = lists.adjectives().get(rng.below(lists.adjectives().size())) + "-"
                    + lists.nouns().get(rng.below(lists.nouns().size()));
            if (used.add(pair)) {
                out.add(pair);
            }
        }
        return out;
    }

    private static List<String> pool() {
        Set<String> words = new TreeSet<>(WordKeys.lists().adjectives());
        words.addAll(WordKeys.lists().nouns());
        return List.copyOf(words);
    }
}
