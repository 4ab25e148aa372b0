package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The INT4 format of the wave buffer's stores: 72 bytes a vector with its scales, against the 16-bit store's 256 and
 * INT8's 132. Each {@link DecodeAttentionShape#HEAD_DIM}-element K or V vector is quantised in {@link #GROUPS} groups
 * of {@link #GROUP} consecutive elements, each symmetric on its own: {@code scale = bf16(absmax / 7)} (the F32
 * quotient rounded to BF16, nearest even), {@code q = rint(x / scale)} clamped to [-7, 7] (ties to even); a group of
 * zeros has scale 0 and all {@code q = 0}. A value is read back as {@code q * scale} in F32, then rounded to the 16-bit
 * storage type. Groups rather than one scale a vector, because a 4-bit level is a seventh of the scale: one large
 * channel would otherwise flatten a whole key (KIVI and the Q4 formats group by 32 too). The scales are BF16 because
 * their eight bits of precision cost at most 7 · 2⁻⁸ of a level (the levels are computed against the rounded scale)
 * while taking 8 bytes a vector instead of F32's 16: a tenth of the store, a tenth more sequences in the same memory.
 * BF16 rather than F16 for F32's range (no scale overflows or flushes to zero) and a conversion that is a shift.
 *
 * <p>Layout: vector {@code i}'s 64 bytes as {@link #INTS} ints, element {@code j} in bits {@code 4·(j % 8)} up of
 * int {@code i·16 + j/8} (two's complement nibbles); its scales in a separate {@link I32Array} of {@link #SCALE_INTS}
 * ints a vector, group {@code g}'s BF16 bits in the low half of int {@code i·2 + g/2} for even {@code g}, the high
 * half for odd.
 *
 * <p>This class is the CPU twin of {@link IndexStore#gatherQuantizedInt4} and of the misses of
 * {@link ExecutionBufferGather#gatherInt4Bf16} (and their F16 forms), written straight from the definition.
 */
public final class Int4Vectors {
    /** Elements that share a scale. */
    public static final int GROUP = 32;
    /** Scales per vector. */
    public static final int GROUPS = HEAD_DIM / GROUP;
    /** Ints per vector: 64 bytes, eight elements an int. */
    public static final int INTS = HEAD_DIM / 8;
    /** The largest magnitude of a quantised value: symmetric, so -8 is never used. */
    public static final int LEVELS = 7;
    /** Ints of scales per vector: four BF16 scales, two an int. */
    public static final int SCALE_INTS = GROUPS / 2;

    private Int4Vectors() {}

    /**
     * Quantises elements {@code [vector·128, vector·128 + 128)} of {@code src} into {@code q[0, 128)} and the four
     * groups' scales into {@code scales[0, 4)}.
     */
    public static void quantise(float[] src, int vector, byte[] q, float[] scales) {
        for (int g = 0; g < GROUPS; g++) {
            int from = vector * HEAD_DIM + g * GROUP;
            float absmax = 0;
            for (int j = 0; j < GROUP; j++) absmax = Math.max(absmax, Math.abs(src[from + j]));
            float scale = toBf16(absmax / LEVELS);
            scales[g] = scale;
            for (int j = 0; j < GROUP; j++) {
                q[g * GROUP + j] = scale == 0 ? 0 : (byte) Math.clamp(Math.rint(src[from + j] / scale), -LEVELS, LEVELS);
            }
        }
    }

    /** The value a quantised level stands for, in F32 (before rounding to the storage type). */
    public static float dequantise(byte q, float scale) {
        return q * scale;
    }

    /** {@code x} (finite, not negative) rounded to BF16, nearest even, as an F32. */
    public static float toBf16(float x) {
        return Float.intBitsToFloat(bf16Bits(x) << 16);
    }

    /** The BF16 bits of {@code x} (finite, not negative), nearest even: the GPU's {@link Int4Chunks} rounds the same. */
    public static int bf16Bits(float x) {
        int bits = Float.floatToRawIntBits(x);
        return (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
    }

    /**
     * Quantises vector {@code vector} of {@code source} into vector {@code at} of {@code target}, its scales into
     * {@code scales[at·4, at·4 + 4)}: the twin of one vector of {@link IndexStore#gatherQuantizedInt4}.
     */
    public static void quantise(HalfPrecisionArray source, long vector, I32Array target, I32Array scales, long at) {
        float[] x = new float[HEAD_DIM];
        for (int j = 0; j < HEAD_DIM; j++) x[j] = source.get(vector * HEAD_DIM + j);
        byte[] q = new byte[HEAD_DIM];
        float[] s = new float[GROUPS];
        quantise(x, 0, q, s);
        storeScales(s, scales, at);
        store(q, target, at);
    }

    /** Packs the four BF16-exact scales {@code s[0, 4)} into vector {@code vector}'s {@link #SCALE_INTS} ints of {@code scales}. */
    public static void storeScales(float[] s, I32Array scales, long vector) {
        for (int k = 0; k < SCALE_INTS; k++) {
            scales.set(vector * SCALE_INTS + k, bf16Bits(s[2 * k]) | bf16Bits(s[2 * k + 1]) << 16);
        }
    }

    /** Packs the levels {@code q[0, 128)} (each in [-8, 7]) into vector {@code vector} of {@code target}. */
    public static void store(byte[] q, I32Array target, long vector) {
        for (int k = 0; k < INTS; k++) {
            int word = 0;
            for (int b = 0; b < 8; b++) word |= (q[8 * k + b] & 0xF) << (4 * b);
            target.set(vector * INTS + k, word);
        }
    }

    /** Level {@code j} of vector {@code vector} of {@code source}, sign-extended. */
    public static byte get(I32Array source, long vector, int j) {
        return (byte) (source.get(vector * INTS + j / 8) << (28 - 4 * (j % 8)) >> 28);
    }

    /** The scale of element {@code j} of vector {@code vector}. */
    public static float scale(I32Array scales, long vector, int j) {
        int g = j / GROUP;
        return fromPair(scales.get(vector * SCALE_INTS + g / 2), g);
    }

    /** Group {@code group}'s scale from its vector's int of BF16 scales: the low half for an even group, the high for odd. */
    public static float fromPair(int pair, long group) {
        return Float.intBitsToFloat(group % 2 == 0 ? pair << 16 : pair & 0xFFFF0000);
    }
}
