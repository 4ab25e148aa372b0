package org.retroinfer.eval.tasks;

import java.util.List;

/**
 * A generated task before it is fitted to a length: the prompt (ending with the answer prefix), the
 * exact answer, and RULER's reference strings.
 */
public record TaskPrompt(String prompt, String answer, List<String> references) {
    public TaskPrompt {
        references = List.copyOf(references);
    }
}
