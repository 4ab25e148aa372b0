package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.MAX_GROUP;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.PARTIAL_THREADS;
import static org.retroinfer.kernels.gpu.SplitKvDecode.KEY_STRIDE;
import static org.retroinfer.kernels.gpu.SplitKvDecode.MAX;
import static org.retroinfer.kernels.gpu.SplitKvDecode.SLICES;
import static org.retroinfer.kernels.gpu.SplitKvDecode.SUM;
import static org.retroinfer.kernels.gpu.SplitKvDecode.TILE;
import static org.retroinfer.kernels.gpu.SplitKvDecode.WARPS;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The first half of cluster ranking (retroinfer-spec.md §2.2, {@code batch_gemm_softmax}): y = q·c/√d for every
 * query head of a KV head's GQA group and every centroid of the row, and the softmax statistics of each head
 * over a split of the row's clusters. {@link ClusterTopK} combines the splits' statistics by log-sum-exp, sums
 * the group's softmaxes into each cluster's score and selects the zones. Layout and grids:
 * {@link ClusterScoringShape}.
 *
 * <p>A row holds up to ~8K clusters at 128K tokens while a batch may have only 8 to 32 rows, so each row's
 * clusters are cut into {@code splits} chunks of whole 32-centroid tiles, one block per chunk, as
 * {@link SplitKvDecode} cuts keys (the same split arithmetic, {@link SplitKvDecode#tokensPerSplit}). A block
 * stages a tile of centroids in shared memory as F32, scores every (head, centroid) pair with the decode
 * kernels' quad-of-lanes dot products, writes y, and updates each head's running max and Σ e^(y − max) (one
 * warp per head). The softmax runs over every cluster below the row's count, empty ones included, as the
 * reference does: empty clusters are masked only when selecting (spec §2.2 step 3).
 */
public final class CentroidScoring {
    private CentroidScoring() {}

    /**
     * Logits and per-split statistics for BF16 centroids: {@code logits[row][g][c] = scale · q_g · c},
     * {@code partialMax/partialSum[row][split][g]} the max of y and Σ e^(y − max) over the split's clusters
     * (−∞ and 0 for an empty split). Launch on {@link ClusterScoringShape#scoringGrid()}.
     */
    @Kernel
    public static void logitsBf16(KernelContext ctx, F32Array q, BF16Array centroids, I32Array counts, F32Array logits,
            F32Array partialMax, F32Array partialSum, int capacity, int splits, float scale, @Constant int group) {
        float[] queries = ctx.allocateFloatLocalArray(group * HEAD_DIM);
        float[] keys = ctx.allocateFloatLocalArray(TILE * KEY_STRIDE);
        float[] scores = ctx.allocateFloatLocalArray(group * TILE);
        float[] stats = ctx.allocateFloatLocalArray(3 * MAX_GROUP);
        int row = ctx.groupIdx / splits;
        int count = counts.get(row);
        int perSplit = SplitKvDecode.tokensPerSplit(count, splits);
        int end = Math.min(count, (ctx.groupIdx - row * splits + 1) * perSplit);
        long slot = (long) row * capacity * HEAD_DIM;
        SplitKvDecode.begin(ctx, q, (long) row * group * HEAD_DIM, scale, group, queries, stats);
        for (int first = (ctx.groupIdx - row * splits) * perSplit; first < end; first += TILE) {
            stageTile(ctx, centroids, slot, first, end, keys);
            scoreTile(ctx, first, end, group, queries, keys, scores, stats, logits, (long) row * group * capacity, capacity);
        }
        finish(ctx, partialMax, partialSum, (long) ctx.groupIdx * group, group, stats);
    }

    /** {@link #logitsBf16} for F32 centroids (as the CPU index keeps them); only the tile staging differs. */
    @Kernel
    public static void logitsF32(KernelContext ctx, F32Array q, F32Array centroids, I32Array counts, F32Array logits,
            F32Array partialMax, F32Array partialSum, int capacity, int splits, float scale, @Constant int group) {
        float[] queries = ctx.allocateFloatLocalArray(group * HEAD_DIM);
        float[] keys = ctx.allocateFloatLocalArray(TILE * KEY_STRIDE);
        float[] scores = ctx.allocateFloatLocalArray(group * TILE);
        float[] stats = ctx.allocateFloatLocalArray(3 * MAX_GROUP);
        int row = ctx.groupIdx / splits;
        int count = counts.get(row);
        int perSplit = SplitKvDecode.tokensPerSplit(count, splits);
        int end = Math.min(count, (ctx.groupIdx - row * splits + 1) * perSplit);
        long slot = (long) row * capacity * HEAD_DIM;
        SplitKvDecode.begin(ctx, q, (long) row * group * HEAD_DIM, scale, group, queries, stats);
        for (int first = (ctx.groupIdx - row * splits) * perSplit; first < end; first += TILE) {
            stageTile(ctx, centroids, slot, first, end, keys);
            scoreTile(ctx, first, end, group, queries, keys, scores, stats, logits, (long) row * group * capacity, capacity);
        }
        finish(ctx, partialMax, partialSum, (long) ctx.groupIdx * group, group, stats);
    }

    /**
     * Converts the tile's centroids to F32 in shared memory, one 16-byte load per step. Slots past {@code end}
     * are zeroed, not read: they lie past the row's clusters, where the padding may hold anything.
     */
    private static void stageTile(KernelContext ctx, BF16Array centroids, long slot, int first, int end, float[] keys) {
        for (int c = ctx.localIdx; c < TILE * SLICES; c += PARTIAL_THREADS) {
            int t = c / SLICES;
            int d = (c - t * SLICES) * 8;
            if (first + t < end) {
                SplitKvDecode.store8(keys, t * KEY_STRIDE + d, centroids.getFloat8(slot + (long) (first + t) * HEAD_DIM + d));
            } else {
                SplitKvDecode.store8(keys, t * KEY_STRIDE + d, SplitKvDecode.zero8());
            }
        }
        ctx.localBarrier();
    }

    /** {@link #stageTile(KernelContext, BF16Array, long, int, int, float[])} for F32: two 16-byte loads per step. */
    private static void stageTile(KernelContext ctx, F32Array centroids, long slot, int first, int end, float[] keys) {
        for (int c = ctx.localIdx; c < TILE * SLICES; c += PARTIAL_THREADS) {
            int t = c / SLICES;
            int d = (c - t * SLICES) * 8;
            int at = t * KEY_STRIDE + d;
            if (first + t < end) {
                long from = slot + (long) (first + t) * HEAD_DIM + d;
                Float4 low = centroids.getFloat4(from);
                Float4 high = centroids.getFloat4(from + 4);
                keys[at] = low.x();
                keys[at + 1] = low.y();
                keys[at + 2] = low.z();
                keys[at + 3] = low.w();
                keys[at + 4] = high.x();
                keys[at + 5] = high.y();
                keys[at + 6] = high.z();
                keys[at + 7] = high.w();
            } else {
                SplitKvDecode.store8(keys, at, SplitKvDecode.zero8());
            }
        }
        ctx.localBarrier();
    }

    /**
     * Scores the staged tile, writes y of its clusters below {@code end} (one warp per head, a lane per cluster,
     * so each write is one 128-byte line) and folds the tile into the head's running max and sum. No closing
     * barrier: the next tile's staging ends with one before anything here is overwritten, and {@link #finish}
     * starts with one.
     */
    private static void scoreTile(KernelContext ctx, int first, int end, int group, float[] queries, float[] keys,
            float[] scores, float[] stats, F32Array logits, long rowLogits, int capacity) {
        SplitKvDecode.scoreTile(ctx, first, end, group, queries, keys, scores);
        for (int g = ctx.warpId; g < group; g += WARPS) {
            int cluster = first + ctx.laneId;
            if (cluster < end) {
                logits.set(rowLogits + (long) g * capacity + cluster, scores[g * TILE + ctx.laneId]);
            }
            SplitKvDecode.updateHead(ctx, g, 1f, scores, stats);
        }
    }

    /** Writes each head's max and Σ e^(y − max) over the split (−∞ and 0 when the split is empty). */
    private static void finish(KernelContext ctx, F32Array partialMax, F32Array partialSum, long firstRow, int group,
            float[] stats) {
        ctx.localBarrier();
        if (ctx.localIdx < group) {
            partialMax.set(firstRow + ctx.localIdx, stats[MAX + ctx.localIdx]);
            partialSum.set(firstRow + ctx.localIdx, stats[SUM + ctx.localIdx]);
        }
    }
}
