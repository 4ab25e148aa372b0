package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.QUAD;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.PARTIAL_THREADS;

import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.LaunchBounds;

/**
 * Split-KV ("flash-decoding") attention for one decode query row per sequence, in two kernels:
 * {@code partials*} cuts each (sequence, KV head)'s tokens into {@code splits} chunks, one block per chunk,
 * and writes per chunk and query head the normalised output {@code o_s} and {@code lse_s = m + log Σ e^(y−m)};
 * {@link SplitKvMerge#merge} combines the chunks by the spec's rule (retroinfer-spec.md §2.4):
 * {@code lse = log Σ_s e^(lse_s)}, {@code o = Σ_s e^(lse_s − lse) · o_s}. There is no barrier across blocks,
 * hence two launches. Layout and grids: {@link DecodeAttentionShape}.
 *
 * <p>K and V stream from memory straight into registers. A block serves {@link DecodeAttentionShape#QUAD
 * four} query heads of one KV head (Llama 3's whole GQA group, so each K/V byte is read once; larger groups
 * take a block per four heads). Each half-warp takes one token at a time, a lane owning eight of its 128
 * dimensions (one 16-byte load of K and one of V) and the same eight dimensions of the four queries and the
 * four running outputs. A lane issues the loads of {@link #PER_LANE} tokens before it uses any, so a block
 * has 16 KiB in flight. The step's 16 (token, head) scores are summed over the half-warp by a transposed
 * butterfly that leaves one score per lane, so the online softmax costs one exp per lane and P·V fetches the
 * probabilities by shuffles; each warp keeps its own running max per head. Shared memory is used once, to
 * merge the four warps. Launch bounds hold the kernels to 128 registers, so that four blocks fit on an SM. The
 * first design staged each 32-token tile in shared memory as F32 and read it back per head: about ten shared bytes
 * per K/V byte, which held it at a quarter of the H100's copy bandwidth (docs/results/gpu-decode-attention).
 *
 * <p>RetroInfer's two additions (spec §2.4, the weighted FlashAttention fork): {@code partialsWeighted*} give
 * each key {@code t} a weight {@code w_t} that enters only the softmax denominator, so a partial is
 * {@code o_s = Σ e^y·v / Σ w·e^y} and {@code lse_s = log Σ w·e^y}; with keys = centroids, values = value sums and
 * weights = cluster sizes this is the estimation zone's {@code (out_E, lse_E)}. {@link SplitKvMerge#mergeWithPrevious} merges
 * one more partial per (sequence, query head), such as that {@code (out_E, lse_E)}, as an extra split, which
 * gives the spec's exact output {@code (Σ e^x V + Σ e^y VS) / (Σ e^x + Σ s·e^y)}. {@link #partialsWeightedIndexed} takes
 * each token's row from a list of ids, so the estimation zone is read in place from the meta index.
 *
 * <p>{@link CentroidScoring} streams centroids as this class streams keys (same lane layout, same transposed
 * butterfly), hence the package-private constants and helpers.
 */
public final class SplitKvDecode {
    /** Tokens a block takes per step, {@link #PER_LANE} per half-warp; splits are whole tiles. */
    public static final int TILE = 32;
    /** Tokens whose loads each lane issues before using any: the block's loads in flight. */
    static final int PER_LANE = 4;
    private static final int WARPS = PARTIAL_THREADS / KernelContext.WARP_SIZE;
    /** Lanes that share one token, eight dimensions each. */
    static final int TOKEN_LANES = HEAD_DIM / 8;
    /** A warp's share of the shared merge area: four heads' outputs, then four maxima and four sums. */
    private static final int WARP_STRIDE = QUAD * HEAD_DIM + 2 * QUAD;
    private static final int MAXIMA = QUAD * HEAD_DIM, SUMS = MAXIMA + QUAD;
    /** Floats of a block's shared merge area ({@link #publish}, {@link #finish}). */
    static final int MERGE_FLOATS = WARPS * WARP_STRIDE;

    private SplitKvDecode() {}

