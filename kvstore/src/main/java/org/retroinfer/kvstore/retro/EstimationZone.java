package org.retroinfer.kvstore.retro;

import java.lang.foreign.MemorySegment;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.PartialSoftmax;

/**
 * The estimated clusters' share of attention (spec §2.3): with y_i = q·c_i/√d, every member of
 * cluster i is given the weight e^(y_i), so cluster i adds s_i·e^(y_i) to the softmax's denominator
 * and e^(y_i)·VS_i to its numerator. By Jensen's inequality s_i·e^(y_i) never exceeds the members'
 * true Σ e^(x). The weights come from the {@link ClusterScorer}, relative to each query head's
 * maximum over all clusters, and enter the exact partial through the log-sum-exp merge.
 *
 * <p>The estimated clusters' value sums are scattered over the index, so they are first gathered
 * (bit for bit) into one run, which the value-accumulation kernel then reads once for all heads.
 */
final class EstimationZone {
    private EstimationZone() {}

    /**
     * Merges the estimate of clusters {@code clusters[i]} of {@code kvHead}, for every
     * i ≡ part (mod parts), into {@code state}.
     */
    static void estimate(WaveIndex index, int kvHead, int[] clusters, int part, int parts, ClusterScorer scorer,
                         PartialSoftmax state) {
        int count = part < clusters.length ? (clusters.length - part + parts - 1) / parts : 0;
        if (count == 0) {
            return;
        }
        int heads = state.heads();
        int headDim = state.headDim();
        int total = scorer.clusters();
        float[] weights = scorer.weights();
        float[] gathered = new float[heads * count];
        float[] denominator = new float[heads];
        long rowBytes = 2L * headDim;
        // A heap segment over a byte array: the only kind of heap memory vector loads accept.
        MemorySegment valueSums = MemorySegment.ofArray(new byte[Math.toIntExact(count * rowBytes)]);
        DType type = index.batch(kvHead, 0).type();
        for (int j = 0, i = part; j < count; j++, i += parts) {
            int c = clusters[i];
            int b = index.batchOf(c);
            ClusterBatch batch = index.batch(kvHead, b);
            int local = c - index.base(b);
            MemorySegment.copy(batch.data(), batch.valueSumOffset(local), valueSums, j * rowBytes, rowBytes);
            float size = batch.sizes()[local];
            for (int h = 0; h < heads; h++) {
                float w = weights[h * total + c];
                gathered[h * count + j] = w;
                denominator[h] += size * w;
            }
        }
        float[] acc = new float[heads * headDim];
        AttentionKernels.accumulate(gathered, 0, count, heads, valueSums, 0, type, count, headDim, acc, 0);
        for (int h = 0; h < heads; h++) {
            state.merge(h, scorer.max(h), denominator[h], acc, h * headDim);
        }
    }
}
