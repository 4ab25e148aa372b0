package org.retroinfer.model.generation;

import java.util.Set;

/**
 * One sequence to generate: its prompt tokens, how many tokens to add at most, how to sample them,
 * and the tokens that end it (kept in the output, as Hugging Face does).
 */
public record GenerationRequest(int[] prompt, int maxNewTokens, SamplingParams sampling, Set<Integer> stopTokens) {
    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt must hold at least one token");
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be 0 or more, got " + maxNewTokens);
        }
        prompt = prompt.clone();
        stopTokens = Set.copyOf(stopTokens);
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }
}
