package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Prefill attention on tensor cores, in FlashAttention-2's schedule: a block holds the queries of a run of consecutive
 * prompt positions of one KV head's GQA group and streams that head's keys and values once for all of them, where
 * {@link SplitKvDecode#rows} streams them once per row. A prompt of N positions then reads its keys and values about
 * N / {@link #positionsPerTile} times instead of N times, and the products run as {@code mma.sync} instead of FMAs.
 *
 * <p>Work: a <em>tile</em> is up to {@link #positionsPerTile}{@code (group)} rows of one sequence at consecutive
 * positions ({@code tiles[2i]} = first row, {@code tiles[2i + 1]} = rows); row {@code r} attends to the first
 * {@code lengths[r]} keys of slot {@code slots[r]} (every row of a tile names the same slot, lengths nondecreasing,
 * each at least 1). Block {@code kvHead · tileCount + tile} serves (tile, KV head), so neighbouring blocks read the same
 * keys from L2. Layouts as {@link DecodeAttentionShape}'s: queries and outputs F32 {@code [rows][kvHeads·group][128]},
 * keys and values BF16 {@code [slots][kvHeads][capacity][128]}.
 *
 * <p>The block's 64 query vectors are (position, head) pairs, vector {@code u} = position {@code u / group}, head
 * {@code u % group}, 16 a warp: one {@code mma}'s rows. A warp keeps its queries (as {@code hi + lo} bfloat16 pairs, as
 * {@link TensorCoreLinear} splits its inputs: within about 2<sup>-17</sup> of the F32 values) and its 16 × 128 output
 * in registers. Per step of {@link #KEYS} keys: the scores {@code S = Q·Kᵀ} from keys read straight from global memory
 * (L1/L2), each lane loading 16 contiguous bytes of a key's row, with {@code mma}'s k index numbered to match (as in
 * {@link KMeansTensorAssign}); the causal mask and the online softmax on the scores' registers (row maxima over the
 * four lanes that share a row); then {@code O += P·V} with the probabilities, again split {@code hi + lo}, as the A
 * operand straight from the scores' registers, and V from a shared tile the block stages transposed (two keys a word,
 * as the B operand wants them; rows padded so that a fragment's eight rows fall in distinct banks). Keys past the
 * tile's longest row are masked and their values staged as zeros, so memory past a sequence's length (which may hold
 * anything) never reaches a sum.
 *
 * <p>Accuracy: the keys and values are exact in bfloat16; the queries and probabilities, split, carry about 17 bits;
 * what remains is the tensor cores' F32 summation within a score (16 {@code mma}) and within a step's {@code P·V} (4),
 * about 1e-5 of the output's scale as in {@link TensorCoreLinear}; the steps' sums are added in F32 on the CUDA cores.
 */
public final class FlashPrefill {
    /** Threads of a block: four warps of 16 query vectors. */
    public static final int THREADS = 128;
    /** Query vectors (position, head) of a block. */
    public static final int VECTORS = 64;
    /** Keys a block takes per step: four {@code mma} tiles of 8 in the scores, two depths of 16 in {@code P·V}. */
    public static final int KEYS = 32;
    /** Key pairs of a step: the words of one dimension's row in the shared V tile. */
    private static final int PAIRS = KEYS / 2;
    /** Words per row of the shared V tile: rows 4 words apart mod 32 put lanes (g, t) on banks 4g + t. */
    private static final int STRIDE = PAIRS + 4;

    private FlashPrefill() {}

    /** Positions a tile may hold for GQA groups of {@code group} query heads: as many as fill the block's vectors. */
    public static int positionsPerTile(int group) {
        return VECTORS / group;
    }

    /** The grid over {@code tiles} tiles of each of {@code kvHeads} KV heads. */
    public static Grid grid(int tiles, int kvHeads) {
        return Grid.of(tiles * kvHeads, THREADS);
    }

    /** Attention of BF16 keys and values; see the class comment. Launch on {@link #grid}. */
    @Kernel
    public static void bf16(KernelContext ctx, F32Array q, BF16Array k, BF16Array v, I32Array slots, I32Array lengths,
            I32Array tiles, F32Array out, int tileCount, int kvHeads, long capacity, float scale, @Constant int group) {
        int[] vt = ctx.allocateIntLocalArray(HEAD_DIM * STRIDE);
        int kvHead = ctx.groupIdx / tileCount, tile = ctx.groupIdx - kvHead * tileCount;
        int firstRow = tiles.get(2L * tile), count = tiles.get(2L * tile + 1);
        int limit = 0; // the tile's longest row: the keys the block reads
        for (int i = 0; i < count; i++) {
            limit = Math.max(limit, lengths.get(firstRow + i));
        }
        long kv = ((long) slots.get(firstRow) * kvHeads + kvHead) * capacity * HEAD_DIM;

        int g = ctx.laneId / 4, t = ctx.laneId % 4;
        int uG = 16 * ctx.warpId + g, uG8 = uG + 8;
        int pG = uG / group, pG8 = uG8 / group;
        boolean validG = pG < count, validG8 = pG8 < count;
        // vectors past the tile read its first row (in bounds) and see no key; their outputs are never written
        int rowG = firstRow + (validG ? pG : 0), rowG8 = firstRow + (validG8 ? pG8 : 0);
        int lengthG = validG ? lengths.get(rowG) : 0, lengthG8 = validG8 ? lengths.get(rowG8) : 0;
        int warpLimit = ctx.warpMax(Math.max(lengthG, lengthG8));
        int heads = kvHeads * group;
        long qG = ((long) rowG * heads + kvHead * group + (uG - pG * group)) * HEAD_DIM + 8 * t;
        long qG8 = ((long) rowG8 * heads + kvHead * group + (uG8 - pG8 * group)) * HEAD_DIM + 8 * t;

        // queries: for k-step pair p, dimensions 32p + 8t .. 32p + 8t + 3 (first step) and + 4 .. + 7 (second)
        Float4 a = q.getFloat4(qG), b = q.getFloat4(qG8);
        Int4 h0 = SplitBf16.pack(a, b), l0 = SplitBf16.lowPart(a, b, h0);
        a = q.getFloat4(qG + 4);
        b = q.getFloat4(qG8 + 4);
        Int4 h1 = SplitBf16.pack(a, b), l1 = SplitBf16.lowPart(a, b, h1);
        a = q.getFloat4(qG + 32);
        b = q.getFloat4(qG8 + 32);
        Int4 h2 = SplitBf16.pack(a, b), l2 = SplitBf16.lowPart(a, b, h2);
        a = q.getFloat4(qG + 36);
        b = q.getFloat4(qG8 + 36);
        Int4 h3 = SplitBf16.pack(a, b), l3 = SplitBf16.lowPart(a, b, h3);
        a = q.getFloat4(qG + 64);
        b = q.getFloat4(qG8 + 64);
        Int4 h4 = SplitBf16.pack(a, b), l4 = SplitBf16.lowPart(a, b, h4);
        a = q.getFloat4(qG + 68);
        b = q.getFloat4(qG8 + 68);
        Int4 h5 = SplitBf16.pack(a, b), l5 = SplitBf16.lowPart(a, b, h5);
        a = q.getFloat4(qG + 96);
        b = q.getFloat4(qG8 + 96);
        Int4 h6 = SplitBf16.pack(a, b), l6 = SplitBf16.lowPart(a, b, h6);
        a = q.getFloat4(qG + 100);
        b = q.getFloat4(qG8 + 100);
        Int4 h7 = SplitBf16.pack(a, b), l7 = SplitBf16.lowPart(a, b, h7);

        // output dimensions 8n + 2t, 8n + 2t + 1 of rows g (x, y) and g + 8 (z, w), n = 0 … 15
        Float4 o0 = zero(), o1 = zero(), o2 = zero(), o3 = zero(), o4 = zero(), o5 = zero(), o6 = zero(), o7 = zero();
        Float4 o8 = zero(), o9 = zero(), o10 = zero(), o11 = zero(), o12 = zero(), o13 = zero(), o14 = zero(), o15 = zero();
        float maxG = Float.NEGATIVE_INFINITY, maxG8 = Float.NEGATIVE_INFINITY, sumG = 0f, sumG8 = 0f;

        int pair = ctx.localIdx % PAIRS, chunk = ctx.localIdx / PAIRS; // this thread's share of staging V
        for (int first = 0; first < limit; first += KEYS) {
            ctx.localBarrier(); // every warp is done with the previous step's values
            stageValues(vt, v, kv, first + 2 * pair, limit, pair, chunk);
            ctx.localBarrier();
            if (first < warpLimit) { // the same for the whole warp
                Float4 s0 = scores(ctx, k, kv, first, 0, limit, g, t, h0, l0, h1, l1, h2, l2, h3, l3, h4, l4, h5, l5, h6, l6, h7, l7);
                Float4 s1 = scores(ctx, k, kv, first, 1, limit, g, t, h0, l0, h1, l1, h2, l2, h3, l3, h4, l4, h5, l5, h6, l6, h7, l7);
                Float4 s2 = scores(ctx, k, kv, first, 2, limit, g, t, h0, l0, h1, l1, h2, l2, h3, l3, h4, l4, h5, l5, h6, l6, h7, l7);
                Float4 s3 = scores(ctx, k, kv, first, 3, limit, g, t, h0, l0, h1, l1, h2, l2, h3, l3, h4, l4, h5, l5, h6, l6, h7, l7);
                s0 = masked(s0, scale, first + 2 * t, lengthG, lengthG8);
                s1 = masked(s1, scale, first + 8 + 2 * t, lengthG, lengthG8);
                s2 = masked(s2, scale, first + 16 + 2 * t, lengthG, lengthG8);
                s3 = masked(s3, scale, first + 24 + 2 * t, lengthG, lengthG8);

                float stepG = Math.max(Math.max(Math.max(s0.x(), s0.y()), Math.max(s1.x(), s1.y())),
                        Math.max(Math.max(s2.x(), s2.y()), Math.max(s3.x(), s3.y())));
                float stepG8 = Math.max(Math.max(Math.max(s0.z(), s0.w()), Math.max(s1.z(), s1.w())),
                        Math.max(Math.max(s2.z(), s2.w()), Math.max(s3.z(), s3.w())));
                stepG = Math.max(stepG, ctx.shuffleXor(stepG, 1));
                stepG = Math.max(stepG, ctx.shuffleXor(stepG, 2));
                stepG8 = Math.max(stepG8, ctx.shuffleXor(stepG8, 1));
                stepG8 = Math.max(stepG8, ctx.shuffleXor(stepG8, 2));
                float newG = Math.max(maxG, stepG), newG8 = Math.max(maxG8, stepG8);
                float rG = SplitKvDecode.factor(maxG, newG), rG8 = SplitKvDecode.factor(maxG8, newG8);
                maxG = newG;
                maxG8 = newG8;
                s0 = probabilities(s0, newG, newG8);
                s1 = probabilities(s1, newG, newG8);
                s2 = probabilities(s2, newG, newG8);
                s3 = probabilities(s3, newG, newG8);
                sumG = sumG * rG + (s0.x() + s0.y() + s1.x() + s1.y() + s2.x() + s2.y() + s3.x() + s3.y());
                sumG8 = sumG8 * rG8 + (s0.z() + s0.w() + s1.z() + s1.w() + s2.z() + s2.w() + s3.z() + s3.w());

                // P as the A operand: keys 16m + 2t, + 1 (a0 row g, a1 row g + 8) and 16m + 8 + 2t, + 1 (a2, a3)
                Float4 rowP = new Float4(s0.x(), s0.y(), s1.x(), s1.y()), rowP8 = new Float4(s0.z(), s0.w(), s1.z(), s1.w());
                Int4 ph0 = SplitBf16.pack(rowP, rowP8), pl0 = SplitBf16.lowPart(rowP, rowP8, ph0);
                rowP = new Float4(s2.x(), s2.y(), s3.x(), s3.y());
                rowP8 = new Float4(s2.z(), s2.w(), s3.z(), s3.w());
                Int4 ph1 = SplitBf16.pack(rowP, rowP8), pl1 = SplitBf16.lowPart(rowP, rowP8, ph1);
                o0 = rescaledPlus(o0, rG, rG8, weighted(ctx, vt, 0, g, t, ph0, pl0, ph1, pl1));
                o1 = rescaledPlus(o1, rG, rG8, weighted(ctx, vt, 1, g, t, ph0, pl0, ph1, pl1));
                o2 = rescaledPlus(o2, rG, rG8, weighted(ctx, vt, 2, g, t, ph0, pl0, ph1, pl1));
                o3 = rescaledPlus(o3, rG, rG8, weighted(ctx, vt, 3, g, t, ph0, pl0, ph1, pl1));
                o4 = rescaledPlus(o4, rG, rG8, weighted(ctx, vt, 4, g, t, ph0, pl0, ph1, pl1));
                o5 = rescaledPlus(o5, rG, rG8, weighted(ctx, vt, 5, g, t, ph0, pl0, ph1, pl1));
                o6 = rescaledPlus(o6, rG, rG8, weighted(ctx, vt, 6, g, t, ph0, pl0, ph1, pl1));
                o7 = rescaledPlus(o7, rG, rG8, weighted(ctx, vt, 7, g, t, ph0, pl0, ph1, pl1));
                o8 = rescaledPlus(o8, rG, rG8, weighted(ctx, vt, 8, g, t, ph0, pl0, ph1, pl1));
                o9 = rescaledPlus(o9, rG, rG8, weighted(ctx, vt, 9, g, t, ph0, pl0, ph1, pl1));
                o10 = rescaledPlus(o10, rG, rG8, weighted(ctx, vt, 10, g, t, ph0, pl0, ph1, pl1));
                o11 = rescaledPlus(o11, rG, rG8, weighted(ctx, vt, 11, g, t, ph0, pl0, ph1, pl1));
                o12 = rescaledPlus(o12, rG, rG8, weighted(ctx, vt, 12, g, t, ph0, pl0, ph1, pl1));
                o13 = rescaledPlus(o13, rG, rG8, weighted(ctx, vt, 13, g, t, ph0, pl0, ph1, pl1));
                o14 = rescaledPlus(o14, rG, rG8, weighted(ctx, vt, 14, g, t, ph0, pl0, ph1, pl1));
                o15 = rescaledPlus(o15, rG, rG8, weighted(ctx, vt, 15, g, t, ph0, pl0, ph1, pl1));
            }
        }
        sumG += ctx.shuffleXor(sumG, 1);
        sumG += ctx.shuffleXor(sumG, 2);
        sumG8 += ctx.shuffleXor(sumG8, 1);
        sumG8 += ctx.shuffleXor(sumG8, 2);
        if (validG) {
            float inverse = 1f / sumG;
            long at = qG - 8 * t + 2 * t;
            store(out, at, 0, o0.x(), o0.y(), inverse);
            store(out, at, 1, o1.x(), o1.y(), inverse);
            store(out, at, 2, o2.x(), o2.y(), inverse);
            store(out, at, 3, o3.x(), o3.y(), inverse);
            store(out, at, 4, o4.x(), o4.y(), inverse);
            store(out, at, 5, o5.x(), o5.y(), inverse);
            store(out, at, 6, o6.x(), o6.y(), inverse);
            store(out, at, 7, o7.x(), o7.y(), inverse);
            store(out, at, 8, o8.x(), o8.y(), inverse);
            store(out, at, 9, o9.x(), o9.y(), inverse);
            store(out, at, 10, o10.x(), o10.y(), inverse);
            store(out, at, 11, o11.x(), o11.y(), inverse);
            store(out, at, 12, o12.x(), o12.y(), inverse);
            store(out, at, 13, o13.x(), o13.y(), inverse);
            store(out, at, 14, o14.x(), o14.y(), inverse);
            store(out, at, 15, o15.x(), o15.y(), inverse);
        }
        if (validG8) {
            float inverse = 1f / sumG8;
            long at = qG8 - 8 * t + 2 * t;
            store(out, at, 0, o0.z(), o0.w(), inverse);
            store(out, at, 1, o1.z(), o1.w(), inverse);
            store(out, at, 2, o2.z(), o2.w(), inverse);
            store(out, at, 3, o3.z(), o3.w(), inverse);
            store(out, at, 4, o4.z(), o4.w(), inverse);
            store(out, at, 5, o5.z(), o5.w(), inverse);
            store(out, at, 6, o6.z(), o6.w(), inverse);
            store(out, at, 7, o7.z(), o7.w(), inverse);
            store(out, at, 8, o8.z(), o8.w(), inverse);
            store(out, at, 9, o9.z(), o9.w(), inverse);
            store(out, at, 10, o10.z(), o10.w(), inverse);
            store(out, at, 11, o11.z(), o11.w(), inverse);
            store(out, at, 12, o12.z(), o12.w(), inverse);
            store(out, at, 13, o13.z(), o13.w(), inverse);
            store(out, at, 14, o14.z(), o14.w(), inverse);
            store(out, at, 15, o15.z(), o15.w(), inverse);
        }
    }

    /**
     * This thread's share of the step's values in the shared tile: keys {@code key} and {@code key + 1} (zeros from
     * {@code limit} on), dimensions {@code 16·chunk … 16·chunk + 15}, as words {@code vt[d·STRIDE + pair]} holding
     * dimension d of the even key in the low half and of the odd key in the high half. Keys past the limit load the
     * last key (in bounds) and stage zeros.
     */
    private static void stageValues(int[] vt, BF16Array v, long kv, int key, int limit, int pair, int chunk) {
        long even = kv + (long) Math.min(key, limit - 1) * HEAD_DIM + 16 * chunk;
        long odd = kv + (long) Math.min(key + 1, limit - 1) * HEAD_DIM + 16 * chunk;
        int evenMask = key < limit ? -1 : 0, oddMask = key + 1 < limit ? -1 : 0;
        Int4 e0 = v.getWords(even), e1 = v.getWords(even + 8), d0 = v.getWords(odd), d1 = v.getWords(odd + 8);
        int at = 16 * chunk * STRIDE + pair;
        interleave(vt, at, e0.x() & evenMask, d0.x() & oddMask);
        interleave(vt, at + 2 * STRIDE, e0.y() & evenMask, d0.y() & oddMask);
        interleave(vt, at + 4 * STRIDE, e0.z() & evenMask, d0.z() & oddMask);
        interleave(vt, at + 6 * STRIDE, e0.w() & evenMask, d0.w() & oddMask);
        interleave(vt, at + 8 * STRIDE, e1.x() & evenMask, d1.x() & oddMask);
        interleave(vt, at + 10 * STRIDE, e1.y() & evenMask, d1.y() & oddMask);
        interleave(vt, at + 12 * STRIDE, e1.z() & evenMask, d1.z() & oddMask);
        interleave(vt, at + 14 * STRIDE, e1.w() & evenMask, d1.w() & oddMask);
    }

    /** Dimensions 2w and 2w + 1 of two keys (one word each) as two words, one a dimension, even key low. */
    private static void interleave(int[] vt, int at, int even, int odd) {
        vt[at] = (even & 0xFFFF) | (odd << 16);
        vt[at + STRIDE] = (even >>> 16) | (odd & 0xFFFF0000);
    }

    /**
     * Unscaled scores of the warp's rows against keys {@code first + 8j … first + 8j + 7} (lane (g, t): columns 2t and
     * 2t + 1 of rows g and g + 8); key g of the tile is read by lanes 4g … 4g + 3, 16 bytes of each k-step pair
     * (dimensions 32p + 8t …), clamped below {@code limit} (masked later).
     */
    private static Float4 scores(KernelContext ctx, BF16Array k, long kv, int first, int j, int limit, int g, int t,
            Int4 h0, Int4 l0, Int4 h1, Int4 l1, Int4 h2, Int4 l2, Int4 h3, Int4 l3, Int4 h4, Int4 l4, Int4 h5, Int4 l5,
            Int4 h6, Int4 l6, Int4 h7, Int4 l7) {
        long at = kv + (long) Math.min(first + 8 * j + g, limit - 1) * HEAD_DIM + 8 * t;
        Int4 w0 = k.getWords(at), w1 = k.getWords(at + 32), w2 = k.getWords(at + 64), w3 = k.getWords(at + 96);
        Float4 s = zero();
        s = SplitBf16.mma(ctx, s, h0, l0, w0.x(), w0.y());
        s = SplitBf16.mma(ctx, s, h1, l1, w0.z(), w0.w());
        s = SplitBf16.mma(ctx, s, h2, l2, w1.x(), w1.y());
        s = SplitBf16.mma(ctx, s, h3, l3, w1.z(), w1.w());
        s = SplitBf16.mma(ctx, s, h4, l4, w2.x(), w2.y());
        s = SplitBf16.mma(ctx, s, h5, l5, w2.z(), w2.w());
        s = SplitBf16.mma(ctx, s, h6, l6, w3.x(), w3.y());
        return SplitBf16.mma(ctx, s, h7, l7, w3.z(), w3.w());
    }

    /** Scaled scores of keys {@code key} and {@code key + 1}, −∞ at or past each row's length. */
    private static Float4 masked(Float4 s, float scale, int key, int lengthG, int lengthG8) {
        return new Float4(key < lengthG ? s.x() * scale : Float.NEGATIVE_INFINITY,
                key + 1 < lengthG ? s.y() * scale : Float.NEGATIVE_INFINITY,
                key < lengthG8 ? s.z() * scale : Float.NEGATIVE_INFINITY,
                key + 1 < lengthG8 ? s.w() * scale : Float.NEGATIVE_INFINITY);
    }

    private static Float4 probabilities(Float4 s, float maxG, float maxG8) {
        return new Float4(SplitKvDecode.probability(s.x(), maxG), SplitKvDecode.probability(s.y(), maxG),
                SplitKvDecode.probability(s.z(), maxG8), SplitKvDecode.probability(s.w(), maxG8));
    }

    /**
     * The running output rescaled to the new maxima, plus a step's {@code P·V}: added on the CUDA cores in F32, where
     * accumulating in the {@code mma} would chain one add per 16 keys, thousands at a long prompt, in the tensor
     * cores' less careful rounding (see {@link TensorCoreGemm}).
     */
    private static Float4 rescaledPlus(Float4 o, float rG, float rG8, Float4 pv) {
        return new Float4(o.x() * rG + pv.x(), o.y() * rG + pv.y(), o.z() * rG8 + pv.z(), o.w() * rG8 + pv.w());
    }

    /**
     * The step's probabilities times the values of output dimensions {@code 8n … 8n + 7}: two depths of 16 keys, B words
     * {@code vt[(8n + g)·STRIDE + 8m + t]} (keys 16m + 2t, + 1) and {@code + 4} (keys 16m + 8 + 2t, + 1).
     */
    private static Float4 weighted(KernelContext ctx, int[] vt, int n, int g, int t, Int4 ph0, Int4 pl0, Int4 ph1, Int4 pl1) {
        int row = (8 * n + g) * STRIDE + t;
        Float4 o = SplitBf16.mma(ctx, zero(), ph0, pl0, vt[row], vt[row + 4]);
        return SplitBf16.mma(ctx, o, ph1, pl1, vt[row + 8], vt[row + 12]);
    }

    /** Dimensions {@code 8n + 2t} and {@code + 1} of an output row ({@code at} = its dimension {@code 2t}). */
    private static void store(F32Array out, long at, int n, float x, float y, float inverse) {
        out.set(at + 8 * n, x * inverse);
        out.set(at + 8 * n + 1, y * inverse);
    }

    private static Float4 zero() {
        return new Float4(0f, 0f, 0f, 0f);
    }
}