    /**
     * Tokens per split for a sequence of {@code length} tokens: {@code length / splits} rounded up to whole
     * tiles. Split {@code s} covers {@code [s·n, min(length, (s+1)·n))}; trailing splits may be empty.
     */
    public static int tokensPerSplit(int length, int splits) {
        int perSplit = (length + splits - 1) / splits;
        return (perSplit + TILE - 1) / TILE * TILE;
    }

    /** The partials of F16 or BF16 K/V; see the class comment. Launch on {@link DecodeAttentionShape#partialsGrid()}. */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partials(KernelContext ctx, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v,
            I32Array lengths, F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits, float scale,
            @Constant int group) {
        // q stands in for the weights, which the unweighted path never reads, and lengths for the ids
        attend(ctx, q, k, v, q, false, lengths, false, lengths, false, 0, lengths, partialOut, partialLse, kvHeads, capacity,
                splits, scale, group);
    }

    /**
     * {@link #partials} with a weight per key in the softmax denominator only (spec §2.4):
     * {@code o_s = Σ e^y·v / Σ w·e^y}, {@code lse_s = log Σ w·e^y}. {@code weights} is F32
     * {@code [batch][kvHeads][capacity]} ({@link DecodeAttentionShape#weightOffset}); weights must be positive
     * (cluster sizes). Launch on {@link DecodeAttentionShape#partialsGrid()}.
     */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsWeighted(KernelContext ctx, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v,
            F32Array weights, I32Array lengths, F32Array partialOut, F32Array partialLse, int kvHeads, long capacity,
            int splits, float scale, @Constant int group) {
        attend(ctx, q, k, v, weights, true, lengths, false, lengths, false, 0, lengths, partialOut, partialLse, kvHeads,
                capacity, splits, scale, group);
    }

    /**
     * {@link #partialsWeighted} over keys chosen by id: (sequence, KV head) pair {@code p}'s token {@code t} is row
     * {@code ids[p·idsStride + t]} of its {@code capacity} rows of {@code k}, {@code v} and {@code weights}. With the meta
     * index's centroids, value sums and cluster sizes and the estimation zone's cluster ids this is the zone's
     * {@code (out_E, lse_E)} read in place: one pass over the clusters' bytes where gathering them first
     * ({@link EstimationGather}) reads them, writes them and reads them again. Launch on
     * {@link DecodeAttentionShape#partialsGrid()}.
     */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsWeightedIndexed(KernelContext ctx, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v,
            F32Array weights, I32Array ids, int idsStride, I32Array lengths, F32Array partialOut, F32Array partialLse,
            int kvHeads, long capacity, int splits, float scale, @Constant int group) {
        attend(ctx, q, k, v, weights, true, lengths, false, ids, true, idsStride, lengths, partialOut, partialLse, kvHeads,
                capacity, splits, scale, group);
    }

    /**
     * {@link #partialsWeightedIndexed} with INT8 values ({@link Int8Vectors}: {@code valueLevels} 32 ints a row,
     * {@code valueScales} one F32's bits a row): the meta index's value sums kept in INT8, each value taken as level ×
     * scale in F32. Launch on {@link DecodeAttentionShape#partialsGrid()}.
     */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsWeightedIndexedInt8(KernelContext ctx, F32Array q, HalfPrecisionArray k, I32Array valueLevels,
            I32Array valueScales, F32Array weights, I32Array ids, int idsStride, I32Array lengths, F32Array partialOut,
            F32Array partialLse, int kvHeads, long capacity, int splits, float scale, @Constant int group) {
        attendValues(ctx, q, k, k, valueLevels, valueScales, true, weights, true, lengths, false, ids, true, idsStride, lengths,
                q, false, partialOut, partialLse, kvHeads, capacity, splits, scale, group);
    }

