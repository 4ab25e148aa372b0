package org.retroinfer.eval;

/**
 * What one sample measured under one attention mode.
 *
 * @param length          the sample's target length (8192, 16384, ...)
 * @param seed            the sample's seed, 16 hex digits
 * @param promptTokens    tokens of BOS + prompt
 * @param answer          the expected answer
 * @param generated       the generated text, special tokens included
 * @param generatedTokens tokens generated (a stop token included)
 * @param prefillMillis   prefill of the prompt, shared by every mode of the run (index builds included)
 * @param decodeMillis    the decode steps after the first token
 */
public record SampleResult(EvalTask task, int length, int index, String seed, String attention, int promptTokens,
                           String answer, String generated, String prediction, boolean exact, double stringMatchAll,
                           double stringMatchPart, int generatedTokens, double prefillMillis, double decodeMillis) {}
