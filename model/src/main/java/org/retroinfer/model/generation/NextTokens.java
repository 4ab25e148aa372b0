package org.retroinfer.model.generation;

import java.util.Arrays;
import java.util.BitSet;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.transformer.ForwardPass;

/**
 * One forward step and the next token of each sampled row: chosen where the step runs ({@link ForwardPass#forwardGreedy},
 * on the GPU one int a row instead of its logits) when every row's sampler takes the largest logit, else sampled from the
 * logits.
 */
public final class NextTokens {
    private NextTokens() {}

    /**
     * Runs the step and returns the next token of each row in {@code logitRows}, by {@code samplers[i]} given the tokens
     * {@code seen[i]} of its sequence.
     */
    public static int[] step(ForwardPass model, BatchLayout layout, int[] tokens, long[] positions, KvCache cache,
            int[] logitRows, Sampler[] samplers, BitSet[] seen) {
        int[] next = new int[logitRows.length];
        if (Arrays.stream(samplers).allMatch(Sampler::takesLargestLogit)) {
            model.forwardGreedy(layout, tokens, positions, cache, logitRows, next);
            return next;
        }
        int vocab = model.config().vocabSize();
        float[] logits = new float[logitRows.length * vocab];
        model.forward(layout, tokens, positions, cache, logitRows, logits);
        for (int i = 0; i < logitRows.length; i++) {
            next[i] = samplers[i].sample(logits, i * vocab, vocab, seen[i]);
        }
        return next;
    }
}
