package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.PARTIAL_THREADS;
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
import org.retroinfer.accel.kernel.LaunchBounds;

/**
 * The exact zone's split-KV partials read in place from a wave buffer whose store is in GPU memory and has no block
 * cache: each group's steady zone from the steady store, then its retrieval zone's units (the lookups' miss lists,
 * {@link ExecutionBufferGather}) straight from the cluster-ordered store, dequantised in registers where it is INT8
 * or INT4. Gathering them into the 16-bit execution buffer first reads a store vector, writes 512 bytes and reads them
 * again; for an INT4 store that is 72 bytes against 1096, and at 32K x 72 sequences on the H200 the gather was 337 of
 * a layer's ~730 us (docs/results/gpu-retro/h200/call-8).
 *
 * <p>A group is one (sequence, KV head), attended as a batch of groups with one KV head each, as over the execution
 * buffer: the partials have {@link SplitKvDecode#partials}'s layout for {@link SplitKvMerge} on the same
 * {@link DecodeAttentionShape}. Tokens are numbered in a space where whole tiles do not mix the two sources: the steady
 * zone's {@code s} tokens at {@code [0, s)}, padded to whole {@link SplitKvDecode#TILE tiles}, then unit {@code u} at
 * {@code [pad + 8u, pad + 8u + 8)}, its tokens past its size masked. A tile is four units, one to a warp, so a lane's
 * four tokens (the same lanes and loads as {@link SplitKvDecode}) lie in its warp's unit: one descriptor load per tile.
 * A unit's descriptor and then its vectors are two dependent loads, so a warp loads the next tile's vectors and the
 * descriptor of the tile after before it computes on the current one, and a block always has loads in flight. A quantised value is its level times its scale in F32 ({@link Int4Vectors#dequantise},
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
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsBf16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV, int listStride,
            I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, HALF, true);
    }

    /** {@link #partialsBf16} for F16. */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsF16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV, int listStride,
            I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, HALF, false);
    }

    /** {@link #partialsBf16} over an INT8 store, its values rounded to BF16. */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsInt8Bf16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT8, true);
    }

    /** {@link #partialsBf16} over an INT8 store and an F16 steady zone, its values rounded to F16. */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsInt8F16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT8, false);
    }

    /** {@link #partialsBf16} over an INT4 store, its values rounded to BF16. */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsInt4Bf16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT4, true);
    }

    /** {@link #partialsBf16} over an INT4 store and an F16 steady zone, its values rounded to F16. */
    @Kernel
    @LaunchBounds(maxThreads = PARTIAL_THREADS, minBlocks = 4)
    public static void partialsInt4F16(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV,
            int listStride, I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits, F32Array partialOut,
            F32Array partialLse, int splits, float scale, @Constant int group) {
        attend(ctx, q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, unitStarts,
                unitSizes, unitCounts, maxUnits, partialOut, partialLse, splits, scale, group, INT4, false);
    }

    /** Where a group's units start in its token space: its steady zone padded to whole tiles. */
    private static int steadyTokens(int steady) {
        return (steady + TILE - 1) / TILE * TILE;
    }

    /**
     * One block's split, as {@link SplitKvDecode}'s {@code attend}, over the token space of the class comment: its steady
     * tiles first, then its unit tiles, each warp's data loaded a tile ahead and its descriptor two.
     */
    private static void attend(KernelContext ctx, F32Array q, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV, int listStride,
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
        int steadyEnd = Math.min(end, unitsFrom);
        for (; first < steadyEnd; first += TILE) {
            // Tokens past the zone read its last one (in bounds, and finite if the store is) and get zero probability.
            int t = first + lead;
            long s0 = steadyBase + Math.min(t, steadyLast), s1 = steadyBase + Math.min(t + 2, steadyLast);
            long s2 = steadyBase + Math.min(t + 4, steadyLast), s3 = steadyBase + Math.min(t + 6, steadyLast);
            Int4 k0 = steady(steadyK, s0, slice), k1 = steady(steadyK, s1, slice);
            Int4 k2 = steady(steadyK, s2, slice), k3 = steady(steadyK, s3, slice);
            Int4 v0 = steady(steadyV, s0, slice), v1 = steady(steadyV, s1, slice);
            Int4 v2 = steady(steadyV, s2, slice), v3 = steady(steadyV, s3, slice);
            float y = SplitKvDecode.transposedSum(ctx, dots(q0, q1, q2, q3, k0, HALF, bf16, 0), dots(q0, q1, q2, q3, k1, HALF, bf16, 0),
                    dots(q0, q1, q2, q3, k2, HALF, bf16, 0), dots(q0, q1, q2, q3, k3, HALF, bf16, 0));
            int token = t + pairToken;
            if (token >= end || token >= steady) {
                y = Float.NEGATIVE_INFINITY;
            }
            // the online-softmax update, as SplitKvDecode's (a helper cannot return the running state)
            float newMax = Math.max(max, SplitKvDecode.headMax(ctx, y));
            float rescale = SplitKvDecode.factor(max, newMax);
            float p = SplitKvDecode.probability(y, newMax);
            max = newMax;
            sum = sum * rescale + p;
            Float8 w0 = decode(v0, HALF, bf16, 0), w1 = decode(v1, HALF, bf16, 0), w2 = decode(v2, HALF, bf16, 0);
            Float8 w3 = decode(v3, HALF, bf16, 0);
            acc0 = SplitKvDecode.accumulate(ctx, acc0, rescale, p, half, w0, w1, w2, w3);
            acc1 = SplitKvDecode.accumulate(ctx, acc1, rescale, p, half + 1, w0, w1, w2, w3);
            acc2 = SplitKvDecode.accumulate(ctx, acc2, rescale, p, half + 2, w0, w1, w2, w3);
            acc3 = SplitKvDecode.accumulate(ctx, acc3, rescale, p, half + 3, w0, w1, w2, w3);
        }
        if (first < end) {
            // The unit tiles. A descriptor read is a dependent load and so is the data behind it: with one tile's loads in
            // flight at a time a warp waited for both each tile, so an INT4 store's next tile is loaded before this tile's
            // arithmetic ("ahead"; the 16-bit and INT8 stores' larger slices would not fit the registers of four blocks an
            // SM). Descriptors are read one tile before their data. A warp whose unit is past the group's last reads the
            // last unit's first vector, all masked (its size is 0); slots past a unit's size read its last vector, masked.
            boolean ahead = format == INT4;
            // an INT4 slice's BF16 scale is the low half of its pair for an even group (shifted up 16), the high for an odd
            int scaleShift = 16 * (1 - slice / (Int4Vectors.GROUP / 8) % 2);
            int unit = (first - unitsFrom) / UNIT + ctx.warpId;
            int size = unitSize(unitSizes, unitBase, unit, units);
            long r = listBase + unitStart(unitStarts, unitBase, unit, units);
            long a0 = vector(r, within, size), a1 = vector(r, within + 2, size);
            long a2 = vector(r, within + 4, size), a3 = vector(r, within + 6, size);
            Int4 k0 = ahead ? packed(listK, scalesK, a0, slice, format) : none();
            Int4 k1 = ahead ? packed(listK, scalesK, a1, slice, format) : none();
            Int4 k2 = ahead ? packed(listK, scalesK, a2, slice, format) : none();
            Int4 k3 = ahead ? packed(listK, scalesK, a3, slice, format) : none();
            Int4 v0 = ahead ? packed(listV, scalesV, a0, slice, format) : none();
            Int4 v1 = ahead ? packed(listV, scalesV, a1, slice, format) : none();
            Int4 v2 = ahead ? packed(listV, scalesV, a2, slice, format) : none();
            Int4 v3 = ahead ? packed(listV, scalesV, a3, slice, format) : none();
            // the unit whose vectors the loop loads next: the next tile's ahead, else this one's
            int loadUnit = ahead ? unit + TILE / UNIT : unit;
            int loadStart = unitStart(unitStarts, unitBase, loadUnit, units);
            int loadSize = unitSize(unitSizes, unitBase, loadUnit, units);
            for (; first < end; first += TILE) {
                long n = listBase + loadStart;
                long b0 = vector(n, within, loadSize), b1 = vector(n, within + 2, loadSize);
                long b2 = vector(n, within + 4, loadSize), b3 = vector(n, within + 6, loadSize);
                Int4 nk0 = packed(listK, scalesK, b0, slice, format), nk1 = packed(listK, scalesK, b1, slice, format);
                Int4 nk2 = packed(listK, scalesK, b2, slice, format), nk3 = packed(listK, scalesK, b3, slice, format);
                Int4 nv0 = packed(listV, scalesV, b0, slice, format), nv1 = packed(listV, scalesV, b1, slice, format);
                Int4 nv2 = packed(listV, scalesV, b2, slice, format), nv3 = packed(listV, scalesV, b3, slice, format);
                int laterUnit = loadUnit + TILE / UNIT;
                int laterStart = unitStart(unitStarts, unitBase, laterUnit, units);
                int laterSize = unitSize(unitSizes, unitBase, laterUnit, units);
                if (!ahead) { // this tile's vectors are the ones just loaded
                    k0 = nk0;
                    k1 = nk1;
                    k2 = nk2;
                    k3 = nk3;
                    v0 = nv0;
                    v1 = nv1;
                    v2 = nv2;
                    v3 = nv3;
                    size = loadSize;
                }
                float y = SplitKvDecode.transposedSum(ctx, dots(q0, q1, q2, q3, k0, format, bf16, scaleShift),
                        dots(q0, q1, q2, q3, k1, format, bf16, scaleShift), dots(q0, q1, q2, q3, k2, format, bf16, scaleShift),
                        dots(q0, q1, q2, q3, k3, format, bf16, scaleShift));
                if (first + lead + pairToken >= end || within + pairToken >= size) {
                    y = Float.NEGATIVE_INFINITY;
                }
                float newMax = Math.max(max, SplitKvDecode.headMax(ctx, y));
                float rescale = SplitKvDecode.factor(max, newMax);
                float p = SplitKvDecode.probability(y, newMax);
                max = newMax;
                sum = sum * rescale + p;
                Float8 w0 = decode(v0, format, bf16, scaleShift), w1 = decode(v1, format, bf16, scaleShift);
                Float8 w2 = decode(v2, format, bf16, scaleShift), w3 = decode(v3, format, bf16, scaleShift);
                acc0 = SplitKvDecode.accumulate(ctx, acc0, rescale, p, half, w0, w1, w2, w3);
                acc1 = SplitKvDecode.accumulate(ctx, acc1, rescale, p, half + 1, w0, w1, w2, w3);
                acc2 = SplitKvDecode.accumulate(ctx, acc2, rescale, p, half + 2, w0, w1, w2, w3);
                acc3 = SplitKvDecode.accumulate(ctx, acc3, rescale, p, half + 3, w0, w1, w2, w3);
                k0 = nk0;
                k1 = nk1;
                k2 = nk2;
                k3 = nk3;
                v0 = nv0;
                v1 = nv1;
                v2 = nv2;
                v3 = nv3;
                size = loadSize;
                loadUnit = laterUnit;
                loadStart = laterStart;
                loadSize = laterSize;
            }
        }
        SplitKvDecode.publish(ctx, merge, max, sum, acc0, acc1, acc2, acc3);
        long firstRow = ((long) pair * splits + split) * group + quad * QUAD;
        SplitKvDecode.finish(ctx, merge, partialOut, partialLse, firstRow, heads);
    }

    /** Where unit {@code unit} of the group starts in its store: the last unit's start past the last, 0 without units. */
    private static int unitStart(I32Array unitStarts, long unitBase, int unit, int units) {
        return units == 0 ? 0 : unitStarts.get(unitBase + Math.min(unit, units - 1));
    }

    /** The store vector of slot {@code slot} of the unit at {@code start}: past the unit's {@code size}, its last (or first). */
    private static long vector(long start, int slot, int size) {
        return start + Math.min(slot, Math.max(size - 1, 0));
    }

    /** Unit {@code unit}'s size, 0 past the group's last unit. */
    private static int unitSize(I32Array unitSizes, long unitBase, int unit, int units) {
        return unit < units ? unitSizes.get(unitBase + unit) : 0;
    }

    /** A slice not loaded yet. */
    private static Int4 none() {
        return new Int4(0, 0, 0, 0);
    }

    /** This lane's 16 bytes of a steady-zone vector. */
    private static Int4 steady(I32Array store, long vector, int slice) {
        return store.getInt4(vector * VectorChunks.INTS + slice * 4L);
    }

    /**
     * This lane's slice of a store vector as loaded, with its scale's bits: 16 bytes of 16-bit values; 8 bytes of INT8
     * levels in x and y and the vector's scale in z; 4 bytes of INT4 levels in x and, in y, the int of BF16 scales that
     * holds its group of 32's ({@link #decode} takes the half). The parts a format leaves 0 are constants, so they take
     * no registers.
     */
    private static Int4 packed(I32Array list, I32Array scales, long vector, int slice, int format) {
        if (format == HALF) {
            return list.getInt4(vector * VectorChunks.INTS + slice * 4L);
        }
        if (format == INT8) {
            long at = vector * Int8Vectors.INTS + slice * 2L;
            return new Int4(list.get(at), list.get(at + 1), scales.get(vector), 0);
        }
        // a slice's group of 32 is slice / 4, and two groups' BF16 scales share an int
        return new Int4(list.get(vector * Int4Vectors.INTS + slice),
                scales.get(vector * Int4Vectors.SCALE_INTS + slice / (2 * (Int4Vectors.GROUP / 8))), 0, 0);
    }

    /** The four heads' partial scores of one token from its packed slice. */
    private static Float4 dots(Float8 q0, Float8 q1, Float8 q2, Float8 q3, Int4 packed, int format, boolean bf16,
            int scaleShift) {
        return SplitKvDecode.dots(q0, q1, q2, q3, decode(packed, format, bf16, scaleShift));
    }

    /**
     * The eight values of a packed slice: 16-bit values as they are; levels times their scale in F32, not rounded to 16
     * bits as the gather rounds them (two conversions a value on the GPU's slow conversion pipe). An INT4 slice's scale is
     * the BF16 that {@code scaleShift} (16 for an even group, 0 for an odd) moves to the top of its pair: taken here
     * rather than as the pair is loaded, because a tile's loads are in flight while the last is computed on, and the
     * extra register there spilled on sm_80.
     */
    private static Float8 decode(Int4 raw, int format, boolean bf16, int scaleShift) {
        if (format == HALF) {
            return new Float8(low(raw.x(), bf16), high(raw.x(), bf16), low(raw.y(), bf16), high(raw.y(), bf16),
                    low(raw.z(), bf16), high(raw.z(), bf16), low(raw.w(), bf16), high(raw.w(), bf16));
        }
        if (format == INT8) {
            return int8Values(raw.x(), raw.y(), raw.z());
        }
        int w = raw.x() ^ INT4_BIAS;
        return new Float8(nibbleLevel(w, 0), nibbleLevel(w, 4), nibbleLevel(w, 8), nibbleLevel(w, 12), nibbleLevel(w, 16),
                nibbleLevel(w, 20), nibbleLevel(w, 24), nibbleLevel(w, 28)).scale(Float.intBitsToFloat(raw.y() << scaleShift & 0xFFFF0000));
    }

    /**
     * The eight values of an INT8 slice, levels {@code low} and {@code high} (four a word, little-endian) times the scale
     * whose F32 bits are {@code scaleBits}, in F32 ({@link Int8Vectors}); {@link SplitKvDecode} reads INT8 value sums
     * with it.
     */
    static Float8 int8Values(int low, int high, int scaleBits) {
        int a = low ^ INT8_BIAS, b = high ^ INT8_BIAS;
        return new Float8(byteLevel(a, 0), byteLevel(a, 8), byteLevel(a, 16), byteLevel(a, 24), byteLevel(b, 0),
                byteLevel(b, 8), byteLevel(b, 16), byteLevel(b, 24)).scale(Float.intBitsToFloat(scaleBits));
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
