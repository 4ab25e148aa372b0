package org.retroinfer.kvstore;

import java.lang.foreign.MemorySegment;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.DType;

/**
 * The running state of softmax attention for the query heads of one GQA group, folded in one run of
 * keys at a time (flash-decoding's (max, sum, unnormalised output) per head). Two such states over
 * disjoint key sets merge exactly by their log-sum-exps, which is how partial attentions combine.
 */
final class PartialSoftmax {
    private final int heads;
    private final int headDim;
    private final float[] max;
    private final float[] sum;
    private final float[] acc;

    PartialSoftmax(int heads, int headDim) {
        this.heads = heads;
        this.headDim = headDim;
        this.max = new float[heads];
        this.sum = new float[heads];
        this.acc = new float[heads * headDim];
    }

    void reset() {
        java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
        java.util.Arrays.fill(sum, 0f);
        java.util.Arrays.fill(acc, 0f);
    }

    /**
     * Folds in {@code n} keys whose scores are {@code scores[h·stride + t]} (overwritten with their
     * weights) and whose values start at byte {@code valuesOff} of {@code values}.
     */
    void add(float[] scores, int stride, int n, MemorySegment values, long valuesOff, DType type) {
        for (int h = 0; h < heads; h++) {
            int base = h * stride;
            float runMax = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) {
                runMax = Math.max(runMax, scores[base + t]);
            }
            float newMax = Math.max(max[h], runMax);
            if (newMax > max[h]) {
                // Earlier weights were relative to the old maximum; rescale them to the new one.
                float rescale = (float) Math.exp(max[h] - newMax);
                sum[h] *= rescale;
                for (int i = 0; i < headDim; i++) {
                    acc[h * headDim + i] *= rescale;
                }
                max[h] = newMax;
            }
            float runSum = 0;
            for (int t = 0; t < n; t++) {
                float w = (float) Math.exp(scores[base + t] - newMax);
                scores[base + t] = w;
                runSum += w;
            }
            sum[h] += runSum;
        }
        AttentionKernels.accumulate(scores, 0, stride, heads, values, valuesOff, type, n, headDim, acc, 0);
    }

    /** Writes each head's attention output, the weighted sum divided by the total weight. */
    void writeOutput(float[] out, int outOff) {
        for (int h = 0; h < heads; h++) {
            float inv = 1f / sum[h];
            for (int i = 0; i < headDim; i++) {
                out[outOff + h * headDim + i] = acc[h * headDim + i] * inv;
            }
        }
    }

    /** log Σ e^score of head {@code h} over every key folded in so far. */
    float logSumExp(int h) {
        return max[h] + (float) Math.log(sum[h]);
    }
}
