package org.retroinfer.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

/**
 * Random test inputs and scalar float64 references that share no code with the kernels: stored
 * values are decoded here bit by bit from the format definitions in {@link DType}.
 */
final class TestWeights {
    /** Unit roundoff of float: the relative error of one rounding. */
    static final double U = 0x1p-24;

    private TestWeights() {}

    /** A seeded random source whose seed is printed, so that a failure can be replayed. */
    static Random random(String test) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println(test + ": seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        return new Random(seed);
    }

    static float[] poisoned(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    static float[] gaussian(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }

    /**
     * A random rows × cols matrix of {@code type}: normal values for float types; for quantised
     * types a random (positive or negative) F16 scale per block and uniformly random quant bytes.
     */
    static WeightMatrix matrix(Arena arena, Random random, DType type, int rows, int cols) {
        long bytes = type.byteSize((long) rows * cols);
        MemorySegment data = arena.allocate(bytes, 64);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
                }
            }
            case F16, BF16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    float v = (float) random.nextGaussian();
                    data.setAtIndex(ValueLayout.JAVA_SHORT, i,
                            type == DType.F16 ? Float.floatToFloat16(v) : (short) (Float.floatToRawIntBits(v) >>> 16));
                }
            }
            case Q8_0, Q4_0 -> {
                byte[] raw = new byte[(int) Math.min(bytes, Integer.MAX_VALUE)];
                random.nextBytes(raw);
                MemorySegment.copy(MemorySegment.ofArray(raw), 0, data, 0, bytes);
                for (long b = 0; b < bytes / type.blockBytes(); b++) {
                    float scale = (float) ((random.nextDouble() * 2 - 1) * 0.05);
                    data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b * type.blockBytes(), Float.floatToFloat16(scale));
                }
            }
        }
        return new WeightMatrix(type, rows, cols, data);
    }

    /** The value at (row, col) of a stored matrix, decoded by hand from the format definition. */
    static double value(WeightMatrix w, long row, long col) {
        MemorySegment data = w.data();
        long base = row * w.rowBytes();
        return switch (w.type()) {
            case F32 -> data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, base + 4 * col);
            case F16 -> f16(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2 * col));
            case BF16 -> Float.intBitsToFloat((data.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2 * col) & 0xFFFF) << 16);
            case Q8_0 -> {
                long block = base + col / 32 * 34;
                yield f16(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block))
                        * data.get(ValueLayout.JAVA_BYTE, block + 2 + col % 32);
            }
            case Q4_0 -> {
                long block = base + col / 32 * 18;
                int j = (int) (col % 32);
                int packed = data.get(ValueLayout.JAVA_BYTE, block + 2 + j % 16) & 0xFF;
                int nibble = j < 16 ? packed & 0x0F : packed >>> 4;
                yield f16(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block)) * (nibble - 8);
            }
        };
    }

    /** IEEE 754 binary16 → double, from the definition: (−1)^s · 2^(e−15) · 1.m, or 2^−14 · 0.m. */
    static double f16(short bits) {
        int sign = (bits >>> 15) & 1;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        double magnitude;
        if (exponent == 0x1F) {
            magnitude = mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exponent == 0) {
            magnitude = Math.scalb((double) mantissa, -24);
        } else {
            magnitude = Math.scalb(1024.0 + mantissa, exponent - 25);
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    /**
     * The error bound of a float sum of products computed with FMA: each product enters exactly
     * and passes through at most {@code depth} roundings, so |error| ≤ depth·u·Σ|terms|, plus
     * one rounding of the result. A vectorised loop with lanes L over n terms in chunks has depth
     * ≤ n/L (one lane's accumulator) + log2 of the lanes and accumulators + a scalar tail of
     * fewer than L, plus one per chunk merged; {@link #dotDepth} bounds that generously.
     */
    static double dotTolerance(int n, double sumAbs, double result) {
        return dotDepth(n) * U * sumAbs + U * Math.abs(result) + Float.MIN_NORMAL;
    }

    static int dotDepth(int n) {
        int lanes = VectorSupport.FLOAT.length();
        return n / lanes + 3 * lanes + n / BatchMatmul.CHUNK_COLS + 8;
    }
}