    /**
     * {@link #partialsWeightedIndexed} with the scores given: token {@code t} of (sequence, KV head) pair {@code p} is row
     * {@code r = ids[p·idsStride + t]} and scores {@code logits[(p·group + h)·capacity + r]} for query head {@code h}
     * (already {@code scale · q_h · k_r}), as {@link CentroidScoring} wrote them for every cluster: the estimation zone
     * then reads each cluster's value sum, size and scores, not its centroid again (a centroid is 256 bytes, its scores
     * 16). Launch on {@link DecodeAttentionShape#partialsGrid()}.
     */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsScoredIndexed(KernelContext ctx, F32Array logits, HalfPrecisionArray v, F32Array weights, I32Array ids,
            int idsStride, I32Array lengths, F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits,
            @Constant int group) {
        attendValues(ctx, logits, v, v, lengths, lengths, false, weights, true, lengths, false, ids, true, idsStride, lengths,
                logits, true, partialOut, partialLse, kvHeads, capacity, splits, 1f, group);
    }

    /**
     * {@link #partialsScoredIndexed} with INT8 values, as {@link #partialsWeightedIndexedInt8} reads them. {@code k}, the
     * centroids the scores came from, is not read: the attention code shared with the other kernels names a 16-bit array.
     */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsScoredIndexedInt8(KernelContext ctx, F32Array logits, HalfPrecisionArray k, I32Array valueLevels,
            I32Array valueScales, F32Array weights, I32Array ids, int idsStride, I32Array lengths, F32Array partialOut,
            F32Array partialLse, int kvHeads, long capacity, int splits, @Constant int group) {
        attendValues(ctx, logits, k, k, valueLevels, valueScales, true, weights, true, lengths, false, ids, true, idsStride,
                lengths, logits, true, partialOut, partialLse, kvHeads, capacity, splits, 1f, group);
    }

    /**
     * {@link #partials} for query rows that each name the cache slot they read: row {@code r} attends to the
     * first {@code lengths[r]} tokens of slot {@code slots[r]} ({@code [slots][kvHeads][capacity][128]} K/V, any
     * number of slots). Several rows may read one slot: a prefill chunk's rows are its positions, each seeing
     * the tokens up to its own. A decode step of sequences in arbitrary slots uses it too.
     */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void rows(KernelContext ctx, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v, I32Array slots,
            I32Array lengths, F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits, float scale,
            @Constant int group) {
        attend(ctx, q, k, v, q, false, slots, true, lengths, false, 0, lengths, partialOut, partialLse, kvHeads, capacity,
                splits, scale, group);
    }

    /** The (slot, KV head) pair that (row, KV head) pair {@code pair} reads. */
    private static long slotPair(I32Array slots, int pair, int kvHeads) {
        int row = pair / kvHeads;
        return (long) slots.get(row) * kvHeads + (pair - row * kvHeads);
    }

    /**
     * One block's split: block {@code (pair · quads + quad) · splits + split} serves query heads
     * {@code [4·quad, 4·quad + 4)} of (sequence, KV head) {@code pair}.
     */
    private static void attend(KernelContext ctx, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v, F32Array weights,
            boolean weighted, I32Array slots, boolean mapped, I32Array ids, boolean indexed, int idsStride, I32Array lengths,
            F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits, float scale, int group) {
        // lengths stands in for the INT8 levels and scales, which 16-bit values never read
        attendValues(ctx, q, k, v, lengths, lengths, false, weights, weighted, slots, mapped, ids, indexed, idsStride, lengths,
                q, false, partialOut, partialLse, kvHeads, capacity, splits, scale, group);
    }

