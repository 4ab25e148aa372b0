package org.retroinfer.examples;

import java.nio.file.Path;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.Sample;
import org.retroinfer.eval.tasks.RulerTasks;
import org.retroinfer.eval.tasks.TextHaystack;
import org.retroinfer.eval.tasks.WordKeys;
import org.retroinfer.model.Model;

/**
 * The sample the copy diagnostics ({@link CopyClusterTrace}, {@link CopyStepRecall}) follow: a RULER task's sample of seed
 * 1 and held-out keys, fitted to a length in the model's tokens, with its prompt and answer tokenised.
 */
record CopySample(Sample sample, int[] prompt, int[] answer) {
    static CopySample load(Path dir, Model model, EvalTask task, int length, int index) {
        Sample s = RulerTasks.sample(task, 1, length, index, WordKeys.Split.HELDOUT,
                RulerTasks.needsText(task) ? TextHaystack.forModel(dir) : null, model.tokenizer());
        return new CopySample(s, model.tokenizer().encode(s.prompt(), true), model.tokenizer().encode(s.answer(), false));
    }
}
