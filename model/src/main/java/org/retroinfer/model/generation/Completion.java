package org.retroinfer.model.generation;

/**
 * What one request produced.
 *
 * @param tokens       the generated tokens (a stop token that ended generation included)
 * @param reason       why generation ended
 * @param promptTokens tokens of the prompt
 */
public record Completion(int[] tokens, StopReason reason, int promptTokens) {
    /** Why a sequence stopped. */
    public enum StopReason {
        /** A stop (end-of-sequence) token was generated. */
        STOP_TOKEN,
        /** The requested number of new tokens was reached. */
        MAX_TOKENS,
        /** The model's context window is full. */
        CONTEXT_FULL
    }

    public Completion {
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
