package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.QUAD;
import static org.retroinfer.kernels.gpu.SplitKvDecode.PER_LANE;
import static org.retroinfer.kernels.gpu.SplitKvDecode.TILE;
import static org.retroinfer.kernels.gpu.SplitKvDecode.TOKEN_LANES;

import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The exact zone's split-KV partials read in place from a wave buffer whose store is in GPU memory and has no block
 * cache: each group's steady zone from the steady store, then its retrieval zone's units (the lookups' miss lists,
 * {@link ExecutionBufferGather}) straight from the cluster-ordered store, dequantised in registers where it is INT8
 * or INT4. Gathering them into the 16-bit execution buffer first reads a store vector, writes 512 bytes and reads them
 * again; for an INT4 store that is 80 bytes against 1104, and at 32K x 72 sequences on the H200 the gather was 337 of
 * a layer's ~730 us (docs/results/gpu-retro/h200/call-8).
 *
 * <p>A group is one (sequence, KV head), attended as a batch of groups with one KV head each, as over the execution
 * buffer: the partials have {@link SplitKvDecode#partials}'s layout for {@link SplitKvMerge} on the same
 * {@link DecodeAttentionShape}. Tokens are numbered in a space where whole tiles do not mix the two sources: the steady
 * zone's {@code s} tokens at {@code [0, s)}, padded to whole {@link SplitKvDecode#TILE tiles}, then unit {@code u} at
 * {@code [pad + 8u, pad + 8u + 8)}, its tokens past its size masked. A tile is four units, one to a warp, so a lane's
 * four tokens (the same lanes and loads as {@link SplitKvDecode}) lie in its warp's unit: one descriptor load per tile,
 * read a tile ahead. A quantised value is its level times its scale in F32 ({@link Int4Vectors#dequantise},
 * {@link Int8Vectors#dequantise}), not rounded to the 16-bit type as the gather rounds it before attention: the
 * rounding would cost two conversions a value on the GPU's quarter-rate conversion pipe, and skipping it only makes
 * the values more exact. Levels become floats by the 2^23 trick ({@link #nibbleLevel}), without a conversion either.
 *
 * <p>Store layouts: the steady store {@code [groups][steadyStride]} 16-bit vectors as 64 ints; the store
 * {@code [groups][listStride]} vectors of {@code 64} ints (16-bit), 32 ints and one scale ({@link Int8Vectors}) or 16
 * ints and four scales ({@link Int4Vectors}); unit {@code i} of group {@code g} at {@code g·maxUnits + i} of the
 * starts and sizes, {@code counts[g]} of them. CPU twin: {@link StoreDecodeTwin}.
 */
public final class StoreDecode {
    /** Vectors in a unit: a cache block, {@link VectorChunks#CHUNK}. */
    static final int UNIT = VectorChunks.CHUNK;
    /** Store formats, as the kernels' entry points fix them. */
    private static final int HALF = 0, INT8 = 1, INT4 = 2;

    private StoreDecode() {}

    /**
     * Partials over a BF16 steady zone and a BF16 store ({@code scalesK}, {@code scalesV} unread: pass any array).
     * Launch on the {@link DecodeAttentionShape#partialsGrid()} of {@code groups} pairs of one KV head.
     */
    @Kernel
    public static void partialsBf16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, F32Array scalesK, F32Array scalesV, int listStride,
            I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, HALF, true);
    }

    /** {@link #partialsBf16} for F16. */
    @Kernel
    public static void partialsF16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, F32Array scalesK, F32Array scalesV, int listStride,
            I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, HALF, false);
    }

    /** {@link #partialsBf16} over an INT8 store, its values rounded to BF16. */
    @Kernel
    public static void partialsInt8Bf16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, F32Array scalesK, F32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT8, true);
    }

    /** {@link #partialsBf16} over an INT8 store and an F16 steady zone, its values rounded to F16. */
    @Kernel
    public static void partialsInt8F16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, F32Array scalesK, F32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT8, false);
    }

    /** {@link #partialsBf16} over an INT4 store, its values rounded to BF16. */
    @Kernel
    public static void partialsInt4Bf16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, F32Array scalesK, F32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT4, true);
    }

    /** {@link #partialsBf16} over an INT4 store and an F16 steady zone, its values rounded to F16. */
    @Kernel
    public static void partialsInt4F16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, F32Array scalesK, F32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT4, false);
    }

    /** Where a group's units start in its token space: its steady zone padded to whole tiles. */
    private static int steadyTokens(int steady) {
        return (steady + TILE - 1) / TILE * TILE;
    }

    /** One block's split, as {@link SplitKvDecode}'s {@code attend}, over the token space of the class comment. */
    private static void attend(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, F32Array scalesK, F32Array scalesV, int listStride,
            I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, int group, int format, boolean bf16) {
        float[] merge = ctx.allocateFloatLocalArray(SplitKvDecode.MERGE_FLOATS);
        int quads = (group + QUAD - 1) / QUAD;
        int pairQuad = ctx.groupIdx / splits;
        int split = ctx.groupIdx - pairQuad * splits;
        int pair = pairQuad / quads;
        int quad = pairQuad - pair * quads;
        int steady = steadyLengths.get(pair);
        int units = unitCounts.get(pair);
        int unitsFrom = steadyTokens(steady);
        int length = unitsFrom + UNIT * units;
        int perSplit = SplitKvDecode.tokensPerSplit(length, splits);
        int end = Math.min(length, (split + 1) * perSplit);
        int steadyLast = Math.max(steady - 1, 0);
        int slice = ctx.laneId % TOKEN_LANES;
        int within = ctx.laneId / TOKEN_LANES; // this lane's token u of a step: within + 2u of its warp's eight
        int lead = ctx.warpId * 2 * PER_LANE + within;
        long steadyBase = (long) pair * steadyStride;
        long listBase = (long) pair * listStride;
        long unitBase = (long) pair * maxUnits;
        long qBase = ((long) pair * group + quad * QUAD) * HEAD_DIM + slice * 8;
        int heads = group - quad * QUAD;
        Float8 q0 = SplitKvDecode.query(q, qBase, 0, heads, scale);
        Float8 q1 = SplitKvDecode.query(q, qBase, 1, heads, scale);
        Float8 q2 = SplitKvDecode.query(q, qBase, 2, heads, scale);
        Float8 q3 = SplitKvDecode.query(q, qBase, 3, heads, scale);
        Float8 acc0 = SplitKvDecode.zero8(), acc1 = SplitKvDecode.zero8(), acc2 = SplitKvDecode.zero8();
        Float8 acc3 = SplitKvDecode.zero8();
        int pairIndex = ctx.laneId % TOKEN_LANES;
        int pairToken = 2 * (pairIndex / QUAD);
        int half = ctx.laneId - pairIndex;
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        int first = split * perSplit;
        // the warp's unit of the first tile, read a tile ahead from then on (a descriptor read is a dependent load)
        int unit = unitOf(first, unitsFrom, units, ctx.warpId);
        int start = unit < 0 ? 0 : unitStarts.get(unitBase + Math.min(unit, units - 1));
        int size = unit < 0 || unit >= units ? 0 : unitSizes.get(unitBase + unit);
        for (; first < end; first += TILE) {
            boolean inSteady = first < unitsFrom;
            int nextUnit = first + TILE < end ? unitOf(first + TILE, unitsFrom, units, ctx.warpId) : -1;
            int nextStart = nextUnit < 0 ? 0 : unitStarts.get(unitBase + Math.min(nextUnit, units - 1));
            int nextSize = nextUnit < 0 || nextUnit >= units ? 0 : unitSizes.get(unitBase + nextUnit);
            int t = first + lead;
            // Steady tokens past the zone read its last one, unit tokens past the unit's size its last one (in bounds, and
            // finite if the store is), and get zero probability below. A warp whose unit is past the group's last reads
            // the last unit's first vector, all masked (its size is taken as 0).
            long s0 = steadyBase + Math.min(t, steadyLast), s1 = steadyBase + Math.min(t + 2, steadyLast);
            long s2 = steadyBase + Math.min(t + 4, steadyLast), s3 = steadyBase + Math.min(t + 6, steadyLast);
            int lastOfUnit = Math.max(size - 1, 0);
            long r0 = listBase + start + Math.min(within, lastOfUnit), r1 = listBase + start + Math.min(within + 2, lastOfUnit);
            long r2 = listBase + start + Math.min(within + 4, lastOfUnit), r3 = listBase + start + Math.min(within + 6, lastOfUnit);
            Int4 k0 = raw(inSteady, steadyK, s0, listK, r0, slice, format);
            Int4 k1 = raw(inSteady, steadyK, s1, listK, r1, slice, format);
            Int4 k2 = raw(inSteady, steadyK, s2, listK, r2, slice, format);
            Int4 k3 = raw(inSteady, steadyK, s3, listK, r3, slice, format);
            Int4 v0 = raw(inSteady, steadyV, s0, listV, r0, slice, format);
            Int4 v1 = raw(inSteady, steadyV, s1, listV, r1, slice, format);
            Int4 v2 = raw(inSteady, steadyV, s2, listV, r2, slice, format);
            Int4 v3 = raw(inSteady, steadyV, s3, listV, r3, slice, format);
            float ks0 = scaleOf(inSteady, scalesK, r0, slice, format), ks1 = scaleOf(inSteady, scalesK, r1, slice, format);
            float ks2 = scaleOf(inSteady, scalesK, r2, slice, format), ks3 = scaleOf(inSteady, scalesK, r3, slice, format);
            float vs0 = scaleOf(inSteady, scalesV, r0, slice, format), vs1 = scaleOf(inSteady, scalesV, r1, slice, format);
            float vs2 = scaleOf(inSteady, scalesV, r2, slice, format), vs3 = scaleOf(inSteady, scalesV, r3, slice, format);
            float y = SplitKvDecode.transposedSum(ctx, dots(q0, q1, q2, q3, k0, ks0, inSteady, format, bf16),
                    dots(q0, q1, q2, q3, k1, ks1, inSteady, format, bf16), dots(q0, q1, q2, q3, k2, ks2, inSteady, format, bf16),
                    dots(q0, q1, q2, q3, k3, ks3, inSteady, format, bf16));
            int token = t + pairToken;
            boolean live = token < end && (inSteady ? token < steady : within + pairToken < size);
            if (!live) {
                y = Float.NEGATIVE_INFINITY;
            }
            float newMax = Math.max(max, SplitKvDecode.headMax(ctx, y));
            float rescale = SplitKvDecode.factor(max, newMax);
            float p = SplitKvDecode.probability(y, newMax);
            max = newMax;
            sum = sum * rescale + p;
            Float8 w0 = decode(v0, vs0, inSteady, format, bf16), w1 = decode(v1, vs1, inSteady, format, bf16);
            Float8 w2 = decode(v2, vs2, inSteady, format, bf16), w3 = decode(v3, vs3, inSteady, format, bf16);
            acc0 = SplitKvDecode.accumulate(ctx, acc0, rescale, p, half, w0, w1, w2, w3);
            acc1 = SplitKvDecode.accumulate(ctx, acc1, rescale, p, half + 1, w0, w1, w2, w3);
            acc2 = SplitKvDecode.accumulate(ctx, acc2, rescale, p, half + 2, w0, w1, w2, w3);
            acc3 = SplitKvDecode.accumulate(ctx, acc3, rescale, p, half + 3, w0, w1, w2, w3);
            unit = nextUnit;
            start = nextStart;
            size = nextSize;
        }
        SplitKvDecode.publish(ctx, merge, max, sum, acc0, acc1, acc2, acc3);
        long firstRow = ((long) pair * splits + split) * group + quad * QUAD;
        SplitKvDecode.finish(ctx, merge, partialOut, partialLse, firstRow, heads);
    }

    /**
     * The unit warp {@code warp} takes in the tile at token {@code first}, or -1 in the steady zone or where the group
     * has no units; it may be past the group's last unit, in the last tile.
     */
    private static int unitOf(int first, int unitsFrom, int units, int warp) {
        return first < unitsFrom || units == 0 ? -1 : (first - unitsFrom) / UNIT + warp;
    }

    /**
     * This lane's slice of a vector as loaded: 16 bytes of 16-bit values (the steady zone, a 16-bit store), 8 bytes of
     * INT8 levels, or 4 bytes of INT4 levels (the rest 0).
     */
    private static Int4 raw(boolean inSteady, I32Array steady, long steadyVector, I32Array list, long listVector, int slice,
            int format) {
        if (inSteady) {
            return steady.getInt4(steadyVector * VectorChunks.INTS + slice * 4L);
        }
        if (format == HALF) {
            return list.getInt4(listVector * VectorChunks.INTS + slice * 4L);
        }
        if (format == INT8) {
            long at = listVector * Int8Vectors.INTS + slice * 2L;
            return new Int4(list.get(at), list.get(at + 1), 0, 0);
        }
        return new Int4(list.get(listVector * Int4Vectors.INTS + slice), 0, 0, 0);
    }

    /** The scale of this lane's slice: the vector's (INT8), its group of 32's (INT4); 1 where there is none. */
    private static float scaleOf(boolean inSteady, F32Array scales, long listVector, int slice, int format) {
        if (inSteady || format == HALF) {
            return 1f;
        }
        if (format == INT8) {
            return scales.get(listVector);
        }
        return scales.get(listVector * Int4Vectors.GROUPS + slice / (Int4Vectors.GROUP / 8));
    }

    /** The four heads' partial scores of one token from its raw slice. */
    private static Float4 dots(Float8 q0, Float8 q1, Float8 q2, Float8 q3, Int4 raw, float scale, boolean inSteady, int format,
            boolean bf16) {
        return SplitKvDecode.dots(q0, q1, q2, q3, decode(raw, scale, inSteady, format, bf16));
    }

    /**
     * The eight values of a raw slice: 16-bit values as they are; levels times their scale in F32, not rounded to 16
     * bits as the gather rounds them (two conversions a value on the GPU's slow conversion pipe).
     */
    private static Float8 decode(Int4 raw, float scale, boolean inSteady, int format, boolean bf16) {
        if (inSteady || format == HALF) {
            return new Float8(low(raw.x(), bf16), high(raw.x(), bf16), low(raw.y(), bf16), high(raw.y(), bf16),
                    low(raw.z(), bf16), high(raw.z(), bf16), low(raw.w(), bf16), high(raw.w(), bf16));
        }
        if (format == INT8) {
            int a = raw.x() ^ INT8_BIAS, b = raw.y() ^ INT8_BIAS;
            return new Float8(byteLevel(a, 0), byteLevel(a, 8), byteLevel(a, 16), byteLevel(a, 24), byteLevel(b, 0),
                    byteLevel(b, 8), byteLevel(b, 16), byteLevel(b, 24)).scale(scale);
        }
        int w = raw.x() ^ INT4_BIAS;
        return new Float8(nibbleLevel(w, 0), nibbleLevel(w, 4), nibbleLevel(w, 8), nibbleLevel(w, 12), nibbleLevel(w, 16),
                nibbleLevel(w, 20), nibbleLevel(w, 24), nibbleLevel(w, 28)).scale(scale);
    }

    /**
     * Flips each level's sign bit: a two's-complement level {@code l} becomes {@code l + 8} (INT4) or {@code l + 128}
     * (INT8) as an unsigned field, which {@link #nibbleLevel} and {@link #byteLevel} turn into a float without a
     * conversion instruction.
     */
    private static final int INT4_BIAS = 0x88888888, INT8_BIAS = 0x80808080;
    /** 2^23 as float bits: OR-ing a field below 2^23 into its mantissa gives the float 2^23 + field, exactly. */
    private static final int MAGIC = 0x4B000000;

    /** The INT4 level at bits {@code shift} of a biased word, as a float. */
    private static float nibbleLevel(int biased, int shift) {
        return Float.intBitsToFloat(MAGIC | (biased >>> shift) & 0xF) - (8388608f + 8);
    }

    /** The INT8 level at bits {@code shift} of a biased word, as a float. */
    private static float byteLevel(int biased, int shift) {
        return Float.intBitsToFloat(MAGIC | (biased >>> shift) & 0xFF) - (8388608f + 128);
    }

    private static float low(int word, boolean bf16) {
        return bf16 ? Float.intBitsToFloat(word << 16) : KMath.f16ToFloat((short) word);
    }

    private static float high(int word, boolean bf16) {
        return bf16 ? Float.intBitsToFloat(word & 0xFFFF0000) : KMath.f16ToFloat((short) (word >>> 16));
    }
}
