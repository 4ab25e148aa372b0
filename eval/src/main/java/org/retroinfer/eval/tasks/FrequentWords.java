package org.retroinfer.eval.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * RULER's frequent-words extraction ({@code fwe}) as {@code tools/train-tiny/tasks.py} makes it, draw
 * for draw: coded six-letter words with Zipf (alpha 2) counts, the most frequent replaced by dots,
 * the answer the next three. Size: words of the coded text before the counts are rounded down.
 */
public final class FrequentWords {
    /** tasks.py's MIN_SIZE: below a hundred words the top ranks barely differ in count. */
    public static final int MIN_SIZE = 100;
    private static final double ZETA2 = Math.PI * Math.PI / 6.0;
    private static final String HEAD = "Read the following coded text and track the frequency of each coded word. Find "
            + "the three most frequently appeared coded words. ";
    private static final String TAIL = "\nQuestion: Do not provide any explanation. Please ignore the dots '....'. "
            + "What are the three most frequently appeared words in the above coded text? Answer: According to the "
            + "coded text above, the three most frequently appeared words are:";

    private FrequentWords() {}

    /** RULER's (max_seq_length - tokens_to_generate) // 50 with 50 tokens to generate, at least 16. */
    static int vocabularySize(int targetTokens) {
        return Math.max(16, Math.floorDiv(targetTokens - 50, 50));
    }

    /** Occurrences of the word of rank k (1-based): floor(size / k^2 / zeta(2)), in tasks.py's order of operations. */
    static int count(int size, int rank) {
        return (int) Math.floor((double) size / (rank * rank) / ZETA2);
    }

    /** The vocabulary follows the length the sample is fitted to, so {@code targetTokens} is part of the task. */
    public static TaskPrompt generate(long seed, int size, int targetTokens) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("task fwe needs a haystack of at least " + MIN_SIZE + " units, got "
                    + size);
        }
        SplitMix64 rng = new SplitMix64(seed);
        int vocabulary = vocabularySize(targetTokens);
        Set<String> words = new TreeSet<>(); // sorted as Python's sorted(): every word is ASCII
        while (words.size() < vocabulary) {
            StringBuilder w = new StringBuilder(6);
            for (int i = 0; i < 6; i++) {
                w.append((char) ('a' + rng.below(26)));
            }
            words.add(w.toString());
        }
        List<String> vocab = new ArrayList<>(words);
        rng.shuffle(vocab);
        vocab.set(0, "...");
        List<String> sequence = new ArrayList<>();
        for (int k = 1; k <= vocabulary; k++) {
            sequence.addAll(Collections.nCopies(count(size, k), vocab.get(k - 1)));
        }
        rng.shuffle(sequence);
        List<String> top = vocab.subList(1, 4);
        return new TaskPrompt(HEAD + String.join(" ", sequence) + TAIL, VariableTracking.answer(top), top);
    }
}
