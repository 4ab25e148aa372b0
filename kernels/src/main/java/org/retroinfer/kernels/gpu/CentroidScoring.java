package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.PARTIAL_THREADS;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.QUAD;
import static org.retroinfer.kernels.gpu.SplitKvDecode.PER_LANE;
import static org.retroinfer.kernels.gpu.SplitKvDecode.TILE;
import static org.retroinfer.kernels.gpu.SplitKvDecode.TOKEN_LANES;
import static org.retroinfer.kernels.gpu.SplitKvDecode.dots;
import static org.retroinfer.kernels.gpu.SplitKvDecode.probability;
import static org.retroinfer.kernels.gpu.SplitKvDecode.query;
import static org.retroinfer.kernels.gpu.SplitKvDecode.transposedSum;

import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
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
 * {@link SplitKvDecode} cuts keys (the same split arithmetic, {@link SplitKvDecode#tokensPerSplit}), and
 * centroids stream into registers as its keys do: a block serves four query heads, each half-warp takes one
 * centroid at a time with a lane owning eight of its 128 dimensions (one 16-byte load of a 16-bit centroid, two
 * of an F32 one), a lane issues the loads of four centroids before it uses any, and the transposed butterfly
 * leaves one (centroid, head) score per lane. A group larger than four takes a block per four heads, as the
 * decode kernels do: each reads the split's centroids, but the quads of one split are neighbours in the grid,
 * so they run together and the second read mostly hits L2 (Llama 3 70B's group of 8; the 8B's group of 4 reads
 * each centroid once).
 *
 * <p>With no values to weigh, each lane keeps its own running max and sum (a lane always holds the same head)
 * at one exp per score and no shuffle; the lanes and warps of a head are combined once, at the end. A warp's
 * y store writes, for each of its four heads, eight consecutive clusters: four whole 32-byte sectors. ptxas
 * gives the 16-bit kernel 72 registers (seven blocks, 56 KiB of loads in flight per SM) and the F32 one 84-86
 * (five blocks, 80 KiB). The
 * softmax runs over every cluster below the row's count, empty ones included, as the reference does: empty
 * clusters are masked only when selecting (spec §2.2 step 3).
 */
public final class CentroidScoring {
    private static final int WARPS = PARTIAL_THREADS / KernelContext.WARP_SIZE;
    /** The shared merge area: each warp's four head maxima, then its four sums. */
    private static final int SUMS = WARPS * QUAD;

    private CentroidScoring() {}

    /**
     * Logits and per-split statistics for 16-bit centroids (BF16 or F16, as the index stores them):
     * {@code logits[row][g][c] = scale · q_g · c}, {@code partialMax/partialSum[row][split][g]} the max of y and Σ e^(y − max) over the split's clusters
     * (−∞ and 0 for an empty split). Block {@code (row · splits + split) · quads + quad} serves heads
     * {@code [4·quad, 4·quad + 4)}. Launch on {@link ClusterScoringShape#scoringGrid()}.
     */
    @Kernel
    public static void logitsHalf(KernelContext ctx, F32Array q, HalfPrecisionArray centroids, I32Array counts, F32Array logits,
            F32Array partialMax, F32Array partialSum, int capacity, int splits, float scale, @Constant int group) {
        float[] merge = ctx.allocateFloatLocalArray(2 * WARPS * QUAD);
        int quads = (group + QUAD - 1) / QUAD;
        int rowSplit = ctx.groupIdx / quads;
        int quad = ctx.groupIdx - rowSplit * quads;
        int row = rowSplit / splits;
        int split = rowSplit - row * splits;
        int count = counts.get(row);
        int perSplit = SplitKvDecode.tokensPerSplit(count, splits);
        int end = Math.min(count, (split + 1) * perSplit);
        int last = end - 1;
        int slice = ctx.laneId % TOKEN_LANES;
        int lead = ctx.warpId * 2 * PER_LANE + ctx.laneId / TOKEN_LANES; // this lane's centroid u of a step: lead + 2u
        long from = (long) row * capacity * HEAD_DIM + slice * 8;
        long qBase = ((long) row * group + quad * QUAD) * HEAD_DIM + slice * 8;
        int heads = group - quad * QUAD;
        Float8 q0 = query(q, qBase, 0, heads, scale);
        Float8 q1 = query(q, qBase, 1, heads, scale);
        Float8 q2 = query(q, qBase, 2, heads, scale);
        Float8 q3 = query(q, qBase, 3, heads, scale);
        // This lane's (centroid, head) pair of each step, after the transposed sum: centroid u = pair / 4, head pair % 4
        int pairToken = 2 * (slice / QUAD);
        int pairHead = slice % QUAD;
        long yRow = pairHead < heads ? ((long) row * group + quad * QUAD + pairHead) * capacity : -1;
        float max = Float.NEGATIVE_INFINITY; // over this lane's scores only
        float sum = 0f;
        for (int first = split * perSplit; first < end; first += TILE) {
            int t = first + lead;
            // Every load is issued before any use. Centroids past the end load the split's last one instead
            // (in bounds, and finite if the row is) and get y = −∞ below.
            Float8 c0 = centroids.getFloat8(from + (long) Math.min(t, last) * HEAD_DIM);
            Float8 c1 = centroids.getFloat8(from + (long) Math.min(t + 2, last) * HEAD_DIM);
            Float8 c2 = centroids.getFloat8(from + (long) Math.min(t + 4, last) * HEAD_DIM);
            Float8 c3 = centroids.getFloat8(from + (long) Math.min(t + 6, last) * HEAD_DIM);
            float y = logit(ctx, q0, q1, q2, q3, c0, c1, c2, c3, t + pairToken, end, logits, yRow);
            sum = addExp(sum, max, y);
            max = Math.max(max, y);
        }
        finish(ctx, merge, max, sum, partialMax, partialSum, ((long) row * splits + split) * group + quad * QUAD, heads);
    }

    /**
     * {@link #logitsHalf} for BF16 centroids on the tensor cores ({@link KernelContext#mmaBf16}): the FMA kernel spends
     * some 30 instructions a warp per centroid (16 lanes x 4 heads x 8 dimensions of FMAs, the transposed sums, the
     * exps), which held it to ~2.2 TB/s at 32K x 72 sequences on the H200 (136 us a layer for ~300 MB of centroids,
     * docs/results/gpu-retro/h200/s3-call-2); a multiply takes 8 centroids x 16 dimensions in one instruction.
     *
     * <p>A = the block's four query heads, scaled, in three bfloat16 parts: row h (h < 4) the first part of head h, row
     * h + 8 the second ({@link SplitBf16#packWithResidual}), row h + 4 the third ({@link SplitBf16#thirdPart}), the
     * other rows 0; each score is three outputs added, within about 2^-25 of the F32 query's product (two parts left
     * errors of ~1e-5, at the scores' test tolerance). B = eight centroids. A warp takes 16 centroids per step, a lane loading
     * 64 bytes of its centroid {@code g = lane / 4}: dimensions {@code 32j + 8t .. + 8} for {@code j < 4},
     * {@code t = lane % 4}, which are the k indices 2t, 2t + 1, 2t + 8, 2t + 9 of multiplies 2j and 2j + 1 (A numbers
     * its k the same way). Lane {@code (g, t)} ends with head g's scores of centroids 2t and 2t + 1 of each eight, for
     * g < 4 (and lane + 16 the third part's). Launch on {@link ClusterScoringShape#scoringGrid()} (BF16 centroids only).
     */
    @Kernel
    public static void logitsBf16Tensor(KernelContext ctx, F32Array q, HalfPrecisionArray centroids, I32Array counts,
            F32Array logits, F32Array partialMax, F32Array partialSum, int capacity, int splits, float scale,
            @Constant int group) {
        float[] merge = ctx.allocateFloatLocalArray(2 * WARPS * QUAD);
        int quads = (group + QUAD - 1) / QUAD;
        int rowSplit = ctx.groupIdx / quads;
        int quad = ctx.groupIdx - rowSplit * quads;
        int row = rowSplit / splits;
        int split = rowSplit - row * splits;
        int count = counts.get(row);
        int perSplit = SplitKvDecode.tokensPerSplit(count, splits);
        int end = Math.min(count, (split + 1) * perSplit);
        int last = Math.max(end - 1, 0);
        int g = ctx.laneId / 4, t = ctx.laneId % 4;
        int heads = group - quad * QUAD;
        boolean own = g < QUAD && g < heads;
        // lanes of g = 4 .. 7 hold row g of A: the third bfloat16 part of head g − 4
        int part = g < QUAD ? 0 : 1;
        boolean holds = g - QUAD * part < heads;
        long qBase = ((long) row * group + quad * QUAD + Math.min(g - QUAD * part, heads - 1)) * HEAD_DIM + 8 * t;
        Int4 a0 = queryFragment(q, qBase, holds, part, scale, 0), a1 = queryFragment(q, qBase, holds, part, scale, 4);
        Int4 a2 = queryFragment(q, qBase, holds, part, scale, 32), a3 = queryFragment(q, qBase, holds, part, scale, 36);
        Int4 a4 = queryFragment(q, qBase, holds, part, scale, 64), a5 = queryFragment(q, qBase, holds, part, scale, 68);
        Int4 a6 = queryFragment(q, qBase, holds, part, scale, 96), a7 = queryFragment(q, qBase, holds, part, scale, 100);
        long rowBase = (long) row * capacity * HEAD_DIM + 8 * t;
        long yRow = own ? ((long) row * group + quad * QUAD + g) * capacity : -1;
        float max = Float.NEGATIVE_INFINITY; // over this lane's scores only
        float sum = 0f;
        for (int first = split * perSplit + TENSOR_STEP * ctx.warpId; first < end; first += TENSOR_STEP * WARPS) {
            // Every load is issued before any use; centroids past the end load the split's last one (in bounds, and
            // finite if the row is) and get y = −∞ below.
            long c0 = rowBase + (long) Math.min(first + g, last) * HEAD_DIM;
            long c1 = rowBase + (long) Math.min(first + 8 + g, last) * HEAD_DIM;
            Int4 w00 = centroids.getWords(c0), w01 = centroids.getWords(c0 + 32);
            Int4 w02 = centroids.getWords(c0 + 64), w03 = centroids.getWords(c0 + 96);
            Int4 w10 = centroids.getWords(c1), w11 = centroids.getWords(c1 + 32);
            Int4 w12 = centroids.getWords(c1 + 64), w13 = centroids.getWords(c1 + 96);
            Float4 y0 = eight(ctx, a0, a1, a2, a3, a4, a5, a6, a7, w00, w01, w02, w03);
            Float4 y1 = eight(ctx, a0, a1, a2, a3, a4, a5, a6, a7, w10, w11, w12, w13);
            // head g's score: its high part (row g), its low part (row g + 8) and its third part (row g + 4, lane + 16)
            float e0 = ctx.shuffleXor(y0.x(), 16), e1 = ctx.shuffleXor(y0.y(), 16);
            float e2 = ctx.shuffleXor(y1.x(), 16), e3 = ctx.shuffleXor(y1.y(), 16);
            int cluster = first + 2 * t;
            float s0 = tensorLogit(y0.x() + (y0.z() + e0), cluster, end, logits, yRow);
            float s1 = tensorLogit(y0.y() + (y0.w() + e1), cluster + 1, end, logits, yRow);
            float s2 = tensorLogit(y1.x() + (y1.z() + e2), cluster + 8, end, logits, yRow);
            float s3 = tensorLogit(y1.y() + (y1.w() + e3), cluster + 9, end, logits, yRow);
            sum = addExp(sum, max, s0);
            max = Math.max(max, s0);
            sum = addExp(sum, max, s1);
            max = Math.max(max, s1);
            sum = addExp(sum, max, s2);
            max = Math.max(max, s2);
            sum = addExp(sum, max, s3);
            max = Math.max(max, s3);
        }
        // a head's lanes are 4g .. 4g + 3: combine them, then the warps as the FMA kernel does
        float laneMax = Math.max(max, ctx.shuffleXor(max, 1));
        laneMax = Math.max(laneMax, ctx.shuffleXor(laneMax, 2));
        float laneSum = sum * probability(max, laneMax);
        laneSum += ctx.shuffleXor(laneSum, 1);
        laneSum += ctx.shuffleXor(laneSum, 2);
        if (t == 0 && g < QUAD) {
            merge[ctx.warpId * QUAD + g] = laneMax;
            merge[SUMS + ctx.warpId * QUAD + g] = laneSum;
        }
        ctx.localBarrier();
        combineWarps(ctx, merge, partialMax, partialSum, ((long) row * splits + split) * group + quad * QUAD, heads);
    }

    /** Centroids a warp of {@link #logitsBf16Tensor} takes per step: two multiplies' eight. */
    private static final int TENSOR_STEP = 16;

    /**
     * This lane's A operand of multiply {@code 2j + p} where {@code at = 32j + 4p}: its head's scaled query at
     * dimensions {@code 8t + at .. + 4} ({@code qBase} includes {@code 8t}), as high and low parts (part 0) or as the
     * third part (part 1); 0 for a lane that holds no head.
     */
    private static Int4 queryFragment(F32Array q, long qBase, boolean holds, int part, float scale, int at) {
        if (!holds) {
            return new Int4(0, 0, 0, 0);
        }
        Float4 v = q.getFloat4(qBase + at).scale(scale);
        return part == 0 ? SplitBf16.packWithResidual(v) : SplitBf16.thirdPart(v);
    }

    /** Eight centroids' outputs from their 128 dimensions in eight multiplies ({@code w_j}: this lane's words j). */
    private static Float4 eight(KernelContext ctx, Int4 a0, Int4 a1, Int4 a2, Int4 a3, Int4 a4, Int4 a5, Int4 a6, Int4 a7,
            Int4 w0, Int4 w1, Int4 w2, Int4 w3) {
        Float4 c = new Float4(0f, 0f, 0f, 0f);
        c = ctx.mmaBf16(c, a0.x(), a0.y(), a0.z(), a0.w(), w0.x(), w0.y());
        c = ctx.mmaBf16(c, a1.x(), a1.y(), a1.z(), a1.w(), w0.z(), w0.w());
        c = ctx.mmaBf16(c, a2.x(), a2.y(), a2.z(), a2.w(), w1.x(), w1.y());
        c = ctx.mmaBf16(c, a3.x(), a3.y(), a3.z(), a3.w(), w1.z(), w1.w());
        c = ctx.mmaBf16(c, a4.x(), a4.y(), a4.z(), a4.w(), w2.x(), w2.y());
        c = ctx.mmaBf16(c, a5.x(), a5.y(), a5.z(), a5.w(), w2.z(), w2.w());
        c = ctx.mmaBf16(c, a6.x(), a6.y(), a6.z(), a6.w(), w3.x(), w3.y());
        return ctx.mmaBf16(c, a7.x(), a7.y(), a7.z(), a7.w(), w3.z(), w3.w());
    }

    /** A score of {@link #logitsBf16Tensor}: written where the cluster is below {@code end} and the lane holds a head. */
    private static float tensorLogit(float y, int cluster, int end, F32Array logits, long yRow) {
        if (cluster >= end || yRow < 0) {
            return Float.NEGATIVE_INFINITY;
        }
        logits.set(yRow + cluster, y);
        return y;
    }

    /** {@link #logitsHalf} for F32 centroids: two 16-byte loads per centroid and lane. */
    @Kernel
    public static void logitsF32(KernelContext ctx, F32Array q, F32Array centroids, I32Array counts, F32Array logits,
            F32Array partialMax, F32Array partialSum, int capacity, int splits, float scale, @Constant int group) {
        float[] merge = ctx.allocateFloatLocalArray(2 * WARPS * QUAD);
        int quads = (group + QUAD - 1) / QUAD;
        int rowSplit = ctx.groupIdx / quads;
        int quad = ctx.groupIdx - rowSplit * quads;
        int row = rowSplit / splits;
        int split = rowSplit - row * splits;
        int count = counts.get(row);
        int perSplit = SplitKvDecode.tokensPerSplit(count, splits);
        int end = Math.min(count, (split + 1) * perSplit);
        int last = end - 1;
        int slice = ctx.laneId % TOKEN_LANES;
        int lead = ctx.warpId * 2 * PER_LANE + ctx.laneId / TOKEN_LANES;
        long from = (long) row * capacity * HEAD_DIM + slice * 8;
        long qBase = ((long) row * group + quad * QUAD) * HEAD_DIM + slice * 8;
        int heads = group - quad * QUAD;
        Float8 q0 = query(q, qBase, 0, heads, scale);
        Float8 q1 = query(q, qBase, 1, heads, scale);
        Float8 q2 = query(q, qBase, 2, heads, scale);
        Float8 q3 = query(q, qBase, 3, heads, scale);
        int pairToken = 2 * (slice / QUAD);
        int pairHead = slice % QUAD;
        long yRow = pairHead < heads ? ((long) row * group + quad * QUAD + pairHead) * capacity : -1;
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int first = split * perSplit; first < end; first += TILE) {
            int t = first + lead;
            long a0 = from + (long) Math.min(t, last) * HEAD_DIM;
            long a1 = from + (long) Math.min(t + 2, last) * HEAD_DIM;
            long a2 = from + (long) Math.min(t + 4, last) * HEAD_DIM;
            long a3 = from + (long) Math.min(t + 6, last) * HEAD_DIM;
            Float4 l0 = centroids.getFloat4(a0);
            Float4 h0 = centroids.getFloat4(a0 + 4);
            Float4 l1 = centroids.getFloat4(a1);
            Float4 h1 = centroids.getFloat4(a1 + 4);
            Float4 l2 = centroids.getFloat4(a2);
            Float4 h2 = centroids.getFloat4(a2 + 4);
            Float4 l3 = centroids.getFloat4(a3);
            Float4 h3 = centroids.getFloat4(a3 + 4);
            float y = logit(ctx, q0, q1, q2, q3, join(l0, h0), join(l1, h1), join(l2, h2), join(l3, h3), t + pairToken, end,
                    logits, yRow);
            sum = addExp(sum, max, y);
            max = Math.max(max, y);
        }
        finish(ctx, merge, max, sum, partialMax, partialSum, ((long) row * splits + split) * group + quad * QUAD, heads);
    }

    private static Float8 join(Float4 low, Float4 high) {
        return new Float8(low.x(), low.y(), low.z(), low.w(), high.x(), high.y(), high.z(), high.w());
    }

    /**
     * This lane's score of the step, cluster {@code cluster} of its head, written to {@code logits} at
     * {@code yRow + cluster} when the cluster is below {@code end} and the head in the group ({@code yRow ≥ 0});
     * −∞ past the end, so it adds nothing to the softmax.
     */
    private static float logit(KernelContext ctx, Float8 q0, Float8 q1, Float8 q2, Float8 q3, Float8 c0, Float8 c1,
            Float8 c2, Float8 c3, int cluster, int end, F32Array logits, long yRow) {
        float y = transposedSum(ctx, dots(q0, q1, q2, q3, c0), dots(q0, q1, q2, q3, c1), dots(q0, q1, q2, q3, c2),
                dots(q0, q1, q2, q3, c3));
        if (cluster >= end) {
            return Float.NEGATIVE_INFINITY;
        }
        if (yRow >= 0) {
            logits.set(yRow + cluster, y);
        }
        return y;
    }

    /**
     * The running Σ e^(y − max) with y added, under the new max {@code max(max, y)}: one exp whichever of the
     * two is larger, {@code e^(low − high)}, which either rescales the old sum (y is the new max and adds
     * e^0 = 1) or is y's own term. A masked y (−∞) adds 0, and so does the first score rescale the empty sum.
     */
    private static float addExp(float sum, float max, float y) {
        float e = probability(Math.min(max, y), Math.max(max, y));
        return y > max ? sum * e + 1f : sum + e;
    }

    /**
     * Combines the lanes of each head (its four per half-warp) and the four warps by log-sum-exp, and writes
     * each of the block's heads' max and Σ e^(y − max) over the split (−∞ and 0 when the split is empty).
     */
    private static void finish(KernelContext ctx, float[] merge, float max, float sum, F32Array partialMax,
            F32Array partialSum, long firstRow, int heads) {
        float warpMax = SplitKvDecode.headMax(ctx, max);
        float warpSum = SplitKvDecode.headSum(ctx, sum * probability(max, warpMax));
        if (ctx.laneId < QUAD) { // lane g holds head g
            merge[ctx.warpId * QUAD + ctx.laneId] = warpMax;
            merge[SUMS + ctx.warpId * QUAD + ctx.laneId] = warpSum;
        }
        ctx.localBarrier();
        combineWarps(ctx, merge, partialMax, partialSum, firstRow, heads);
    }

    /** Thread h < 4 combines head h's warps (their maxima and sums in {@code merge}) and writes the split's statistics. */
    private static void combineWarps(KernelContext ctx, float[] merge, F32Array partialMax, F32Array partialSum, long firstRow,
            int heads) {
        int h = ctx.localIdx;
        if (h < QUAD && h < heads) {
            float m = Float.NEGATIVE_INFINITY;
            for (int w = 0; w < WARPS; w++) {
                m = Math.max(m, merge[w * QUAD + h]);
            }
            float l = 0f;
            for (int w = 0; w < WARPS; w++) {
                // a warp that saw no cluster has max −∞ and weighs 0
                l += probability(merge[w * QUAD + h], m) * merge[SUMS + w * QUAD + h];
            }
            partialMax.set(firstRow + h, m);
            partialSum.set(firstRow + h, l);
        }
    }
}
