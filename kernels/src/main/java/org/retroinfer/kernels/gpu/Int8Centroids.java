package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.I32Array;

/**
 * The INT8 format of the wave index's centroids: each centroid quantised on its own as {@link Int8Vectors} quantises a
 * vector (an F32 scale {@code absmax / 127}, levels {@code rint(x / scale)}), 132 bytes a centroid instead of 256, so that
 * {@link CentroidScoring#logitsInt8} reads half the bytes that ranking every cluster reads each step.
 *
 * <p>Scoring gives a lane eight dimensions of each of four centroids of a step ({@code t, t + 2, t + 4, t + 6}, the two
 * half-warps taking neighbours), which in INT8 are 8 bytes, half a load. So centroids are laid out in blocks of
 * {@link #BLOCK}: block {@code b} holds centroids {@code 4b … 4b + 3} in 128 ints, and the 16 bytes at ints
 * {@code 4·(16h + s)} of it are slice {@code s} (dimensions {@code 8s … 8s + 7}) of centroid {@code 4b + h}, then the same
 * slice of centroid {@code 4b + h + 2}: one 16-byte load per lane gives it two of its centroids, and a warp's two loads
 * read its eight centroids' 1 KiB in two contiguous 512-byte pieces. Levels are packed little-endian, four to an int, as
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
        return block * BLOCK * INTS + ((j & 1) * 16L + slice) * 4 + (j >> 1) * 2L;
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
