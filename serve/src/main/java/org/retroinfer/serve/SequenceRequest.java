package org.retroinfer.serve;

import java.util.List;
import java.util.Set;
import org.retroinfer.model.generation.SamplingParams;

/**
 * One sequence for the scheduler to run: its prompt tokens, how many tokens it may add, how to
 * sample them, and what ends it.
 *
 * @param stopTokens       tokens that end the sequence (the model's end-of-sequence tokens);
 *                         they are not part of the text
 * @param stopStrings      strings that end the text where they first appear, left out of it
 * @param retrievalBudget  this sequence's RetroInfer retrieval budget, or null for the server's
 * @param estimationBudget this sequence's RetroInfer estimation budget, or null for the server's
 */
public record SequenceRequest(int[] prompt, int maxTokens, SamplingParams sampling, Set<Integer> stopTokens,
                              List<String> stopStrings, Double retrievalBudget, Double estimationBudget) {
    public SequenceRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt must hold at least one token");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be at least 1, got " + maxTokens);
        }
        prompt = prompt.clone();
        stopTokens = Set.copyOf(stopTokens);
        stopStrings = List.copyOf(stopStrings);
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    int promptLength() {
        return prompt.length;
    }

    int promptToken(int i) {
        return prompt[i];
    }
}