    /**
     * {@link #attend} with the values in {@code v} (16-bit) or, where {@code int8Values}, in {@code valueLevels} and
     * {@code valueScales} (INT8, {@link Int8Vectors}); where {@code scored}, each (token, head)'s score read from
     * {@code logits} ({@code [pair][group][capacity]}, by the token's row) instead of computed from {@code q} and
     * {@code k}, which are then not read.
     */
    private static void attendValues(KernelContext ctx, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v, I32Array valueLevels,
            I32Array valueScales, boolean int8Values, F32Array weights, boolean weighted, I32Array slots, boolean mapped,
            I32Array ids, boolean indexed, int idsStride, I32Array lengths, F32Array logits, boolean scored, F32Array partialOut,
            F32Array partialLse, int kvHeads, long capacity, int splits, float scale, int group) {
        float[] merge = ctx.allocateFloatLocalArray(MERGE_FLOATS);
        int quads = (group + QUAD - 1) / QUAD;
        int pairQuad = ctx.groupIdx / splits;
        int split = ctx.groupIdx - pairQuad * splits;
        int pair = pairQuad / quads;
        int quad = pairQuad - pair * quads;
        int length = lengths.get(pair / kvHeads);
        int perSplit = tokensPerSplit(length, splits);
        int end = Math.min(length, (split + 1) * perSplit);
        int last = end - 1;
        int slice = ctx.laneId % TOKEN_LANES;
        int lead = ctx.warpId * 2 * PER_LANE + ctx.laneId / TOKEN_LANES; // this lane's token u of a step: lead + 2u
        long slotPair = mapped ? slotPair(slots, pair, kvHeads) : pair;
        long kv = slotPair * capacity * HEAD_DIM + slice * 8;
        long weightSlot = slotPair * capacity;
        long idBase = (long) pair * idsStride;
        long qBase = ((long) pair * group + quad * QUAD) * HEAD_DIM + slice * 8;
        int heads = group - quad * QUAD;
        Float8 q0 = scored ? zero8() : query(q, qBase, 0, heads, scale);
        Float8 q1 = scored ? zero8() : query(q, qBase, 1, heads, scale);
        Float8 q2 = scored ? zero8() : query(q, qBase, 2, heads, scale);
        Float8 q3 = scored ? zero8() : query(q, qBase, 3, heads, scale);
        Float8 acc0 = zero8(), acc1 = zero8(), acc2 = zero8(), acc3 = zero8();
        // This lane's (token, head) pair of each step, after the transposed sum: token u = pair / 4, head pair % 4
        int pairIndex = ctx.laneId % TOKEN_LANES;
        // with the scores given, this lane's head's row of them (a head past the group reads the last head's: in bounds,
        // its outputs never written)
        long logitRow = ((long) pair * group + quad * QUAD + Math.min(pairIndex % QUAD, heads - 1)) * capacity;
        int pairToken = 2 * (pairIndex / QUAD);
        int half = ctx.laneId - pairIndex;
        float max = Float.NEGATIVE_INFINITY; // of this lane's head, shared by every lane that holds it
        float sum = 0f; // this lane's pairs only; the head's lanes are added at the end
        // Every load is issued before any use. Tokens past the end (of the split, or in the rows read past the last
        // tile) load the split's last token instead (in bounds, and finite if the sequence is) and get zero probability
        // below. Chosen by id, a token's row is a load the K/V loads wait for, so the ids are read a tile ahead.
        int first = split * perSplit;
        int t0 = first + lead;
        int r0 = row(ids, indexed, idBase, t0, last), r1 = row(ids, indexed, idBase, t0 + 2, last);
        int r2 = row(ids, indexed, idBase, t0 + 4, last), r3 = row(ids, indexed, idBase, t0 + 6, last);
        int weightRow = weighted ? row(ids, indexed, idBase, t0 + pairToken, last) : 0;
        for (; first < end; first += TILE) {
            int t = first + lead;
            int next = t + TILE;
            int n0 = row(ids, indexed, idBase, next, last), n1 = row(ids, indexed, idBase, next + 2, last);
            int n2 = row(ids, indexed, idBase, next + 4, last), n3 = row(ids, indexed, idBase, next + 6, last);
            int nextWeightRow = weighted ? row(ids, indexed, idBase, next + pairToken, last) : 0;
            long a0 = kv + (long) r0 * HEAD_DIM;
            long a1 = kv + (long) r1 * HEAD_DIM;
            long a2 = kv + (long) r2 * HEAD_DIM;
            long a3 = kv + (long) r3 * HEAD_DIM;
            Float8 k0 = scored ? zero8() : k.getFloat8(a0);
            Float8 k1 = scored ? zero8() : k.getFloat8(a1);
            Float8 k2 = scored ? zero8() : k.getFloat8(a2);
            Float8 k3 = scored ? zero8() : k.getFloat8(a3);
            Float8 v0 = int8Values ? int8Value(valueLevels, valueScales, slotPair * capacity + r0, slice) : v.getFloat8(a0);
            Float8 v1 = int8Values ? int8Value(valueLevels, valueScales, slotPair * capacity + r1, slice) : v.getFloat8(a1);
            Float8 v2 = int8Values ? int8Value(valueLevels, valueScales, slotPair * capacity + r2, slice) : v.getFloat8(a2);
            Float8 v3 = int8Values ? int8Value(valueLevels, valueScales, slotPair * capacity + r3, slice) : v.getFloat8(a3);
            float weight = weighted ? weights.get(weightSlot + weightRow) : 1f;
            float y = scored ? logits.get(logitRow + weightRow)
                    : transposedSum(ctx, dots(q0, q1, q2, q3, k0), dots(q0, q1, q2, q3, k1), dots(q0, q1, q2, q3, k2),
                            dots(q0, q1, q2, q3, k3));
            if (t + pairToken >= end) {
                y = Float.NEGATIVE_INFINITY;
            }
            float newMax = Math.max(max, headMax(ctx, y));
            float rescale = factor(max, newMax);
            float p = probability(y, newMax);
            max = newMax;
            sum = sum * rescale + weight * p;
            acc0 = accumulate(ctx, acc0, rescale, p, half, v0, v1, v2, v3);
            acc1 = accumulate(ctx, acc1, rescale, p, half + 1, v0, v1, v2, v3);
            acc2 = accumulate(ctx, acc2, rescale, p, half + 2, v0, v1, v2, v3);
            acc3 = accumulate(ctx, acc3, rescale, p, half + 3, v0, v1, v2, v3);
            r0 = n0;
            r1 = n1;
            r2 = n2;
            r3 = n3;
            weightRow = nextWeightRow;
        }
        publish(ctx, merge, max, sum, acc0, acc1, acc2, acc3);
        long firstRow = ((long) pair * splits + split) * group + quad * QUAD;
        finish(ctx, merge, partialOut, partialLse, firstRow, heads);
    }

