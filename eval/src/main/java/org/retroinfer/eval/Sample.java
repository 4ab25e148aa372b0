package org.retroinfer.eval;

import java.util.List;
import java.util.Locale;

/**
 * One evaluation item: a prompt that ends with the answer prefix, the exact expected continuation,
 * and RULER's reference strings. The fields are those of a held-out record
 * ({@code tools/train-tiny/README.md}, "Held-out set").
 *
 * @param targetLength the length the sample was fitted to (8192, 16384, ...)
 * @param index        the sample's number among those of its task and length
 * @param seed         the seed its random choices came from (64 bits, unsigned)
 * @param size         haystack units (noise lines, needles, words, ...)
 * @param length       tokens of BOS + prompt with the model's tokenizer
 * @param answerLength tokens of the answer
 * @param answer       the exact continuation, e.g. {@code " 9636045."}
 * @param references   the values the answer holds, for RULER's string-match scores
 */
public record Sample(EvalTask task, int targetLength, int index, long seed, int size, int length, int answerLength,
                     String prompt, String answer, List<String> references) {
    public Sample {
        if (targetLength < 1) {
            throw new IllegalArgumentException("targetLength must be positive, got " + targetLength);
        }
        if (index < 0) {
            throw new IllegalArgumentException("index must be 0 or more, got " + index);
        }
        if (length < 1 || answerLength < 1) {
            throw new IllegalArgumentException("length and answerLength must be positive, got " + length + " and "
                    + answerLength);
        }
        if (prompt.isEmpty() || answer.isBlank()) {
            throw new IllegalArgumentException("the prompt and the answer must hold text");
        }
        if (references.isEmpty()) {
            throw new IllegalArgumentException("a sample needs at least one reference string");
        }
        references = List.copyOf(references);
    }

    /** The seed as the held-out file writes it: 16 lower-case hex digits. */
    public String seedHex() {
        return String.format(Locale.ROOT, "%016x", seed);
    }

    /** A short name for logs and messages: {@code niah_single_1 8192 #3}. */
    public String label() {
        return task.id() + " " + targetLength + " #" + index;
    }
}
