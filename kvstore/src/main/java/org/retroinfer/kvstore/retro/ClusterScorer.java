package org.retroinfer.kvstore.retro;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import org.retroinfer.kernels.VectorMath;
import org.retroinfer.kvstore.TopK;

/**
 * Ranks the clusters of one (sequence, layer, KV head) index for one decode step (spec §2.2):
 * y = q·c/√d for each query head of the GQA group and each centroid c, a softmax over clusters per
 * query head, the sum of those softmaxes over the group as the cluster's score, empty clusters
 * masked, and the top {@code retrieval + estimation} clusters split by rank into the retrieval
 * and the estimation zone. Scores are F32 (the reference sums bf16, so ties may break differently).
 *
 * <p>After {@link #softmax}, {@link #weights} holds e^(y − max) per query head and cluster and
 * {@link #max} the head's maximum: the estimation zone's weights, relative to the same maximum.
 */
final class ClusterScorer {
    private static final int L = ClusterBatch.BLOCK;

    private final int heads;
    private final int clusters;
    /** y, then e^(y − max): query head h, cluster c at {@code h·clusters + c}. */
    private final float[] weights;
    private final float[] max;
    private final float[] total;
    private final float[] score;

    /** A scorer with arrays of its own. */
    ClusterScorer(int heads, int clusters) {
        this(heads, clusters, new float[heads * clusters], new float[clusters]);
    }

    /**
     * A scorer over this thread's {@link DecodeScratch}: for a (sequence, KV head) task that the
     * thread scores, ranks and attends to alone, before its next task.
     */
    static ClusterScorer onThreadScratch(int heads, int clusters) {
        DecodeScratch scratch = DecodeScratch.get();
        return new ClusterScorer(heads, clusters, scratch.weights(heads * clusters), scratch.scores(clusters));
    }

    private ClusterScorer(int heads, int clusters, float[] weights, float[] score) {
        this.heads = heads;
        this.clusters = clusters;
        this.weights = weights;
        this.max = new float[heads];
        this.total = new float[heads];
        this.score = score;
    }

    /** The clusters chosen for exact attention and for estimation, in no particular order. */
    record Selection(int[] retrieval, int[] estimation) {}

    /**
     * y for clusters [from, to) of {@code kvHead}, for the group's query heads at {@code q[qOff ..]}.
     * Each block of centroids is scored by broadcasting one query coordinate against one vector
     * of the block's coordinates: 4 query heads × 2 blocks of FMA chains at a time.
     */
    void logits(WaveIndex index, int kvHead, float[] q, int qOff, int headDim, float scale, int from, int to) {
        for (int b = index.batchOf(from); b < index.batchCount() && index.base(b) < to; b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            int base = index.base(b);
            int first = Math.max(from, base) - base;
            int last = Math.min(to, base + batch.clusters()) - base;
            int h = 0;
            for (; h < heads; h += 4) {
                int count = Math.min(4, heads - h);
                for (int block = first / L; block * L < last; block += 2) {
                    scoreBlocks(batch, block, Math.min(2, ClusterBatch.blocks(batch.clusters()) - block), q,
                            qOff + h * headDim, count, headDim, scale, h, base, first, last);
                }
            }
        }
    }

    /**
     * Scores {@code blocks} (1 or 2) blocks of centroids from block {@code block} against
     * {@code count} (1 to 4) query heads from {@code q[qOff ..]} (missing heads repeat the last),
     * and keeps the lanes of clusters in [first, last) of the batch, at {@code base} in the
     * weights of query heads from {@code head}.
     */
    private void scoreBlocks(ClusterBatch batch, int block, int blocks, float[] q, int qOff, int count, int headDim,
                             float scale, int head, int base, int first, int last) {
        MemorySegment data = batch.data();
        int q0 = qOff, q1 = qOff + Math.min(1, count - 1) * headDim;
        int q2 = qOff + Math.min(2, count - 1) * headDim, q3 = qOff + Math.min(3, count - 1) * headDim;
        FloatVector a00 = FloatVector.zero(FLOAT), a01 = a00, a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int second = blocks == 2 ? block + 1 : block;
        for (int i = 0; i < headDim; i++) {
            FloatVector c0 = FloatVector.fromMemorySegment(FLOAT, data, batch.centroidOffset(block, i), ORDER);
            FloatVector c1 = FloatVector.fromMemorySegment(FLOAT, data, batch.centroidOffset(second, i), ORDER);
            FloatVector x = FloatVector.broadcast(FLOAT, q[q0 + i]);
            a00 = c0.fma(x, a00);
            a01 = c1.fma(x, a01);
            x = FloatVector.broadcast(FLOAT, q[q1 + i]);
            a10 = c0.fma(x, a10);
            a11 = c1.fma(x, a11);
            x = FloatVector.broadcast(FLOAT, q[q2 + i]);
            a20 = c0.fma(x, a20);
            a21 = c1.fma(x, a21);
            x = FloatVector.broadcast(FLOAT, q[q3 + i]);
            a30 = c0.fma(x, a30);
            a31 = c1.fma(x, a31);
        }
        VectorMask<Float> in0 = FLOAT.indexInRange(block * L - first, last - first);
        VectorMask<Float> in1 = FLOAT.indexInRange((block + 1) * L - first, blocks == 2 ? last - first : 0);
        int out0 = base + block * L;
        int out1 = out0 + L;
        a00.mul(scale).intoArray(weights, head * clusters + out0, in0);
        a01.mul(scale).intoArray(weights, head * clusters + out1, in1);
        if (count > 1) {
            a10.mul(scale).intoArray(weights, (head + 1) * clusters + out0, in0);
            a11.mul(scale).intoArray(weights, (head + 1) * clusters + out1, in1);
        }
        if (count > 2) {
            a20.mul(scale).intoArray(weights, (head + 2) * clusters + out0, in0);
            a21.mul(scale).intoArray(weights, (head + 2) * clusters + out1, in1);
        }
        if (count > 3) {
            a30.mul(scale).intoArray(weights, (head + 3) * clusters + out0, in0);
            a31.mul(scale).intoArray(weights, (head + 3) * clusters + out1, in1);
        }
    }

    /** The per-head softmax over all clusters, and each cluster's score, the sum over the group. */
    void softmax() {
        java.util.Arrays.fill(score, 0, clusters, 0f);
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
        long[] keys = DecodeScratch.get().rankKeys(clusters);
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

    /** The weights of all heads: head h, cluster c at {@code h·clusters() + c} (the array may be longer). */
    float[] weights() {
        return weights;
    }

    /** Cluster {@code c}'s score after {@link #softmax}: the sum over the group of its softmax shares. */
    float score(int c) {
        return score[c];
    }

    /** The maximum y of query head {@code h}, the reference of its weights. */
    float max(int h) {
        return max[h];
    }

    int clusters() {
        return clusters;
    }
}
