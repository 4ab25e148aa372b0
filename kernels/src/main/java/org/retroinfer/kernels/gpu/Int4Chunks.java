package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.Int4Vectors.LEVELS;

import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The GPU side of the {@link Int4Vectors} format: a half-warp quantises a vector ({@link #quantise}), a warp
 * dequantises up to two chunks of host-list vectors into 16-bit K/V ({@link #dequantise}). Results equal the twin's
 * bit for bit with Java float semantics; with fast math the division {@code x / scale} is {@code div.full.f32}
 * (within 2 ulp), so a value within 2 ulp of a rounding boundary may land one level off, as in {@link Int8Chunks}.
 */
final class Int4Chunks {
    /** Lanes of a half-warp that share a group's scale: 32 elements, eight a lane. */
    private static final int LANES_PER_GROUP = Int4Vectors.GROUP / Int8Chunks.ELEMENTS_PER_LANE;
    /** Lanes that share one INT4 vector in {@link #dequantise}, 16 bytes (one group) each. */
    private static final int LANES_PER_VECTOR = Int4Vectors.INTS / 4;

    private Int4Chunks() {}

    /**
     * Quantises a vector held by a half-warp, eight elements {@code x} a lane, as vector {@code i} of {@code target}
     * with its BF16 group scales in {@code scales[2i, 2i + 2)}; nothing is written where {@code live} is false. Every
     * lane of the warp must call it (each group's absmax is reduced by shuffles among its four lanes, and an odd
     * group's scale goes to the even group's lanes, which write the pair).
     */
    static void quantise(KernelContext ctx, Float8 x, boolean live, I32Array target, I32Array scales, long i) {
        float m = Int8Chunks.absMax(x);
        for (int mask = LANES_PER_GROUP / 2; mask > 0; mask >>= 1) {
            m = Math.max(m, ctx.shuffleXor(m, mask));
        }
        int bf16 = Int4Vectors.bf16Bits(m / LEVELS);
        float scale = Float.intBitsToFloat(bf16 << 16);
        int odd = ctx.shuffleXor(bf16, LANES_PER_GROUP);
        int lane = ctx.laneId % Int8Chunks.QUANTISE_LANES;
        if (live) {
            target.set(i * Int4Vectors.INTS + lane, (level(x.s0(), scale) & 0xF) | (level(x.s1(), scale) & 0xF) << 4
                    | (level(x.s2(), scale) & 0xF) << 8 | (level(x.s3(), scale) & 0xF) << 12 | (level(x.s4(), scale) & 0xF) << 16
                    | (level(x.s5(), scale) & 0xF) << 20 | (level(x.s6(), scale) & 0xF) << 24 | level(x.s7(), scale) << 28);
            if (lane % (2 * LANES_PER_GROUP) == 0) {
                scales.set(i * Int4Vectors.SCALE_INTS + lane / (2 * LANES_PER_GROUP), bf16 | odd << 16);
            }
        }
    }

    /** {@code rint(x / scale)} clamped to [-7, 7], 0 for a zero scale. */
    private static int level(float x, float scale) {
        return scale == 0 ? 0 : Int8Chunks.nearestEven(Math.max(-LEVELS, Math.min(LEVELS, x / scale)));
    }

    /**
     * Dequantises host-list vectors {@code [srcA, srcA + rowsA)} and {@code [srcB, srcB + rowsB)} of {@code srcK} and
     * {@code srcV} (INT4, BF16 group scales in {@code scalesK}, {@code scalesV}) into 16-bit vectors
     * {@code [dstA, dstA + rowsA)} and {@code [dstB, dstB + rowsB)} of {@code dstK} and {@code dstV} (BF16 if
     * {@code bf16}, else F16, viewed as ints). Rows are at most {@link VectorChunks#CHUNK} and the same in every lane;
     * either may be 0. Lane {@code l} carries group {@code l % 4} (16 bytes) of vector {@code l / 4} of each chunk,
     * and issues its four loads and four scale loads before its first store.
     */
    static void dequantise(KernelContext ctx, I32Array srcK, I32Array srcV, I32Array scalesK, I32Array scalesV, long srcA,
            long dstA, int rowsA, long srcB, long dstB, int rowsB, I32Array dstK, I32Array dstV, boolean bf16) {
        int r = ctx.laneId / LANES_PER_VECTOR;
        long part = ctx.laneId % LANES_PER_VECTOR;
        boolean a = r < rowsA, b = r < rowsB;
        long sa = srcA + r, sb = srcB + r;
        Int4 ka = a ? srcK.getInt4(sa * Int4Vectors.INTS + part * 4) : zero();
        Int4 kb = b ? srcK.getInt4(sb * Int4Vectors.INTS + part * 4) : zero();
        Int4 va = a ? srcV.getInt4(sa * Int4Vectors.INTS + part * 4) : zero();
        Int4 vb = b ? srcV.getInt4(sb * Int4Vectors.INTS + part * 4) : zero();
        float ska = scale(scalesK, sa, part, a), skb = scale(scalesK, sb, part, b);
        float sva = scale(scalesV, sa, part, a), svb = scale(scalesV, sb, part, b);
        // group `part` is elements 32·part up: 64 bytes of 16-bit values, 16 ints
        long at = part * 16;
        if (a) {
            store(dstK, (dstA + r) * VectorChunks.INTS + at, ka, ska, bf16);
            store(dstV, (dstA + r) * VectorChunks.INTS + at, va, sva, bf16);
        }
        if (b) {
            store(dstK, (dstB + r) * VectorChunks.INTS + at, kb, skb, bf16);
            store(dstV, (dstB + r) * VectorChunks.INTS + at, vb, svb, bf16);
        }
    }

    /** Group {@code group}'s scale of vector {@code vector} where {@code live}, else 0 (nothing read). */
    private static float scale(I32Array scales, long vector, long group, boolean live) {
        return live ? Int4Vectors.fromPair(scales.get(vector * Int4Vectors.SCALE_INTS + group / 2), group) : 0;
    }

    /** Thirty-two levels as thirty-two 16-bit values at int {@code at} of {@code dst}: four 16-byte stores. */
    private static void store(I32Array dst, long at, Int4 q, float scale, boolean bf16) {
        dst.setInt4(at, eight(q.x(), scale, bf16));
        dst.setInt4(at + 4, eight(q.y(), scale, bf16));
        dst.setInt4(at + 8, eight(q.z(), scale, bf16));
        dst.setInt4(at + 12, eight(q.w(), scale, bf16));
    }

    /** The eight levels of {@code word}, dequantised, as four ints of two 16-bit values. */
    private static Int4 eight(int word, float scale, boolean bf16) {
        return new Int4(pair(word, 0, scale, bf16), pair(word, 8, scale, bf16), pair(word, 16, scale, bf16),
                pair(word, 24, scale, bf16));
    }

    /** The levels at bits {@code shift} and {@code shift + 4} of {@code word}, dequantised, as one int. */
    private static int pair(int word, int shift, float scale, boolean bf16) {
        int low = Int8Chunks.half((word << (28 - shift) >> 28) * scale, bf16);
        int high = Int8Chunks.half((word << (24 - shift) >> 28) * scale, bf16);
        return (low & 0xFFFF) | high << 16;
    }

    private static Int4 zero() {
        return new Int4(0, 0, 0, 0);
    }
}
