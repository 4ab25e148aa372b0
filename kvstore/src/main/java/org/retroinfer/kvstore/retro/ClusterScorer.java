package org.retroinfer.kvstore.retro;

import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.VectorMath;

/**
 * Ranks the clusters of one (sequence, layer, KV head) index for one decode step (spec §2.2):
 * y = q·c/√d for each query head of the GQA group and each centroid c, a softmax over clusters per
 * query head, the sum of those softmaxes over the group as the cluster's score, empty clusters
 * masked, and the top {@code retrieval + estimation} clusters split by rank into the retrieval
 * and the estimation zone. Scores are F32 (the reference sums bf16, so ties may break differently).
 *
 * <p>After {@link #softmax}, {@link #weight} holds e^(y − max) per query head and cluster and
 * {@link #max} the head's maximum: the estimation zone's weights, relative to the same maximum.
 */
final class ClusterScorer {
    private final int heads;
    private final int clusters;
    /** y, then e^(y − max): query head h, cluster c at {@code h·clusters + c}. */
    private final float[] weights;
    private final float[] max;
    private final float[] total;
    private final float[] score;

    ClusterScorer(int heads, int clusters) {
        this.heads = heads;
        this.clusters = clusters;
        this.weights = new float[heads * clusters];
        this.max = new float[heads];
        this.total = new float[heads];
        this.score = new float[clusters];
    }

    /** The clusters chosen for exact attention and for estimation, in no particular order. */
    record Selection(int[] retrieval, int[] estimation) {}

    /**
     * y for clusters [from, to) of {@code kvHead}, for the group's query heads at {@code q[qOff ..]}:
     * the centroids of each batch are one run, scored like keys.
     */
    void logits(WaveIndex index, int kvHead, float[] q, int qOff, int headDim, float scale, int from, int to) {
        for (int b = index.batchOf(from); b < index.batchCount() && index.base(b) < to; b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            int base = index.base(b);
            int first = Math.max(from, base);
            int last = Math.min(to, base + batch.clusters());
            AttentionKernels.scores(q, qOff, heads, headDim, batch.data(), batch.centroidOffset(first - base),
                    batch.type(), last - first, scale, weights, first, clusters);
        }
    }

    /** The per-head softmax over all clusters, and each cluster's score, the sum over the group. */
    void softmax() {
        java.util.Arrays.fill(score, 0f);
        for (int h = 0; h < heads; h++) {
            int base = h * clusters;
            max[h] = VectorMath.max(weights, base, clusters);
            total[h] = VectorMath.expInPlace(weights, base, clusters, max[h]);
            float inv = 1f / total[h];
            for (int c = 0; c < clusters; c++) {
                score[c] += weights[base + c] * inv;
            }
        }
    }

    /**
     * The top {@code min(budget.retrieval, non-empty)} non-empty clusters by score for retrieval and
     * the next {@code min(budget.estimation, C − retrieval)} for estimation; ties go to the lower id.
     */
    Selection select(WaveIndex index, int kvHead, ZoneBudget budget) {
        long[] keys = new long[clusters];
        int candidates = 0;
        for (int b = 0; b < index.batchCount(); b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            int base = index.base(b);
            int[] sizes = batch.sizes();
            for (int c = 0; c < batch.clusters(); c++) {
                if (sizes[c] > 0) {
                    keys[candidates++] = rankKey(score[base + c], base + c);
                }
            }
        }
        int retrieval = Math.min(budget.retrieval(), candidates);
        int estimation = Math.min(Math.min(budget.estimation(), clusters - retrieval), candidates - retrieval);
        TopK.select(keys, candidates, retrieval + estimation);
        TopK.select(keys, retrieval + estimation, retrieval);
        return new Selection(ids(keys, 0, retrieval), ids(keys, retrieval, estimation));
    }

    /** Orders by score, then by lower id: larger keys rank first. */
    private static long rankKey(float score, int id) {
        int bits = Float.floatToRawIntBits(score);
        int sortable = bits ^ ((bits >> 31) & 0x7FFF_FFFF);
        return ((long) sortable << 32) | (0xFFFF_FFFFL - id);
    }

    private static int[] ids(long[] keys, int from, int count) {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = (int) (0xFFFF_FFFFL - (keys[from + i] & 0xFFFF_FFFFL));
        }
        return ids;
    }

    /** e^(y − max) of query head {@code h} for cluster {@code c}, after {@link #softmax}. */
    float weight(int h, int c) {
        return weights[h * clusters + c];
    }

    /** The weights of all heads: head h, cluster c at {@code h·clusters() + c}. */
    float[] weights() {
        return weights;
    }

    /** The maximum y of query head {@code h}, the reference of its weights. */
    float max(int h) {
        return max[h];
    }

    int clusters() {
        return clusters;
    }
}
