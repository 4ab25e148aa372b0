package org.retroinfer.model.transformer;

import org.retroinfer.kernels.gpu.RowArgmax;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.config.ModelConfig;

/**
 * One forward step of the decoder over a batch of token rows, wherever it runs: {@link Transformer} on the CPU,
 * {@link org.retroinfer.model.gpu.GpuTransformer} on a GPU. The generator drives either.
 */
public interface ForwardPass {
    ModelConfig config();

    /**
     * Runs the step and writes the logits of the rows listed in {@code logitRows} into {@code logits}
     * ({@code [logitRows.length][vocab]}).
     *
     * @param layout    which sequence each row belongs to; a sequence's rows are its next positions
     * @param tokens    the token of each row
     * @param positions the position of each row in its sequence
     */
    void forward(BatchLayout layout, int[] tokens, long[] positions, KvCache cache, int[] logitRows, float[] logits);

    /**
     * Runs the step and writes the greedy choice of each row listed in {@code logitRows}, the index of its largest
     * logit ({@link RowArgmax#of}), into {@code next} (which may be {@code tokens}: they are read first). A device that
     * can choose without sending the logits back does.
     */
    default void forwardGreedy(BatchLayout layout, int[] tokens, long[] positions, KvCache cache, int[] logitRows, int[] next) {
        int vocab = config().vocabSize();
        float[] logits = new float[logitRows.length * vocab];
        forward(layout, tokens, positions, cache, logitRows, logits);
        for (int i = 0; i < logitRows.length; i++) {
            next[i] = RowArgmax.of(logits, i * vocab, vocab);
        }
    }
}