    /** This lane's eight values of INT8 row {@code vector} ({@link Int8Vectors}): two ints of levels and the row's scale. */
    private static Float8 int8Value(I32Array levels, I32Array scales, long vector, int slice) {
        long at = vector * Int8Vectors.INTS + slice * 2L;
        return StoreDecode.int8Values(levels.get(at), levels.get(at + 1), scales.get(vector));
    }

    /**
     * The row token {@code token} reads, clamped to the split's {@code last} (and to 0): its id where the keys are chosen
     * by id, else the token itself.
     */
    private static int row(I32Array ids, boolean indexed, long idBase, int token, int last) {
        int clamped = Math.max(Math.min(token, last), 0);
        return indexed ? ids.get(idBase + clamped) : clamped;
    }

    /** This lane's eight dimensions of query head {@code h} of the block, scaled; 0 past the group. */
    static Float8 query(F32Array q, long base, int h, int heads, float scale) {
        if (h >= heads) {
            return zero8();
        }
        Float4 lo = q.getFloat4(base + h * HEAD_DIM);
        Float4 hi = q.getFloat4(base + h * HEAD_DIM + 4);
        return new Float8(lo.x(), lo.y(), lo.z(), lo.w(), hi.x(), hi.y(), hi.z(), hi.w()).scale(scale);
    }

    /** The four heads' partial scores (this lane's eight dimensions) of one token. */
    static Float4 dots(Float8 q0, Float8 q1, Float8 q2, Float8 q3, Float8 key) {
        return new Float4(q0.dot(key), q1.dot(key), q2.dot(key), q3.dot(key));
    }

