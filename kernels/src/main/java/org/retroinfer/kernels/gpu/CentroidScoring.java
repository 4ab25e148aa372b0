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
 * of an F32 one), a lane issues the loads of four centroids before it uses any, and the transposed butterfly
 * leaves one (centroid, head) score per lane; {@link #logitsInt8} gives a centroid four lanes instead. A group larger than four takes a block per four heads, as the
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
    /**
     * Lanes that share an INT8 centroid in {@link #logitsInt8}: as many as a block's heads, so that summing their four
     * heads' partials leaves each lane one (centroid, head) score.
     */
    private static final int CENTROID_LANES = QUAD;
    /** Dimensions of an INT8 centroid that one lane takes: 32 bytes, two 16-byte loads. */
    private static final int PART = HEAD_DIM / CENTROID_LANES;
    /** Level words of one query head: four levels each. */
    private static final int QUERY_WORDS = HEAD_DIM / 4;

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
     * so that a (centroid, head) partial over four dimensions is one {@code dp4a} instead of four conversions and four
     * FMAs: converting the levels to floats made the kernel issue-bound, slower than the 16-bit one. Unlike the 16-bit
     * kernels, four lanes share a centroid, 32 dimensions each: summing their partials then takes two shuffle rounds
     * where a half-warp's sixteen lanes of eight dimensions took four rounds and the selects of a transposed sum, as many
     * instructions as the {@code dp4a} themselves. The sum of level products is exact (below 2^24); y is it times the two
     * scales. A lane's two 16-byte loads, issued two tiles ahead to keep as many bytes in flight as the 16-bit kernel
     * does, are its 32 bytes of its centroid of the step. Rows are {@code capacity} centroids, a multiple of four.
     * {@link ClusterScoringTwin#int8Queries} is the twin of the queries' rounding.
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
        int part = ctx.laneId % CENTROID_LANES; // this lane's dimensions of its centroid, [32·part, 32·part + 32)
        int centroid = ctx.laneId / CENTROID_LANES; // this lane's centroid of a step, from the warp's first
        long rowBase = (long) row * capacity;
        // this lane's first 16 bytes of the row's first block; a block's offset from it is an int (rows < 2^26 centroids)
        long laneBase = rowBase * Int8Centroids.INTS + ctx.laneId % (Int8Centroids.BLOCK * CENTROID_LANES) * 4;
        int laneBlock = centroid / Int8Centroids.BLOCK * Int8Centroids.BLOCK; // the step's block of this lane's centroid
        long qBase = ((long) row * group + quad * QUAD) * HEAD_DIM;
        int heads = group - quad * QUAD;
        // Warp w quantises head w's query (four warps, four heads; each lane four dimensions, one level word) into shared
        // memory, once for the block: quantised lane by lane, each lane its 128 levels, they took as many instructions as
        // the centroids' dot products.
        int[] words = ctx.allocateIntLocalArray(QUAD * QUERY_WORDS);
        float[] queryScales = ctx.allocateFloatLocalArray(QUAD);
        quantiseQuery(ctx, q, qBase, heads, scale, words, queryScales);
        ctx.localBarrier();
        Int4 q0Low = queryWords(words, 0, part, 0), q0High = queryWords(words, 0, part, 1);
        Int4 q1Low = queryWords(words, 1, part, 0), q1High = queryWords(words, 1, part, 1);
        Int4 q2Low = queryWords(words, 2, part, 0), q2High = queryWords(words, 2, part, 1);
        Int4 q3Low = queryWords(words, 3, part, 0), q3High = queryWords(words, 3, part, 1);
        float partScale = queryScales[part]; // the scale of the head this lane holds after the sum
        long yRow = part < heads ? ((long) row * group + quad * QUAD + part) * capacity : -1;
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        // A warp's step is two blocks, centroids b … b + 7: this lane's two 16-byte loads are both of centroid b + centroid.
        // Blocks past the split load its last one (in bounds; the centroids past the end get y = −∞).
        int first = split * perSplit;
        int b = first + ctx.warpId * 2 * PER_LANE; // the warp's first centroid of the step
        Int4 a0 = block(levels, laneBase, b + laneBlock, lastBlock, 0);
        Int4 a1 = block(levels, laneBase, b + laneBlock, lastBlock, 1);
        float aScale = centroidScale(levelScales, rowBase, b + centroid, last);
        int next = b + TILE;
        Int4 n0 = block(levels, laneBase, next + laneBlock, lastBlock, 0);
        Int4 n1 = block(levels, laneBase, next + laneBlock, lastBlock, 1);
        float nScale = centroidScale(levelScales, rowBase, next + centroid, last);
        for (; first < end; first += TILE) {
            b = first + ctx.warpId * 2 * PER_LANE;
            int ahead = b + 2 * TILE;
            Int4 m0 = block(levels, laneBase, ahead + laneBlock, lastBlock, 0);
            Int4 m1 = block(levels, laneBase, ahead + laneBlock, lastBlock, 1);
            float mScale = centroidScale(levelScales, rowBase, ahead + centroid, last);
            int dot = quadSum(ctx, levelDot(q0Low, q0High, a0, a1), levelDot(q1Low, q1High, a0, a1),
                    levelDot(q2Low, q2High, a0, a1), levelDot(q3Low, q3High, a0, a1));
            float y = store(dot * (partScale * aScale), b + centroid, end, logits, yRow);
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

    /**
     * Warp {@code w} quantises query head {@code w} (times {@code scale}) on its INT8 scale ({@code absmax / 127} over its
     * 128 dimensions, as {@link Int8Vectors} quantises a vector), each lane four dimensions into one level word of
     * {@code words} ({@code [head][32]}); the scales to {@code queryScales}. Heads past {@code heads} get levels and
     * scale 0.
     */
    private static void quantiseQuery(KernelContext ctx, F32Array q, long qBase, int heads, float scale, int[] words,
            float[] queryScales) {
        int h = ctx.warpId;
        Float4 x = h < heads ? q.getFloat4(qBase + h * HEAD_DIM + ctx.laneId * 4).scale(scale) : new Float4(0f, 0f, 0f, 0f);
        float m = Math.max(Math.max(Math.abs(x.x()), Math.abs(x.y())), Math.max(Math.abs(x.z()), Math.abs(x.w())));
        for (int mask = KernelContext.WARP_SIZE / 2; mask > 0; mask >>= 1) {
            m = Math.max(m, ctx.shuffleXor(m, mask));
        }
        float levelScale = m / Int8Vectors.LEVELS;
        words[h * QUERY_WORDS + ctx.laneId] = Int8Chunks.word(x.x(), x.y(), x.z(), x.w(), levelScale);
        if (ctx.laneId == 0) {
            queryScales[h] = levelScale;
        }
    }

    /** Head {@code h}'s level words of 16 dimensions of part {@code part}: the first ({@code half} 0) or last 16. */
    private static Int4 queryWords(int[] words, int h, int part, int half) {
        int at = h * QUERY_WORDS + part * (PART / 4) + half * 4;
        return new Int4(words[at], words[at + 1], words[at + 2], words[at + 3]);
    }

    /** One head's sum of level products over this lane's 32 dimensions ({@code low}, {@code high}: its two loads). */
    private static int levelDot(Int4 qLow, Int4 qHigh, Int4 low, Int4 high) {
        int a = KMath.dp4a(low.x(), qLow.x(), KMath.dp4a(low.y(), qLow.y(), KMath.dp4a(low.z(), qLow.z(),
                KMath.dp4a(low.w(), qLow.w(), 0))));
        int b = KMath.dp4a(high.x(), qHigh.x(), KMath.dp4a(high.y(), qHigh.y(), KMath.dp4a(high.z(), qHigh.z(),
                KMath.dp4a(high.w(), qHigh.w(), 0))));
        return a + b;
    }

    /**
     * This lane's 16 bytes {@code k} (0 or 1) of the block of centroids starting at {@code c} of the row, clamped to
     * {@code lastBlock}; the row's first block at {@code laneBase}.
     */
    private static Int4 block(I32Array levels, long laneBase, int c, int lastBlock, int k) {
        return levels.getInt4(laneBase + Math.min(c, lastBlock) * Int8Centroids.INTS + k * (Int8Centroids.INTS * 2));
    }

    /**
     * The sums over a quad's four lanes of the four heads' partials, exact: lane {@code 4j + h} is left with head
     * {@code h}'s (two shuffle rounds where the half-warp of sixteen partials each took four).
     */
    private static int quadSum(KernelContext ctx, int y0, int y1, int y2, int y3) {
        boolean upper2 = (ctx.laneId & 2) != 0;
        int a0 = (upper2 ? y2 : y0) + ctx.shuffleXor(upper2 ? y0 : y2, 2);
        int a1 = (upper2 ? y3 : y1) + ctx.shuffleXor(upper2 ? y1 : y3, 2);
        boolean upper1 = (ctx.laneId & 1) != 0;
        return (upper1 ? a1 : a0) + ctx.shuffleXor(upper1 ? a0 : a1, 1);
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
