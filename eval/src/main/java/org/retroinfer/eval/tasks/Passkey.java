package org.retroinfer.eval.tasks;

import java.util.Collections;
import java.util.List;

/**
 * The landmark-attention pass-key test as {@code tools/train-tiny/tasks.py} makes it, draw for draw:
 * a number between two runs of noise sentences. Size: noise sentences in all.
 */
public final class Passkey {
    public static final int MIN_SIZE = 1;
    private static final String INTRO = "There is an important info hidden inside a lot of irrelevant text. Find it and "
            + "memorize them. I will quiz you about the important information there.";
    private static final String QUESTION = "What is the pass key? The pass key is";

    private Passkey() {}

    public static TaskPrompt generate(long seed, int size) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("task passkey needs a haystack of at least " + MIN_SIZE + " units, got "
                    + size);
        }
        SplitMix64 rng = new SplitMix64(seed);
        long key = rng.between(1, 50000);
        int split = rng.below(size + 1);
        String info = "The pass key is " + key + ". Remember it. " + key + " is the pass key.";
        String prompt = String.join("\n", INTRO, noise(split), info, noise(size - split), QUESTION);
        return new TaskPrompt(prompt, " " + key + ".", List.of(Long.toString(key)));
    }

    private static String noise(int sentences) {
        return String.join(" ", Collections.nCopies(sentences, NiahGenerator.NOISE));
    }
}
