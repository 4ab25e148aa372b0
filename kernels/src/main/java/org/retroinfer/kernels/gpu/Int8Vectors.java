package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The INT8 format of the wave buffer's host tier (spec §3.1: the cluster-ordered K/V in pinned host memory that
 * the GPU reads over PCIe), which halves its memory and PCIe bytes. Each {@link DecodeAttentionShape#HEAD_DIM}-element
 * K or V vector is quantised symmetrically on its own: {@code scale = absmax / 127} (F32), {@code q = rint(x / scale)}
 * clamped to [-127, 127] (ties to even); a vector of zeros has scale 0 and all {@code q = 0}. Its value is read back
 * as {@code q * scale} in F32, then rounded to the 16-bit storage type.
 *
 * <p>Layout: vector {@code i}'s bytes at byte offset {@code i·128}, packed little-endian into an {@link I32Array} as
 * {@link #INTS} ints per vector (byte {@code j} is bits {@code 8·(j % 4)} up of int {@code i·32 + j/4}); its scale
 * in a separate {@link I32Array} as the F32's bits at {@code scales[i]} (an int array, as {@link Int4Vectors}' BF16
 * pairs are, so that one kernel parameter takes either).
 *
 * <p>This class is the CPU twin of {@link IndexStore#gatherQuantized} and of the misses of
 * {@link ExecutionBufferGather#gatherInt8Bf16} (and their F16 forms), written straight from the definition.
 */
public final class Int8Vectors {
    /** Ints per vector: 128 bytes. */
    public static final int INTS = HEAD_DIM / 4;
    /** The largest magnitude of a quantised value: symmetric, so -128 is never used. */
    public static final int LEVELS = 127;

    private Int8Vectors() {}

    /** Quantises elements {@code [vector·128, vector·128 + 128)} of {@code src} into {@code q[0, 128)}; returns the scale. */
    public static float quantise(float[] src, int vector, byte[] q) {
        int from = vector * HEAD_DIM;
        float absmax = 0;
        for (int j = 0; j < HEAD_DIM; j++) absmax = Math.max(absmax, Math.abs(src[from + j]));
        float scale = absmax / LEVELS;
        for (int j = 0; j < HEAD_DIM; j++) {
            q[j] = scale == 0 ? 0 : (byte) Math.clamp(Math.rint(src[from + j] / scale), -LEVELS, LEVELS);
        }
        return scale;
    }

    /** The value a quantised byte stands for, in F32 (before rounding to the storage type). */
    public static float dequantise(byte q, float scale) {
        return q * scale;
    }

    /**
     * Quantises vector {@code vector} of {@code source} into vector {@code at} of {@code target}, its scale into
     * {@code scales[at]}: the twin of one vector of {@link IndexStore#gatherQuantized}.
     */
    public static void quantise(HalfPrecisionArray source, long vector, I32Array target, I32Array scales, long at) {
        float[] x = new float[HEAD_DIM];
        for (int j = 0; j < HEAD_DIM; j++) x[j] = source.get(vector * HEAD_DIM + j);
        byte[] q = new byte[HEAD_DIM];
        scales.set(at, Float.floatToRawIntBits(quantise(x, 0, q)));
        store(q, target, at);
    }

    /** Packs {@code q[0, 128)} into vector {@code vector} of {@code target}. */
    public static void store(byte[] q, I32Array target, long vector) {
        for (int k = 0; k < INTS; k++) {
            int word = 0;
            for (int b = 0; b < 4; b++) word |= (q[4 * k + b] & 0xFF) << (8 * b);
            target.set(vector * INTS + k, word);
        }
    }

    /** The scale of vector {@code vector}. */
    public static float scale(I32Array scales, long vector) {
        return Float.intBitsToFloat(scales.get(vector));
    }

    /** Byte {@code j} of vector {@code vector} of {@code source}. */
    public static byte get(I32Array source, long vector, int j) {
        return (byte) (source.get(vector * INTS + j / 4) >> (8 * (j % 4)));
    }
}
