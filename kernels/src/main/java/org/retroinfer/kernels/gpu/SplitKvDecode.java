package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.MAX_GROUP;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.PARTIAL_THREADS;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Split-KV ("flash-decoding") attention for one decode query row per sequence, in two kernels:
 * {@code partials*} cuts each (sequence, KV head)'s tokens into {@code splits} chunks, one block per chunk,
 * and writes per chunk and query head the normalised output {@code o_s} and {@code lse_s = m + log Σ e^(y−m)};
 * {@link SplitKvMerge#merge} combines the chunks by the spec's rule (retroinfer-spec.md §2.4):
 * {@code lse = log Σ_s e^(lse_s)}, {@code o = Σ_s e^(lse_s − lse) · o_s}. There is no barrier across blocks,
 * hence two launches. Layout and grids: {@link DecodeAttentionShape}.
 *
 * <p>A partials block holds the whole GQA group of its KV head, so each K/V element is read from memory
 * once per block. It walks its chunk in tiles of {@link #TILE} tokens: stage the tile's K and V in shared
 * memory as F32 (16-byte loads, converted once), score every (query head, token) pair, update each head's
 * running max and sum (online softmax, one warp per head), then accumulate P·V with each thread owning an
 * eight-dimension slice of one head. Math is F32; chunks are whole tiles, so only a sequence's last tile is
 * partial.
 *
 * <p>RetroInfer's two additions (spec §2.4, the weighted FlashAttention fork): {@code partialsWeighted*} give
 * each key {@code t} a weight {@code w_t} that enters only the softmax denominator, so a partial is
 * {@code o_s = Σ e^y·v / Σ w·e^y} and {@code lse_s = log Σ w·e^y}; with keys = centroids, values = value sums and
 * weights = cluster sizes this is the estimation zone's {@code (out_E, lse_E)}. {@link SplitKvMerge#mergeWithPrevious} merges
 * one more partial per (sequence, query head), such as that {@code (out_E, lse_E)}, as an extra split, which
 * gives the spec's exact output {@code (Σ e^x V + Σ e^y VS) / (Σ e^x + Σ s·e^y)}.
 *
 * <p>{@link CentroidScoring} scores centroids with the same query staging, tile scoring and per-head online
 * softmax, hence the package-private helpers.
 */
public final class SplitKvDecode {
    /** Tokens per tile: one per lane in the per-head softmax step. */
    public static final int TILE = 32;
    /** Eight-dimension slices of a head vector: the P·V step's threads per query head. */
    static final int SLICES = HEAD_DIM / 8;
    /**
     * Row stride of the staged keys. Scoring has lane {@code t} read key {@code t}'s dimension {@code j};
     * with a stride of 128 floats all 32 lanes would hit one shared-memory bank, 129 spreads them over 32.
     */
    static final int KEY_STRIDE = HEAD_DIM + 1;
    static final int WARPS = PARTIAL_THREADS / KernelContext.WARP_SIZE;
    /** Offsets of the per-head running max, running sum and last rescale factor in the stats array. */
    static final int MAX = 0, SUM = MAX_GROUP, RESCALE = 2 * MAX_GROUP;

    private SplitKvDecode() {}

    /**
     * Tokens per split for a sequence of {@code length} tokens: {@code length / splits} rounded up to whole
     * tiles. Split {@code s} covers {@code [s·n, min(length, (s+1)·n))}; trailing splits may be empty.
     */
    public static int tokensPerSplit(int length, int splits) {
        int perSplit = (length + splits - 1) / splits;
        return (perSplit + TILE - 1) / TILE * TILE;
    }

    /** The first token of this block's split: splits are whole tiles ({@link #tokensPerSplit}). */
    private static int splitFirst(KernelContext ctx, I32Array lengths, int kvHeads, int splits) {
        int pair = ctx.groupIdx / splits;
        return (ctx.groupIdx - pair * splits) * tokensPerSplit(lengths.get(pair / kvHeads), splits);
    }

    /** One past the last token of this block's split: the sequence's length for its last split. */
    private static int splitEnd(KernelContext ctx, I32Array lengths, int kvHeads, int splits) {
        int pair = ctx.groupIdx / splits;
        int length = lengths.get(pair / kvHeads);
        return Math.min(length, (ctx.groupIdx - pair * splits + 1) * tokensPerSplit(length, splits));
    }

    /** The partials of BF16 K/V; see the class comment. Launch on {@link DecodeAttentionShape#partialsGrid()}. */
    @Kernel
    public static void partialsBf16(KernelContext ctx, F32Array q, BF16Array k, BF16Array v, I32Array lengths,
            F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits, float scale,
            @Constant int group) {
        float[] queries = ctx.allocateFloatLocalArray(group * HEAD_DIM);
        float[] keys = ctx.allocateFloatLocalArray(TILE * KEY_STRIDE);
        float[] values = ctx.allocateFloatLocalArray(TILE * HEAD_DIM);
        float[] scores = ctx.allocateFloatLocalArray(group * TILE);
        float[] stats = ctx.allocateFloatLocalArray(3 * MAX_GROUP);
        int pair = ctx.groupIdx / splits; // sequence · kvHeads + KV head
        int end = splitEnd(ctx, lengths, kvHeads, splits);
        long slot = (long) pair * capacity * HEAD_DIM;
        begin(ctx, q, (long) pair * group * HEAD_DIM, scale, group, queries, stats);
        Float8 acc = new Float8(0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
        for (int first = splitFirst(ctx, lengths, kvHeads, splits); first < end; first += TILE) {
            stageTile(ctx, k, v, slot, first, end, keys, values);
            acc = attendTile(ctx, first, end, group, queries, keys, values, scores, stats, acc);
        }
        finish(ctx, partialOut, partialLse, (long) ctx.groupIdx * group, group, values, stats, acc);
    }

    /** {@link #partialsBf16} for F16 K/V; only the tile staging differs. */
    @Kernel
    public static void partialsF16(KernelContext ctx, F32Array q, F16Array k, F16Array v, I32Array lengths,
            F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits, float scale,
            @Constant int group) {
        float[] queries = ctx.allocateFloatLocalArray(group * HEAD_DIM);
        float[] keys = ctx.allocateFloatLocalArray(TILE * KEY_STRIDE);
        float[] values = ctx.allocateFloatLocalArray(TILE * HEAD_DIM);
        float[] scores = ctx.allocateFloatLocalArray(group * TILE);
        float[] stats = ctx.allocateFloatLocalArray(3 * MAX_GROUP);
        int pair = ctx.groupIdx / splits; // sequence · kvHeads + KV head
        int end = splitEnd(ctx, lengths, kvHeads, splits);
        long slot = (long) pair * capacity * HEAD_DIM;
        begin(ctx, q, (long) pair * group * HEAD_DIM, scale, group, queries, stats);
        Float8 acc = new Float8(0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
        for (int first = splitFirst(ctx, lengths, kvHeads, splits); first < end; first += TILE) {
            stageTile(ctx, k, v, slot, first, end, keys, values);
            acc = attendTile(ctx, first, end, group, queries, keys, values, scores, stats, acc);
        }
        finish(ctx, partialOut, partialLse, (long) ctx.groupIdx * group, group, values, stats, acc);
    }

    /**
     * {@link #partialsBf16} with a weight per key in the softmax denominator only (spec §2.4):
     * {@code o_s = Σ e^y·v / Σ w·e^y}, {@code lse_s = log Σ w·e^y}. {@code weights} is F32
     * {@code [batch][kvHeads][capacity]} ({@link DecodeAttentionShape#weightOffset}); weights must be positive
     * (cluster sizes). Launch on {@link DecodeAttentionShape#partialsGrid()}.
     */
    @Kernel
    public static void partialsWeightedBf16(KernelContext ctx, F32Array q, BF16Array k, BF16Array v, F32Array weights,
            I32Array lengths, F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits, float scale,
            @Constant int group) {
        float[] queries = ctx.allocateFloatLocalArray(group * HEAD_DIM);
        float[] keys = ctx.allocateFloatLocalArray(TILE * KEY_STRIDE);
        float[] values = ctx.allocateFloatLocalArray(TILE * HEAD_DIM);
        float[] tileWeights = ctx.allocateFloatLocalArray(TILE);
        float[] scores = ctx.allocateFloatLocalArray(group * TILE);
        float[] stats = ctx.allocateFloatLocalArray(3 * MAX_GROUP);
        int pair = ctx.groupIdx / splits; // sequence · kvHeads + KV head
        int end = splitEnd(ctx, lengths, kvHeads, splits);
        long slot = (long) pair * capacity * HEAD_DIM;
        begin(ctx, q, (long) pair * group * HEAD_DIM, scale, group, queries, stats);
        Float8 acc = new Float8(0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
        for (int first = splitFirst(ctx, lengths, kvHeads, splits); first < end; first += TILE) {
            stageWeights(ctx, weights, (long) pair * capacity, first, end, tileWeights);
            stageTile(ctx, k, v, slot, first, end, keys, values);
            acc = attendWeightedTile(ctx, first, end, group, queries, keys, values, tileWeights, scores, stats, acc);
        }
        finish(ctx, partialOut, partialLse, (long) ctx.groupIdx * group, group, values, stats, acc);
    }

    /** {@link #partialsWeightedBf16} for F16 K/V. */
    @Kernel
    public static void partialsWeightedF16(KernelContext ctx, F32Array q, F16Array k, F16Array v, F32Array weights,
            I32Array lengths, F32Array partialOut, F32Array partialLse, int kvHeads, long capacity, int splits, float scale,
            @Constant int group) {
        float[] queries = ctx.allocateFloatLocalArray(group * HEAD_DIM);
        float[] keys = ctx.allocateFloatLocalArray(TILE * KEY_STRIDE);
        float[] values = ctx.allocateFloatLocalArray(TILE * HEAD_DIM);
        float[] tileWeights = ctx.allocateFloatLocalArray(TILE);
        float[] scores = ctx.allocateFloatLocalArray(group * TILE);
        float[] stats = ctx.allocateFloatLocalArray(3 * MAX_GROUP);
        int pair = ctx.groupIdx / splits; // sequence · kvHeads + KV head
        int end = splitEnd(ctx, lengths, kvHeads, splits);
        long slot = (long) pair * capacity * HEAD_DIM;
        begin(ctx, q, (long) pair * group * HEAD_DIM, scale, group, queries, stats);
        Float8 acc = new Float8(0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
        for (int first = splitFirst(ctx, lengths, kvHeads, splits); first < end; first += TILE) {
            stageWeights(ctx, weights, (long) pair * capacity, first, end, tileWeights);
            stageTile(ctx, k, v, slot, first, end, keys, values);
            acc = attendWeightedTile(ctx, first, end, group, queries, keys, values, tileWeights, scores, stats, acc);
        }
        finish(ctx, partialOut, partialLse, (long) ctx.groupIdx * group, group, values, stats, acc);
    }

    /** Loads the group's query rows, pre-multiplied by the softmax scale, and resets every head's statistics. */
    static void begin(KernelContext ctx, F32Array q, long base, float scale, int group, float[] queries, float[] stats) {
        for (int i = ctx.localIdx; i < group * HEAD_DIM; i += PARTIAL_THREADS) {
            queries[i] = q.get(base + i) * scale;
        }
        if (ctx.localIdx < MAX_GROUP) {
            stats[MAX + ctx.localIdx] = Float.NEGATIVE_INFINITY;
            stats[SUM + ctx.localIdx] = 0f;
        }
        ctx.localBarrier();
    }

    /**
     * Copies the tile's key weights to shared memory, 0 past {@code end}. No barrier of its own: the
     * {@link #stageTile} that follows publishes it, and the previous tile's last barrier has passed.
     */
    private static void stageWeights(KernelContext ctx, F32Array weights, long slot, int first, int end, float[] tileWeights) {
        if (ctx.localIdx < TILE) {
            float w = 0f;
            if (first + ctx.localIdx < end) {
                w = weights.get(slot + first + ctx.localIdx);
            }
            tileWeights[ctx.localIdx] = w;
        }
    }

    /**
     * Converts the tile's keys and values to F32 in shared memory, one 16-byte load each per step. Slots past
     * {@code end} are zeroed, not read: they lie past the sequence (or in the next split), and a NaN there
     * would survive its zero softmax weight in P·V.
     */
    private static void stageTile(KernelContext ctx, BF16Array k, BF16Array v, long slot, int first, int end,
            float[] keys, float[] values) {
        for (int c = ctx.localIdx; c < TILE * SLICES; c += PARTIAL_THREADS) {
            int t = c / SLICES;
            int d = (c - t * SLICES) * 8;
            if (first + t < end) {
                long at = slot + (long) (first + t) * HEAD_DIM + d;
                store8(keys, t * KEY_STRIDE + d, k.getFloat8(at));
                store8(values, t * HEAD_DIM + d, v.getFloat8(at));
            } else {
                store8(keys, t * KEY_STRIDE + d, zero8());
                store8(values, t * HEAD_DIM + d, zero8());
            }
        }
        ctx.localBarrier();
    }

    /** {@link #stageTile(KernelContext, BF16Array, BF16Array, long, int, int, float[], float[])} for F16. */
    private static void stageTile(KernelContext ctx, F16Array k, F16Array v, long slot, int first, int end,
            float[] keys, float[] values) {
        for (int c = ctx.localIdx; c < TILE * SLICES; c += PARTIAL_THREADS) {
            int t = c / SLICES;
            int d = (c - t * SLICES) * 8;
            if (first + t < end) {
                long at = slot + (long) (first + t) * HEAD_DIM + d;
                store8(keys, t * KEY_STRIDE + d, k.getFloat8(at));
                store8(values, t * HEAD_DIM + d, v.getFloat8(at));
            } else {
                store8(keys, t * KEY_STRIDE + d, zero8());
                store8(values, t * HEAD_DIM + d, zero8());
            }
        }
        ctx.localBarrier();
    }

    /**
     * One staged tile: scores, online-softmax update, P·V. Returns this thread's accumulator: eight
     * dimensions ({@code localIdx % 16}) of one query head, over every {@code lanes}-th token of the tiles.
     */
    private static Float8 attendTile(KernelContext ctx, int first, int end, int group, float[] queries, float[] keys,
            float[] values, float[] scores, float[] stats, Float8 acc) {
        scoreTile(ctx, first, end, group, queries, keys, scores);
        for (int g = ctx.warpId; g < group; g += WARPS) {
            updateHead(ctx, g, 1f, scores, stats);
        }
        ctx.localBarrier();
        return accumulateTile(ctx, group, values, scores, stats, acc);
    }

    /** {@link #attendTile} with each token's softmax term weighted by {@code tileWeights} in the sum only. */
    private static Float8 attendWeightedTile(KernelContext ctx, int first, int end, int group, float[] queries, float[] keys,
            float[] values, float[] tileWeights, float[] scores, float[] stats, Float8 acc) {
        scoreTile(ctx, first, end, group, queries, keys, scores);
        float weight = tileWeights[ctx.laneId];
        for (int g = ctx.warpId; g < group; g += WARPS) {
            updateHead(ctx, g, weight, scores, stats);
        }
        ctx.localBarrier();
        return accumulateTile(ctx, group, values, scores, stats, acc);
    }

    /** Scores y = (scale·q)·k for every (head, token) pair of the tile, four pairs per quad of lanes; −∞ past the end. */
    static void scoreTile(KernelContext ctx, int first, int end, int group, float[] queries, float[] keys,
            float[] scores) {
        // Four lanes (a quad) share four (head, token) pairs: each lane sums every fourth dimension of all
        // four, in four independent FMA chains instead of one serial chain of 128, and two shuffle steps
        // add the quad's quarters. Dimension qd + 4i of token t sits in bank (t + qd + 4i) mod 32 (row stride
        // 129), so a warp's 8 quads x 4 lanes read 32 distinct banks. Pairs come in whole warps (TILE = 32),
        // so every lane of a warp that shuffles is active.
        int quarter = ctx.laneId & 3;
        for (int base = (ctx.localIdx >> 2) * 4; base < group * TILE; base += PARTIAL_THREADS) {
            int g = base / TILE;
            int t0 = base - g * TILE;
            int q = g * HEAD_DIM + quarter;
            int k0 = t0 * KEY_STRIDE + quarter;
            float y0 = 0f;
            float y1 = 0f;
            float y2 = 0f;
            float y3 = 0f;
            for (int j = 0; j < HEAD_DIM; j += 4) {
                float qj = queries[q + j];
                y0 = Math.fma(qj, keys[k0 + j], y0);
                y1 = Math.fma(qj, keys[k0 + KEY_STRIDE + j], y1);
                y2 = Math.fma(qj, keys[k0 + 2 * KEY_STRIDE + j], y2);
                y3 = Math.fma(qj, keys[k0 + 3 * KEY_STRIDE + j], y3);
            }
            y0 += ctx.shuffleXor(y0, 1);
            y0 += ctx.shuffleXor(y0, 2);
            y1 += ctx.shuffleXor(y1, 1);
            y1 += ctx.shuffleXor(y1, 2);
            y2 += ctx.shuffleXor(y2, 1);
            y2 += ctx.shuffleXor(y2, 2);
            y3 += ctx.shuffleXor(y3, 1);
            y3 += ctx.shuffleXor(y3, 2);
            // lane `quarter` of the quad writes pair t0 + quarter
            float y = quarter == 0 ? y0 : quarter == 1 ? y1 : quarter == 2 ? y2 : y3;
            scores[base + quarter] = first + t0 + quarter < end ? y : Float.NEGATIVE_INFINITY;
        }
        ctx.localBarrier();
    }

    /**
     * Online softmax of head {@code g}, one warp, one token per lane: m' = max(m, max y), p = e^(y−m'),
     * l' = l·e^(m−m') + Σ w·p, with the lane's token weight {@code w} (1 for plain attention; spec §2.4 weights
     * the denominator only, so {@code p} itself goes to P·V). The tile holds at least one token, so m' is
     * finite; e^(−∞) = 0 covers both the padding and the first tile (m = −∞).
     */
    static void updateHead(KernelContext ctx, int g, float w, float[] scores, float[] stats) {
        float y = scores[g * TILE + ctx.laneId];
        float mOld = stats[MAX + g];
        float mNew = Math.max(mOld, ctx.warpMax(y));
        float p = KMath.exp(y - mNew);
        float tileSum = ctx.warpSum(w * p);
        scores[g * TILE + ctx.laneId] = p;
        if (ctx.laneId == 0) {
            float rescale = KMath.exp(mOld - mNew);
            stats[MAX + g] = mNew;
            stats[SUM + g] = stats[SUM + g] * rescale + tileSum;
            stats[RESCALE + g] = rescale;
        }
    }

    /**
     * P·V: thread row r = localIdx / 16 serves head r % group and tokens r / group (mod lanes), so all 128
     * threads work when the group divides 8; rows past group·lanes idle.
     */
    private static Float8 accumulateTile(KernelContext ctx, int group, float[] values, float[] scores, float[] stats,
            Float8 acc) {
        int slice = ctx.localIdx % SLICES;
        int row = ctx.localIdx / SLICES;
        int lanes = MAX_GROUP / group;
        int g = row % group;
        Float8 next = acc;
        if (row < group * lanes) {
            next = acc.scale(stats[RESCALE + g]);
            for (int t = row / group; t < TILE; t += lanes) {
                next = fma8(load8(values, t * HEAD_DIM + slice * 8), scores[g * TILE + t], next);
            }
        }
        ctx.localBarrier(); // the next tile overwrites keys, values, weights and scores
        return next;
    }

    /**
     * Sums each head's token lanes through shared memory (reusing the values tile) and writes
     * {@code o_s = acc / l} and {@code lse_s = m + log l}; an empty split writes 0 and −∞.
     */
    private static void finish(KernelContext ctx, F32Array partialOut, F32Array partialLse, long firstRow, int group,
            float[] values, float[] stats, Float8 acc) {
        int slice = ctx.localIdx % SLICES;
        int row = ctx.localIdx / SLICES;
        store8(values, row * HEAD_DIM + slice * 8, acc);
        ctx.localBarrier();
        if (row < group) {
            Float8 sum = acc;
            for (int r = row + group; r < MAX_GROUP; r += group) {
                sum = add8(sum, load8(values, r * HEAD_DIM + slice * 8));
            }
            float l = stats[SUM + row];
            float inverse = l > 0f ? 1f / l : 0f;
            long at = (firstRow + row) * HEAD_DIM + slice * 8;
            partialOut.setFloat4(at, new Float4(sum.s0() * inverse, sum.s1() * inverse, sum.s2() * inverse, sum.s3() * inverse));
            partialOut.setFloat4(at + 4, new Float4(sum.s4() * inverse, sum.s5() * inverse, sum.s6() * inverse, sum.s7() * inverse));
            if (slice == 0) {
                partialLse.set(firstRow + row, l > 0f ? stats[MAX + row] + KMath.log(l) : Float.NEGATIVE_INFINITY);
            }
        }
    }

    static Float8 zero8() {
        return new Float8(0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
    }

    private static Float8 load8(float[] a, int i) {
        return new Float8(a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5], a[i + 6], a[i + 7]);
    }

    static void store8(float[] a, int i, Float8 x) {
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
