package org.retroinfer.kvstore;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.VectorMath;

/**
 * The running state of softmax attention for the query heads of one GQA group, folded in one run of
 * keys at a time (flash-decoding's (max, sum, unnormalised output) per head). The state of head h
 * stands for the output {@code acc/sum} and the log-sum-exp {@code max + log sum}; two states over
 * disjoint key sets merge exactly by their log-sum-exps ({@link SoftmaxMerge}), which is how partial
 * attentions combine.
 */
public final class PartialSoftmax {
    private final int heads;
    private final int headDim;
    final float[] max;
    final float[] sum;
    final float[] acc;

    public PartialSoftmax(int heads, int headDim) {
        this.heads = heads;
        this.headDim = headDim;
        this.max = new float[heads];
        this.sum = new float[heads];
        this.acc = new float[heads * headDim];
        reset();
    }

    public int heads() {
        return heads;
    }

    public int headDim() {
        return headDim;
    }

    /** Forgets every key folded in: the state of an empty key set. */
    public void reset() {
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0f);
        Arrays.fill(acc, 0f);
    }

    /**
     * Folds in {@code n} keys whose scores are {@code scores[h·stride + t]} (overwritten with their
     * weights) and whose values start at byte {@code valuesOff} of {@code values}.
     */
    public void add(float[] scores, int stride, int n, MemorySegment values, long valuesOff, DType type) {
        foldScores(scores, 0, stride, n);
        accumulate(scores, 0, stride, n, values, valuesOff, type);
    }

    /**
     * The first half of {@link #add}, for keys whose values are not one run: turns the scores
     * {@code scores[off + h·stride + t]} (t < n) into weights relative to the new running maximum,
     * adds them to the sums and rescales what was accumulated before. Every weight must then be
     * passed to {@link #accumulate} before the next fold.
     */
    public void foldScores(float[] scores, int off, int stride, int n) {
        for (int h = 0; h < heads; h++) {
            int base = off + h * stride;
            float newMax = Math.max(max[h], VectorMath.max(scores, base, n));
            if (newMax > max[h]) {
                // Earlier weights were relative to the old maximum; rescale them to the new one.
                float rescale = (float) Math.exp(max[h] - newMax);
                sum[h] *= rescale;
                VectorMath.scale(acc, h * headDim, headDim, rescale);
                max[h] = newMax;
            }
            sum[h] += VectorMath.expInPlace(scores, base, n, newMax);
        }
    }

    /**
     * Adds {@code Σ_t weights[off + h·stride + t] · v_t} (t < n) to each head's output, where v_t
     * starts at byte {@code valuesOff + t·headDim·2}: the second half of {@link #add}.
     */
    public void accumulate(float[] weights, int off, int stride, int n, MemorySegment values, long valuesOff,
                           DType type) {
        AttentionKernels.accumulate(weights, off, stride, heads, values, valuesOff, type, n, headDim, acc, 0);
    }

    /**
     * Folds in a partial computed elsewhere for head {@code h}: maximum {@code otherMax}, weight sum
     * {@code otherSum} and unnormalised output {@code otherAcc[otherOff ..]} relative to that maximum.
     */
    public void merge(int h, float otherMax, float otherSum, float[] otherAcc, int otherOff) {
        SoftmaxMerge.merge(max, sum, acc, h, headDim, otherMax, otherSum, otherAcc, otherOff);
    }

    /** Folds in every head of {@code other}, a state over keys disjoint from this one's. */
    public void merge(PartialSoftmax other) {
        if (other.heads != heads || other.headDim != headDim) {
            throw new IllegalArgumentException("cannot merge a partial softmax of " + other.heads + "x" + other.headDim
                    + " into one of " + heads + "x" + headDim);
        }
        for (int h = 0; h < heads; h++) {
            merge(h, other.max[h], other.sum[h], other.acc, h * headDim);
        }
    }

    /** Writes each head's attention output, the weighted sum divided by the total weight. */
    public void writeOutput(float[] out, int outOff) {
        for (int h = 0; h < heads; h++) {
            float inv = 1f / sum[h];
            for (int i = 0; i < headDim; i++) {
                out[outOff + h * headDim + i] = acc[h * headDim + i] * inv;
            }
        }
    }

    /** log Σ e^score of head {@code h} over every key folded in so far (−∞ for none). */
    public float logSumExp(int h) {
        return max[h] + (float) Math.log(sum[h]);
    }
}