    /**
     * Sums 16 partial scores (four tokens × four heads, {@code y_u} holding token u's heads) over this lane's
     * half-warp in 15 shuffles rather than 64: at each step a lane keeps half of its values, sends the other
     * half to its partner and adds what the partner sent, so lane j of the half ends with the full score of
     * pair j, token {@code j / 4} and head {@code j % 4}.
     */
    static float transposedSum(KernelContext ctx, Float4 y0, Float4 y1, Float4 y2, Float4 y3) {
        boolean upper8 = (ctx.laneId & 8) != 0;
        Float4 a = pick(upper8, y2, y0).add(shuffleXor4(ctx, pick(upper8, y0, y2), 8));
        Float4 b = pick(upper8, y3, y1).add(shuffleXor4(ctx, pick(upper8, y1, y3), 8));
        boolean upper4 = (ctx.laneId & 4) != 0;
        Float4 c = pick(upper4, b, a).add(shuffleXor4(ctx, pick(upper4, a, b), 4));
        boolean upper2 = (ctx.laneId & 2) != 0;
        float d0 = (upper2 ? c.z() : c.x()) + ctx.shuffleXor(upper2 ? c.x() : c.z(), 2);
        float d1 = (upper2 ? c.w() : c.y()) + ctx.shuffleXor(upper2 ? c.y() : c.w(), 2);
        boolean upper1 = (ctx.laneId & 1) != 0;
        return (upper1 ? d1 : d0) + ctx.shuffleXor(upper1 ? d0 : d1, 1);
    }

    private static Float4 pick(boolean first, Float4 a, Float4 b) {
        return first ? a : b;
    }

    private static Float4 shuffleXor4(KernelContext ctx, Float4 x, int mask) {
        return new Float4(ctx.shuffleXor(x.x(), mask), ctx.shuffleXor(x.y(), mask), ctx.shuffleXor(x.z(), mask),
                ctx.shuffleXor(x.w(), mask));
    }

    /** The maximum over the lanes that hold this lane's head: its four tokens in each half of the warp. */
    static float headMax(KernelContext ctx, float y) {
        y = Math.max(y, ctx.shuffleXor(y, 4));
        y = Math.max(y, ctx.shuffleXor(y, 8));
        return Math.max(y, ctx.shuffleXor(y, 16));
    }

    /** The sum over the lanes that hold this lane's head. */
    static float headSum(KernelContext ctx, float x) {
        x += ctx.shuffleXor(x, 4);
        x += ctx.shuffleXor(x, 8);
        return x + ctx.shuffleXor(x, 16);
    }

    /** e^(old − new); 1 while both are −∞ (nothing seen yet), where the difference would be NaN. */
    static float factor(float old, float now) {
        return old == now ? 1f : KMath.exp(old - now);
    }

    /** e^(y − max), 0 for a masked score (y = −∞, also when max is −∞). */
    static float probability(float y, float max) {
        return y == Float.NEGATIVE_INFINITY ? 0f : KMath.exp(y - max);
    }

    /**
     * {@code acc·rescale + Σ_u p_u·v_u} for the head whose pairs sit at lanes {@code head + 4u} of the half
     * ({@code head} counts from the half's first lane), with that head's rescale and probabilities fetched
     * from the lanes that computed them.
     */
    static Float8 accumulate(KernelContext ctx, Float8 acc, float rescale, float p, int head, Float8 v0, Float8 v1,
            Float8 v2, Float8 v3) {
        float r = ctx.shuffleIdx(rescale, head);
        float p0 = ctx.shuffleIdx(p, head);
        float p1 = ctx.shuffleIdx(p, head + 4);
        float p2 = ctx.shuffleIdx(p, head + 8);
        float p3 = ctx.shuffleIdx(p, head + 12);
        return fma8(v3, p3, fma8(v2, p2, fma8(v1, p1, fma8(v0, p0, acc.scale(r)))));
    }

    /**
     * Adds up each head's lanes and the warp's two halves (they hold different tokens under one running max)
     * and writes the warp's maxima, sums and unnormalised outputs to its part of {@code merge}.
     */
    static void publish(KernelContext ctx, float[] merge, float max, float sum, Float8 acc0, Float8 acc1,
            Float8 acc2, Float8 acc3) {
        float total = headSum(ctx, sum);
        Float8 o0 = add8(acc0, shuffleXor8(ctx, acc0, 16));
        Float8 o1 = add8(acc1, shuffleXor8(ctx, acc1, 16));
        Float8 o2 = add8(acc2, shuffleXor8(ctx, acc2, 16));
        Float8 o3 = add8(acc3, shuffleXor8(ctx, acc3, 16));
        int base = ctx.warpId * WARP_STRIDE;
        if (ctx.laneId < TOKEN_LANES) {
            int d = ctx.laneId * 8;
            store8(merge, base + d, o0);
            store8(merge, base + HEAD_DIM + d, o1);
            store8(merge, base + 2 * HEAD_DIM + d, o2);
            store8(merge, base + 3 * HEAD_DIM + d, o3);
        }
        if (ctx.laneId < QUAD) { // lane g holds head g's max and sum
            merge[base + MAXIMA + ctx.laneId] = max;
            merge[base + SUMS + ctx.laneId] = total;
        }
        ctx.localBarrier();
    }

