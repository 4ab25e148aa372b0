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
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.LaunchBounds;

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
 * of an F32 one, half of one of an INT8 one, {@link #logitsInt8}), a lane issues the loads of four centroids before it uses any, and the transposed butterfly
 * leaves one (centroid, head) score per lane. A group larger than four takes a block per four heads, as the
 * decode kernels do: each reads the split's centroids, but the quads of one split are neighbours in the grid,
 * so they run together and the second read mostly hits L2 (Llama 3 70B's group of 8; the 8B's group of 4 reads
 * each centroid once).
 *
 * <p>With no values to weigh, each lane keeps its own running max and sum (a lane always holds the same head)
 * at one exp per score and no shuffle; the lanes and warps of a head are combined once, at the end. A warp's
 * y store writes, for each of its four heads, eight consecutive clusters: four whole 32-byte sectors. The
 * 16-bit kernel loads each tile a tile ahead, which holds two tiles' centroids in registers: its launch bounds keep it
 * to 96 registers, five blocks an SM (660 on an H200, so that Llama 3 8B's 576 rows of 72 sequences at one split run
 * in one wave). The F32 one (84-86 registers, five blocks) loads a tile at a time. The softmax runs over every
 * cluster below the row's count, empty ones included, as the reference does: empty clusters are masked only when
 * selecting (spec §2.2 step 3).
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
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 5)
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
        // Each tile's loads are issued a tile ahead, before the arithmetic of the one before: with a tile's loads in flight
        // only while a warp waited for them, the 16-bit kernel read centroids at ~2.2 TB/s on the H200. Centroids past the
        // end (of the split, or in the loads past the last tile) load the split's last one instead (in bounds, and finite
        // if the row is; an empty row's first) and get y = −∞ below.
        int first = split * perSplit;
        int t = first + lead;
        Float8 c0 = centroid(centroids, from, t, last), c1 = centroid(centroids, from, t + 2, last);
        Float8 c2 = centroid(centroids, from, t + 4, last), c3 = centroid(centroids, from, t + 6, last);
        for (; first < end; first += TILE) {
            t = first + lead;
            int next = t + TILE;
            Float8 n0 = centroid(centroids, from, next, last), n1 = centroid(centroids, from, next + 2, last);
            Float8 n2 = centroid(centroids, from, next + 4, last), n3 = centroid(centroids, from, next + 6, last);
            float y = logit(ctx, q0, q1, q2, q3, c0, c1, c2, c3, t + pairToken, end, logits, yRow);
            sum = addExp(sum, max, y);
            max = Math.max(max, y);
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
        }
        finish(ctx, merge, max, sum, partialMax, partialSum, ((long) row * splits + split) * group + quad * QUAD, heads);
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

    /**
     * {@link #logitsHalf} for INT8 centroids ({@link Int8Centroids}: {@code levels} interleaved in blocks of four,
     * {@code levelScales} one F32's bits a centroid), half the bytes. The queries (times {@code scale}) are quantised to
     * INT8 too, each head's 128 dimensions on one scale ({@code absmax / 127}, as {@link Int8Vectors} quantises a vector),
     * so that a (centroid, head) partial over a lane's eight dimensions is two {@code dp4a} instead of eight conversions
     * and eight FMAs: converting the levels to floats made the kernel issue-bound, slower than the 16-bit one. The sum
     * of level products is exact (below 2^24); y is it times the two scales. A lane's two 16-byte loads hold its slices
     * of the step's four centroids, issued two tiles ahead, to keep as many bytes in flight as the 16-bit kernel does.
     * Rows are {@code capacity} centroids, a multiple of four. {@link ClusterScoringTwin#int8Queries} is the twin of the
     * queries' rounding.
     */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 5)
    public static void logitsInt8(KernelContext ctx, F32Array q, I32Array levels, I32Array levelScales, I32Array counts,
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
        int lastBlock = last & -Int8Centroids.BLOCK;
        int slice = ctx.laneId % TOKEN_LANES;
        int half = ctx.laneId / TOKEN_LANES;
        long rowBase = (long) row * capacity;
        // this lane's 16 bytes of the row's first block; a block's offset from it is an int (rows hold < 2^26 centroids)
        long laneBase = rowBase * Int8Centroids.INTS + (half * TOKEN_LANES + slice) * 4;
        long qBase = ((long) row * group + quad * QUAD) * HEAD_DIM + slice * 8;
        int heads = group - quad * QUAD;
        Float8 q0 = query(q, qBase, 0, heads, scale);
        Float8 q1 = query(q, qBase, 1, heads, scale);
        Float8 q2 = query(q, qBase, 2, heads, scale);
        Float8 q3 = query(q, qBase, 3, heads, scale);
        float s0 = queryScale(ctx, q0), s1 = queryScale(ctx, q1), s2 = queryScale(ctx, q2), s3 = queryScale(ctx, q3);
        // head h's levels of this lane's dimensions 0-3 in lane h of qa, of 4-7 in lane h of qb
        Int4 qa = new Int4(lowLevels(q0, s0), lowLevels(q1, s1), lowLevels(q2, s2), lowLevels(q3, s3));
        Int4 qb = new Int4(highLevels(q0, s0), highLevels(q1, s1), highLevels(q2, s2), highLevels(q3, s3));
        int pairToken = 2 * (slice / QUAD);
        int pairHead = slice % QUAD;
        float pairScale = pairHead == 0 ? s0 : pairHead == 1 ? s1 : pairHead == 2 ? s2 : s3;
        long yRow = pairHead < heads ? ((long) row * group + quad * QUAD + pairHead) * capacity : -1;
        int pair = half + pairToken; // this lane's centroid after the transposed sum, from the warp's first of a step
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        // A warp's step is two blocks: centroids b … b + 7, the lane's t = b + half and t + 2 in the first, t + 4 and t + 6
        // in the second. Blocks past the split load its last one (in bounds; the centroids past the end get y = −∞).
        int first = split * perSplit;
        int b = first + ctx.warpId * 2 * PER_LANE;
        Int4 a0 = block(levels, laneBase, b, lastBlock), a1 = block(levels, laneBase, b + 4, lastBlock);
        float aScale = centroidScale(levelScales, rowBase, b + pair, last);
        Int4 n0 = block(levels, laneBase, b + TILE, lastBlock);
        Int4 n1 = block(levels, laneBase, b + TILE + 4, lastBlock);
        float nScale = centroidScale(levelScales, rowBase, b + TILE + pair, last);
        for (; first < end; first += TILE) {
            b = first + ctx.warpId * 2 * PER_LANE;
            int ahead = b + 2 * TILE;
            Int4 m0 = block(levels, laneBase, ahead, lastBlock);
            Int4 m1 = block(levels, laneBase, ahead + 4, lastBlock);
            float mScale = centroidScale(levelScales, rowBase, ahead + pair, last);
            int dot = transposedLevelSum(ctx, levelDots(qa, qb, a0.x(), a0.y()), levelDots(qa, qb, a0.z(), a0.w()),
                    levelDots(qa, qb, a1.x(), a1.y()), levelDots(qa, qb, a1.z(), a1.w()));
            float y = store(dot * (pairScale * aScale), b + pair, end, logits, yRow);
            sum = addExp(sum, max, y);
            max = Math.max(max, y);
            a0 = n0;
            a1 = n1;
            aScale = nScale;
            n0 = m0;
            n1 = m1;
            nScale = mScale;
        }
        finish(ctx, merge, max, sum, partialMax, partialSum, ((long) row * splits + split) * group + quad * QUAD, heads);
    }

    /** The INT8 scale of a query head's 128 dimensions: the half-warp's largest magnitude of them over 127. */
    private static float queryScale(KernelContext ctx, Float8 q) {
        float m = Int8Chunks.absMax(q);
        for (int mask = TOKEN_LANES / 2; mask > 0; mask >>= 1) {
            m = Math.max(m, ctx.shuffleXor(m, mask));
        }
        return m / Int8Vectors.LEVELS;
    }

    /** A query slice's first four values quantised on {@code scale} and packed, as {@link Int8Chunks} packs levels. */
    private static int lowLevels(Float8 q, float scale) {
        return Int8Chunks.word(q.s0(), q.s1(), q.s2(), q.s3(), scale);
    }

    /** A query slice's last four values quantised on {@code scale} and packed. */
    private static int highLevels(Float8 q, float scale) {
        return Int8Chunks.word(q.s4(), q.s5(), q.s6(), q.s7(), scale);
    }

    /**
     * The four heads' partial sums of level products over this lane's eight dimensions of one centroid ({@code low},
     * {@code high}: its eight levels), head h's query levels in lane h of {@code qa} (dimensions 0-3) and {@code qb} (4-7).
     */
    private static Int4 levelDots(Int4 qa, Int4 qb, int low, int high) {
        return new Int4(KMath.dp4a(high, qb.x(), KMath.dp4a(low, qa.x(), 0)),
                KMath.dp4a(high, qb.y(), KMath.dp4a(low, qa.y(), 0)), KMath.dp4a(high, qb.z(), KMath.dp4a(low, qa.z(), 0)),
                KMath.dp4a(high, qb.w(), KMath.dp4a(low, qa.w(), 0)));
    }

    /**
     * This lane's 16 bytes of the block of centroids starting at {@code c} of the row, clamped to {@code lastBlock}; the
     * row's first block at {@code laneBase}.
     */
    private static Int4 block(I32Array levels, long laneBase, int c, int lastBlock) {
        return levels.getInt4(laneBase + Math.min(c, lastBlock) * Int8Centroids.INTS);
    }

    /**
     * {@link SplitKvDecode#transposedSum} of integer partials, exact: the sum of the (centroid, head) pair this lane holds
     * after it, over the half-warp's sixteen lanes.
     */
    private static int transposedLevelSum(KernelContext ctx, Int4 y0, Int4 y1, Int4 y2, Int4 y3) {
        boolean upper8 = (ctx.laneId & 8) != 0;
        Int4 a = pick(upper8, y2, y0).add(shuffleXor4(ctx, pick(upper8, y0, y2), 8));
        Int4 b = pick(upper8, y3, y1).add(shuffleXor4(ctx, pick(upper8, y1, y3), 8));
        boolean upper4 = (ctx.laneId & 4) != 0;
        Int4 c = pick(upper4, b, a).add(shuffleXor4(ctx, pick(upper4, a, b), 4));
        boolean upper2 = (ctx.laneId & 2) != 0;
        int d0 = (upper2 ? c.z() : c.x()) + ctx.shuffleXor(upper2 ? c.x() : c.z(), 2);
        int d1 = (upper2 ? c.w() : c.y()) + ctx.shuffleXor(upper2 ? c.y() : c.w(), 2);
        boolean upper1 = (ctx.laneId & 1) != 0;
        return (upper1 ? d1 : d0) + ctx.shuffleXor(upper1 ? d0 : d1, 1);
    }

    private static Int4 pick(boolean first, Int4 a, Int4 b) {
        return first ? a : b;
    }

    private static Int4 shuffleXor4(KernelContext ctx, Int4 x, int mask) {
        return new Int4(ctx.shuffleXor(x.x(), mask), ctx.shuffleXor(x.y(), mask), ctx.shuffleXor(x.z(), mask),
                ctx.shuffleXor(x.w(), mask));
    }

    /** The scale of centroid {@code c} of the row, clamped to {@code last}. */
    private static float centroidScale(I32Array levelScales, long rowBase, int c, int last) {
        return Float.intBitsToFloat(levelScales.get(rowBase + Math.min(c, last)));
    }

    /** This lane's slice of centroid {@code c} of the row at {@code from}, clamped to the split's {@code last} (and to 0). */
    private static Float8 centroid(HalfPrecisionArray centroids, long from, int c, int last) {
        return centroids.getFloat8(from + (long) Math.max(Math.min(c, last), 0) * HEAD_DIM);
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
        return store(y, cluster, end, logits, yRow);
    }

    /** Score {@code y} of {@code cluster} written at {@code yRow + cluster} (see {@link #logit}); −∞ past the end. */
    private static float store(float y, int cluster, int end, F32Array logits, long yRow) {
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
