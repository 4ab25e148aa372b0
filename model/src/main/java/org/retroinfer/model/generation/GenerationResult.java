package org.retroinfer.model.generation;

import java.util.List;

/** The completions of a {@link Generator#generate} call, in request order, and its timings. */
public record GenerationResult(List<Completion> completions, GenerationStats stats) {
    public GenerationResult {
        completions = List.copyOf(completions);
    }
}