    /**
     * Merges the four warps' results by log-sum-exp and writes {@code o_s = Σ_w e^(m_w − m)·acc_w / l} and
     * {@code lse_s = m + log l} of the block's heads, thread {@code i} taking head {@code i / 32} and
     * dimensions {@code 4·(i % 32) ..}; a split without tokens writes 0 and −∞.
     */
    static void finish(KernelContext ctx, float[] merge, F32Array partialOut, F32Array partialLse, long firstRow,
            int heads) {
        int h = ctx.localIdx / KernelContext.WARP_SIZE;
        int d = ctx.laneId * 4;
        float max = Float.NEGATIVE_INFINITY;
        for (int w = 0; w < WARPS; w++) {
            max = Math.max(max, merge[w * WARP_STRIDE + MAXIMA + h]);
        }
        float l = 0f;
        Float4 o = new Float4(0f, 0f, 0f, 0f);
        for (int w = 0; w < WARPS; w++) {
            int base = w * WARP_STRIDE;
            // a warp that saw no token has max −∞ and weighs 0; if every warp did, nothing is added
            float weight = probability(merge[base + MAXIMA + h], max);
            l += weight * merge[base + SUMS + h];
            int at = base + h * HEAD_DIM + d;
            o = o.add(new Float4(merge[at], merge[at + 1], merge[at + 2], merge[at + 3]).scale(weight));
        }
        if (h < heads) {
            float inverse = l > 0f ? 1f / l : 0f;
            partialOut.setFloat4((firstRow + h) * HEAD_DIM + d, o.scale(inverse));
            if (ctx.laneId == 0) {
                partialLse.set(firstRow + h, l > 0f ? max + KMath.log(l) : Float.NEGATIVE_INFINITY);
            }
        }
    }

    private static Float8 shuffleXor8(KernelContext ctx, Float8 x, int mask) {
        return new Float8(ctx.shuffleXor(x.s0(), mask), ctx.shuffleXor(x.s1(), mask), ctx.shuffleXor(x.s2(), mask),
                ctx.shuffleXor(x.s3(), mask), ctx.shuffleXor(x.s4(), mask), ctx.shuffleXor(x.s5(), mask),
                ctx.shuffleXor(x.s6(), mask), ctx.shuffleXor(x.s7(), mask));
    }

    static Float8 zero8() {
        return new Float8(0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
    }

    private static void store8(float[] a, int i, Float8 x) {
        a[i] = x.s0();
        a[i + 1] = x.s1();
        a[i + 2] = x.s2();
        a[i + 3] = x.s3();
        a[i + 4] = x.s4();
        a[i + 5] = x.s5();
        a[i + 6] = x.s6();
        a[i + 7] = x.s7();
    }

    /** {@code x·p + acc} lane by lane, each with one rounding. */
    private static Float8 fma8(Float8 x, float p, Float8 acc) {
        return new Float8(Math.fma(x.s0(), p, acc.s0()), Math.fma(x.s1(), p, acc.s1()), Math.fma(x.s2(), p, acc.s2()),
                Math.fma(x.s3(), p, acc.s3()), Math.fma(x.s4(), p, acc.s4()), Math.fma(x.s5(), p, acc.s5()),
                Math.fma(x.s6(), p, acc.s6()), Math.fma(x.s7(), p, acc.s7()));
    }

    private static Float8 add8(Float8 a, Float8 b) {
        return new Float8(a.s0() + b.s0(), a.s1() + b.s1(), a.s2() + b.s2(), a.s3() + b.s3(), a.s4() + b.s4(),
                a.s5() + b.s5(), a.s6() + b.s6(), a.s7() + b.s7());
    }
}
