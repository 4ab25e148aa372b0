package org.retroinfer.kvstore.retro;

import java.util.Arrays;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kvstore.PartialSoftmax;

/**
 * The estimated clusters' share of attention (spec §2.3): with y_i = q·c_i/√d, every member of
 * cluster i is given the weight e^(y_i), so cluster i adds s_i·e^(y_i) to the softmax's denominator
 * and e^(y_i)·VS_i to its numerator. By Jensen's inequality s_i·e^(y_i) never exceeds the members'
 * true Σ e^(x). The weights come from the {@link ClusterScorer}, relative to each query head's
 * maximum over all clusters, and enter the exact partial through the log-sum-exp merge.
 */
final class EstimationZone {
    private EstimationZone() {}

    /**
     * Merges the estimate of clusters {@code clusters[i]} of {@code kvHead}, for every
     * i ≡ part (mod parts), into {@code state}. {@code acc} is scratch of heads × headDim floats.
     */
    static void estimate(WaveIndex index, int kvHead, int[] clusters, int part, int parts, ClusterScorer scorer,
                         PartialSoftmax state, float[] acc) {
        if (part >= clusters.length) {
            return;
        }
        int heads = state.heads();
        int headDim = state.headDim();
        int total = scorer.clusters();
        float[] weights = scorer.weights();
        float[] denominator = new float[heads];
        Arrays.fill(acc, 0, heads * headDim, 0f);
        for (int i = part; i < clusters.length; i += parts) {
            int c = clusters[i];
            int b = index.batchOf(c);
            ClusterBatch batch = index.batch(kvHead, b);
            int local = c - index.base(b);
            float size = batch.sizes()[local];
            for (int h = 0; h < heads; h++) {
                denominator[h] += size * weights[h * total + c];
            }
            AttentionKernels.accumulate(weights, c, total, heads, batch.data(), batch.valueSumOffset(local), batch.type(), 1,
                    headDim, acc, 0);
        }
        for (int h = 0; h < heads; h++) {
            state.merge(h, scorer.max(h), denominator[h], acc, h * headDim);
        }
    }
}
