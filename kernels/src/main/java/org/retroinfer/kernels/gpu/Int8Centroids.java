package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.I32Array;

/**
 * The INT8 format of the wave index's centroids: each centroid quantised on its own as {@link Int8Vectors} quantises a
 * vector (an F32 scale {@code absmax / 127}, levels {@code rint(x / scale)}), 132 bytes a centroid instead of 256, so that
 * {@link CentroidScoring#logitsInt8} reads half the bytes that ranking every cluster reads each step.
 *
 * <p>Scoring gives four lanes each centroid of a step, a lane 32 of its dimensions (32 bytes, two 16-byte loads), so
 * that summing a centroid's partials over its lanes takes two shuffle rounds. So centroids are laid out in blocks of
 * {@link #BLOCK}: block {@code b} holds centroids {@code 4b … 4b + 3} in 128 ints, and the 16 bytes at ints
 * {@code 4·(16k + 4j + p)} of it are dimensions {@code 32p + 16k … 32p + 16k + 15} of centroid {@code 4b + j}: a lane's
 * two loads ({@code k} = 0, 1) read its part {@code p} of its centroid, and a warp's load reads its eight centroids' first
 * (or second) halves in two contiguous 256-byte pieces. Levels are packed little-endian, four to an int, as
 * {@link Int8Vectors} packs them. Scales are F32 bits at {@code scales[v]}, one int per centroid.
 *
 * <p>Centroid {@code v} is a global index; a row of {@code capacity} centroids starts at centroid {@code row·capacity},
 * so that rows start on a block, capacities are multiples of {@link #BLOCK}. This class is the CPU twin of
 * {@link IndexStore#toInt8Centroids}, written from the definition.
 */
public final class Int8Centroids {
    /** Ints a centroid's levels take. */
    public static final int INTS = Int8Vectors.INTS;
    /** Centroids a block interleaves. */
    public static final int BLOCK = 4;
    /** Dimensions of one slice: 8 bytes of levels, two ints. */
    private static final int SLICE = 8;

    private Int8Centroids() {}

    /** The int at which slice {@code slice} (dimensions {@code 8·slice …}) of centroid {@code vector} starts; two ints long. */
    public static long word(long vector, int slice) {
        long block = vector >> 2;
        int j = (int) (vector & 3);
        int part = slice >> 2, k = (slice >> 1) & 1;
        return block * BLOCK * INTS + (k * 16L + j * 4 + part) * 4 + (slice & 1) * 2L;
    }

    /** Quantises elements {@code [from, from + 128)} of {@code centroids} as centroid {@code vector} of {@code levels}. */
    public static void store(float[] centroids, int from, I32Array levels, I32Array scales, long vector) {
        byte[] q = new byte[HEAD_DIM];
        float[] x = java.util.Arrays.copyOfRange(centroids, from, from + HEAD_DIM);
        scales.set(vector, Float.floatToRawIntBits(Int8Vectors.quantise(x, 0, q)));
        for (int s = 0; s < HEAD_DIM / SLICE; s++) {
            long at = word(vector, s);
            for (int k = 0; k < 2; k++) {
                int w = 0;
                for (int b = 0; b < 4; b++) w |= (q[SLICE * s + 4 * k + b] & 0xFF) << (8 * b);
                levels.set(at + k, w);
            }
        }
    }

    /** Level {@code j} of centroid {@code vector}. */
    public static byte level(I32Array levels, long vector, int j) {
        return (byte) (levels.get(word(vector, j / SLICE) + (j % SLICE) / 4) >> (8 * (j % 4)));
    }

    /** Element {@code j} of centroid {@code vector} as scoring reads it: its level times its scale. */
    public static float value(I32Array levels, I32Array scales, long vector, int j) {
        return Int8Vectors.dequantise(level(levels, vector, j), Float.intBitsToFloat(scales.get(vector)));
    }
}
