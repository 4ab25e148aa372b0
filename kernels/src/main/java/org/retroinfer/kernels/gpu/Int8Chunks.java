package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.Int8Vectors.LEVELS;

import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The GPU side of the {@link Int8Vectors} format: a half-warp quantises a vector ({@link #quantise}), a warp
 * dequantises up to two chunks of host-list vectors into 16-bit K/V ({@link #dequantise}). Results equal the
 * twin's bit for bit with Java float semantics; with fast math the division {@code x / scale} of the quantisation
 * is {@code div.full.f32} (within 2 ulp), so a value within 2 ulp of a rounding boundary may land one level off.
 */
final class Int8Chunks {
    /** Lanes of a half-warp, eight elements each. */
    static final int QUANTISE_LANES = 16;
    /** Elements a {@link #quantise} lane holds. */
    static final int ELEMENTS_PER_LANE = HEAD_DIM / QUANTISE_LANES;
    /** Lanes that share one INT8 vector, 16 bytes each. */
    private static final int LANES_PER_VECTOR = Int8Vectors.INTS / 4;
    /** Vectors a warp loads at once: {@code 32 / 8} lanes' worth. */
    private static final int ROWS = KernelContext.WARP_SIZE / LANES_PER_VECTOR;

    private Int8Chunks() {}

    /**
     * Quantises a vector held by a half-warp, eight elements {@code x} a lane, as vector {@code i} of {@code target}
     * with its scale's bits at {@code scales[i]}; nothing is written where {@code live} is false. Every lane of the warp must
     * call it (the absmax is reduced by shuffles within each half).
     */
    static void quantise(KernelContext ctx, Float8 x, boolean live, I32Array target, I32Array scales, long i) {
        quantise(ctx, x, live, target, i * Int8Vectors.INTS + (ctx.laneId % QUANTISE_LANES) * 2L, scales, i);
    }

    /**
     * {@link #quantise(KernelContext, Float8, boolean, I32Array, I32Array, long)} with this lane's two ints of levels
     * at {@code target[at]} instead of in {@link Int8Vectors}' layout ({@link Int8Centroids} interleaves its vectors).
     */
    static void quantise(KernelContext ctx, Float8 x, boolean live, I32Array target, long at, I32Array scales, long i) {
        float m = absMax(x);
        for (int mask = QUANTISE_LANES / 2; mask > 0; mask >>= 1) {
            m = Math.max(m, ctx.shuffleXor(m, mask));
        }
        float scale = m / LEVELS;
        int lane = ctx.laneId % QUANTISE_LANES;
        if (live) {
            target.set(at, word(x.s0(), x.s1(), x.s2(), x.s3(), scale));
            target.set(at + 1, word(x.s4(), x.s5(), x.s6(), x.s7(), scale));
            if (lane == 0) {
                scales.set(i, Float.floatToRawIntBits(scale));
            }
        }
    }

    /** The largest magnitude of a lane's eight elements (before the half-warp's reduction); {@link Int4Chunks} uses it too. */
    static float absMax(Float8 x) {
        return Math.max(Math.max(Math.max(Math.abs(x.s0()), Math.abs(x.s1())), Math.max(Math.abs(x.s2()), Math.abs(x.s3()))),
                Math.max(Math.max(Math.abs(x.s4()), Math.abs(x.s5())), Math.max(Math.abs(x.s6()), Math.abs(x.s7()))));
    }

    /** Four elements quantised and packed little-endian ({@link CentroidScoring#logitsInt8} quantises its queries so). */
    static int word(float a, float b, float c, float d, float scale) {
        return (level(a, scale) & 0xFF) | (level(b, scale) & 0xFF) << 8 | (level(c, scale) & 0xFF) << 16 | level(d, scale) << 24;
    }

    /** {@code rint(x / scale)} clamped to [-127, 127], 0 for a zero scale. */
    private static int level(float x, float scale) {
        return scale == 0 ? 0 : nearestEven(Math.max(-LEVELS, Math.min(LEVELS, x / scale)));
    }

    /**
     * {@code Math.rint} for {@code |y| <= 127} (the JIT has no rint; {@link Int4Chunks} uses it too): truncate, then
     * round on the remainder, which is exact ({@code y} and its truncation lie within a factor of two, or the
     * truncation is 0); NaN gives 0.
     */
    static int nearestEven(float y) {
        int t = (int) y;
        float r = y - t;
        boolean odd = (t & 1) != 0;
        if (r > 0.5f || r == 0.5f && odd) {
            return t + 1;
        }
        if (r < -0.5f || r == -0.5f && odd) {
            return t - 1;
        }
        return t;
    }

    /**
     * Dequantises host-list vectors {@code [srcA, srcA + rowsA)} and {@code [srcB, srcB + rowsB)} of {@code srcK} and
     * {@code srcV} (INT8, scales in {@code scalesK}, {@code scalesV}) into 16-bit vectors {@code [dstA, dstA + rowsA)}
     * and {@code [dstB, dstB + rowsB)} of {@code dstK} and {@code dstV} (BF16 if {@code bf16}, else F16, viewed as
     * ints). Rows are at most {@link VectorChunks#CHUNK} and the same in every lane; either may be 0. An INT8 chunk
     * is half a 16-bit one, so the warp takes two: lane {@code l} carries 16 bytes of vectors {@code l / 8} and
     * {@code l / 8 + 4} of each, and issues all eight loads (and the scales') before its first store, the same 4 KiB
     * in flight as {@link VectorChunks#copy}.
     */
    static void dequantise(KernelContext ctx, I32Array srcK, I32Array srcV, I32Array scalesK, I32Array scalesV, long srcA,
            long dstA, int rowsA, long srcB, long dstB, int rowsB, I32Array dstK, I32Array dstV, boolean bf16) {
        int r = ctx.laneId / LANES_PER_VECTOR;
        long part = ctx.laneId % LANES_PER_VECTOR;
        boolean a0 = r < rowsA, a1 = r + ROWS < rowsA, b0 = r < rowsB, b1 = r + ROWS < rowsB;
        long sa0 = srcA + r, sa1 = srcA + r + ROWS, sb0 = srcB + r, sb1 = srcB + r + ROWS;
        Int4 ka0 = a0 ? srcK.getInt4(sa0 * Int8Vectors.INTS + part * 4) : zero();
        Int4 ka1 = a1 ? srcK.getInt4(sa1 * Int8Vectors.INTS + part * 4) : zero();
        Int4 kb0 = b0 ? srcK.getInt4(sb0 * Int8Vectors.INTS + part * 4) : zero();
        Int4 kb1 = b1 ? srcK.getInt4(sb1 * Int8Vectors.INTS + part * 4) : zero();
        Int4 va0 = a0 ? srcV.getInt4(sa0 * Int8Vectors.INTS + part * 4) : zero();
        Int4 va1 = a1 ? srcV.getInt4(sa1 * Int8Vectors.INTS + part * 4) : zero();
        Int4 vb0 = b0 ? srcV.getInt4(sb0 * Int8Vectors.INTS + part * 4) : zero();
        Int4 vb1 = b1 ? srcV.getInt4(sb1 * Int8Vectors.INTS + part * 4) : zero();
        float ska0 = scale(scalesK, sa0, a0), ska1 = scale(scalesK, sa1, a1);
        float skb0 = scale(scalesK, sb0, b0), skb1 = scale(scalesK, sb1, b1);
        float sva0 = scale(scalesV, sa0, a0), sva1 = scale(scalesV, sa1, a1);
        float svb0 = scale(scalesV, sb0, b0), svb1 = scale(scalesV, sb1, b1);
        // lane l's 16 bytes are elements 16·(l % 8) up of its vectors: 32 bytes of 16-bit values, 8 ints
        long at = part * 8;
        if (a0) {
            storePair(dstK, dstV, (dstA + r) * VectorChunks.INTS + at, ka0, ska0, va0, sva0, bf16);
        }
        if (a1) {
            storePair(dstK, dstV, (dstA + r + ROWS) * VectorChunks.INTS + at, ka1, ska1, va1, sva1, bf16);
        }
        if (b0) {
            storePair(dstK, dstV, (dstB + r) * VectorChunks.INTS + at, kb0, skb0, vb0, svb0, bf16);
        }
        if (b1) {
            storePair(dstK, dstV, (dstB + r + ROWS) * VectorChunks.INTS + at, kb1, skb1, vb1, svb1, bf16);
        }
    }

    /** Vector {@code vector}'s scale where {@code live}, else 0 (nothing read). */
    private static float scale(I32Array scales, long vector, boolean live) {
        return live ? Float.intBitsToFloat(scales.get(vector)) : 0;
    }

    /** One row's key and value pieces, each dequantised with its own scale, at int {@code at} of their buffers. */
    private static void storePair(I32Array dstK, I32Array dstV, long at, Int4 k, float scaleK, Int4 v, float scaleV,
            boolean bf16) {
        store(dstK, at, k, scaleK, bf16);
        store(dstV, at, v, scaleV, bf16);
    }

    /** Sixteen quantised bytes as sixteen 16-bit values at int {@code at} of {@code dst}: two 16-byte stores. */
    private static void store(I32Array dst, long at, Int4 q, float scale, boolean bf16) {
        dst.setInt4(at, new Int4(pair(q.x(), 0, scale, bf16), pair(q.x(), 16, scale, bf16), pair(q.y(), 0, scale, bf16),
                pair(q.y(), 16, scale, bf16)));
        dst.setInt4(at + 4, new Int4(pair(q.z(), 0, scale, bf16), pair(q.z(), 16, scale, bf16), pair(q.w(), 0, scale, bf16),
                pair(q.w(), 16, scale, bf16)));
    }

    /** Bytes {@code shift / 8} and {@code shift / 8 + 1} of {@code word}, dequantised, as one int of two 16-bit values. */
    private static int pair(int word, int shift, float scale, boolean bf16) {
        int low = half((byte) (word >> shift) * scale, bf16);
        int high = half((byte) (word >> (shift + 8)) * scale, bf16);
        return (low & 0xFFFF) | high << 16;
    }

    /** {@code value} rounded to BF16 or F16 (nearest even), in an int's low 16 bits; {@link Int4Chunks} uses it too. */
    static int half(float value, boolean bf16) {
        return bf16 ? KMath.floatToBf16(value) : KMath.floatToF16(value);
    }

    private static Int4 zero() {
        return new Int4(0, 0, 0, 0);
    }
}
