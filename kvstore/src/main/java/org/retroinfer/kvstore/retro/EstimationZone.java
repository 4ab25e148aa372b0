package org.retroinfer.kvstore.retro;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import jdk.incubator.vector.FloatVector;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.kvstore.PartialSoftmax;

/**
 * The estimated clusters' share of attention (spec §2.3): with y_i = q·c_i/√d, every member of
 * cluster i is given the weight e^(y_i), so cluster i adds s_i·e^(y_i) to the softmax's denominator
 * and e^(y_i)·VS_i to its numerator. By Jensen's inequality s_i·e^(y_i) never exceeds the members'
 * true Σ e^(x). The weights come from the {@link ClusterScorer}, relative to each query head's
 * maximum over all clusters, and enter the exact partial through the log-sum-exp merge.
 *
 * <p>The estimated clusters' value sums are scattered over the index, so they are first gathered
 * as floats into one run, which is then weighted for up to 4 query heads at a time, each run
 * vector loaded once. (The gather is into a float array rather than a heap memory segment: a heap
 * segment reaching the shared F16/BF16 loads would make them polymorphic, and every attention
 * kernel slower.)
 */
final class EstimationZone {
    private static final int L = FLOAT.length();

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
        DecodeScratch scratch = DecodeScratch.get();
        float[] gathered = scratch.gathered(heads * count);
        float[] denominator = new float[heads];
        float[] valueSums = scratch.valueSums(count * headDim);
        for (int j = 0, i = part; j < count; j++, i += parts) {
            int c = clusters[i];
            int b = index.batchOf(c);
            ClusterBatch batch = index.batch(kvHead, b);
            int local = c - index.base(b);
            Dequantize.row(batch.type(), batch.data(), batch.valueSumOffset(local), headDim, valueSums, j * headDim);
            float size = batch.sizes()[local];
            for (int h = 0; h < heads; h++) {
                float w = weights[h * total + c];
                gathered[h * count + j] = w;
                denominator[h] += size * w;
            }
        }
        float[] acc = new float[heads * headDim];
        for (int h = 0; h < heads; h += 4) {
            weigh(gathered, h, Math.min(4, heads - h), count, valueSums, headDim, acc);
        }
        for (int h = 0; h < heads; h++) {
            state.merge(h, scorer.max(h), denominator[h], acc, h * headDim);
        }
    }

    /**
     * {@code acc[(h0 + k)·headDim + i] = Σ_j w[(h0 + k)·count + j] · vs[j·headDim + i]} for the
     * {@code n} (1 to 4) heads from {@code h0}; missing heads repeat the last and are not stored.
     */
    private static void weigh(float[] w, int h0, int n, int count, float[] vs, int headDim, float[] acc) {
        int w0 = h0 * count;
        int w1 = (h0 + Math.min(1, n - 1)) * count;
        int w2 = (h0 + Math.min(2, n - 1)) * count;
        int w3 = (h0 + Math.min(3, n - 1)) * count;
        int i = 0;
        for (; i <= headDim - L; i += L) {
            FloatVector a0 = FloatVector.zero(FLOAT), a1 = a0, a2 = a0, a3 = a0;
            for (int j = 0; j < count; j++) {
                FloatVector v = FloatVector.fromArray(FLOAT, vs, j * headDim + i);
                a0 = v.fma(FloatVector.broadcast(FLOAT, w[w0 + j]), a0);
                a1 = v.fma(FloatVector.broadcast(FLOAT, w[w1 + j]), a1);
                a2 = v.fma(FloatVector.broadcast(FLOAT, w[w2 + j]), a2);
                a3 = v.fma(FloatVector.broadcast(FLOAT, w[w3 + j]), a3);
            }
            a0.intoArray(acc, h0 * headDim + i);
            if (n > 1) {
                a1.intoArray(acc, (h0 + 1) * headDim + i);
            }
            if (n > 2) {
                a2.intoArray(acc, (h0 + 2) * headDim + i);
            }
            if (n > 3) {
                a3.intoArray(acc, (h0 + 3) * headDim + i);
            }
        }
        for (; i < headDim; i++) {
            for (int k = 0; k < n; k++) {
                float sum = 0;
                for (int j = 0; j < count; j++) {
                    sum += w[(h0 + k) * count + j] * vs[j * headDim + i];
                }
                acc[(h0 + k) * headDim + i] = sum;
            }
        }
    }
}
