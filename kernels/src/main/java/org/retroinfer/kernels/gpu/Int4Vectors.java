package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The INT4 format of the wave buffer's host tier: a quarter of the 16-bit store's memory and PCIe bytes per miss
 * (80 bytes a vector with its scales, against INT8's 132). Each {@link DecodeAttentionShape#HEAD_DIM}-element K or V
 * vector is quantised in {@link #GROUPS} groups of {@link #GROUP} consecutive elements, each symmetric on its own:
 * {@code scale = absmax / 7} (F32), {@code q = rint(x / scale)} clamped to [-7, 7] (ties to even); a group of zeros
 * has scale 0 and all {@code q = 0}. A value is read back as {@code q * scale} in F32, then rounded to the 16-bit
 * storage type. Groups rather than one scale a vector, because a 4-bit level is a seventh of the scale: one large
 * channel would otherwise flatten a whole key (KIVI and the Q4 formats group by 32 too).
 *
 * <p>Layout: vector {@code i}'s 64 bytes as {@link #INTS} ints, element {@code j} in bits {@code 4·(j % 8)} up of
 * int {@code i·16 + j/8} (two's complement nibbles); its scales in a separate {@link F32Array}, group {@code g}'s at
 * {@code scales[i·4 + g]}.
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
            float scale = absmax / LEVELS;
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

    /**
     * Quantises vector {@code vector} of {@code source} into vector {@code at} of {@code target}, its scales into
     * {@code scales[at·4, at·4 + 4)}: the twin of one vector of {@link IndexStore#gatherQuantizedInt4}.
     */
    public static void quantise(HalfPrecisionArray source, long vector, I32Array target, F32Array scales, long at) {
        float[] x = new float[HEAD_DIM];
        for (int j = 0; j < HEAD_DIM; j++) x[j] = source.get(vector * HEAD_DIM + j);
        byte[] q = new byte[HEAD_DIM];
        float[] s = new float[GROUPS];
        quantise(x, 0, q, s);
        for (int g = 0; g < GROUPS; g++) scales.set(at * GROUPS + g, s[g]);
        store(q, target, at);
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
    public static float scale(F32Array scales, long vector, int j) {
        return scales.get(vector * GROUPS + j / GROUP);
    }
}
