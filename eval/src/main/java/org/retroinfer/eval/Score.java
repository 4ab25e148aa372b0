package org.retroinfer.eval;

/**
 * How one generation scored.
 *
 * @param prediction      the generated text up to the first end-of-sequence token or newline, stripped
 * @param exact           the model wrote exactly the answer's tokens and then stopped (see {@link Scorer})
 * @param stringMatchAll  RULER's string_match_all: the share of references found in the prediction
 * @param stringMatchPart RULER's string_match_part: 1 if any reference is found, else 0
 */
public record Score(String prediction, boolean exact, double stringMatchAll, double stringMatchPart) {}
