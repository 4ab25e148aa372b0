package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Batch-1 products of F16 matrices without Inf or NaN take a cheaper conversion with x scaled by
 * a power of two; these tests pin down that it gives the exact-decode path's results bit for bit
 * and that matrices or activations it cannot serve go the exact way.
 */
class FiniteF16MatmulTest {
    /** Random F16 bit patterns over every finite exponent, subnormals, zeros and −0 included. */
    private static WeightMatrix everyFiniteExponent(Arena arena, Random random, int rows, int cols) {
        MemorySegment data = arena.allocate(2L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            short bits;
            do {
                bits = (short) random.nextInt(1 << 16);
            } while ((bits & 0x7C00) == 0x7C00);
            data.setAtIndex(ValueLayout.JAVA_SHORT, i, bits);
        }
        return new WeightMatrix(DType.F16, rows, cols, data);
    }

    private static float[] exactPath(WeightMatrix w, float[] x) {
        float[] out = TestWeights.poisoned((int) w.rows());
        RowDot.rows(w, x, out, 0, (int) w.rows());
        return out;
    }

    @Test
    void finiteMatricesGiveTheExactDecodePathsResultsBitForBit() {
        Random random = TestWeights.random("finiteF16");
        try (Arena arena = Arena.ofShared()) {
            for (int trial = 0; trial < 20; trial++) {
                int rows = 1 + random.nextInt(70);
                int cols = 1 + random.nextInt(400);
                WeightMatrix w = trial % 2 == 0
                        ? TestWeights.matrix(arena, random, DType.F16, rows, cols)
                        : everyFiniteExponent(arena, random, rows, cols);
                float[] x = TestWeights.gaussian(random, cols);
                for (int c = 0; c < cols; c += 7) {
                    x[c] *= (float) Math.scalb(1.0, random.nextInt(40) - 20);
                }
                assertTrue(w.f16Finite());
                float[] out = TestWeights.poisoned(rows);
                Matmul.multiply(w, x, out, 1);
                float[] expected = exactPath(w, x);
                for (int r = 0; r < rows; r++) {
                    assertEquals(Float.floatToRawIntBits(expected[r]), Float.floatToRawIntBits(out[r]),
                            rows + "x" + cols + " row " + r + ": " + out[r] + " vs exact path " + expected[r]);
                }
            }
        }
    }

    @Test
    void anInfOrNanWeightAnywhereSendsTheMatrixTheExactWay() {
        try (Arena arena = Arena.ofShared()) {
            int rows = 40, cols = 3000;
            for (short special : new short[] {(short) 0x7C00, (short) 0xFC00, (short) 0x7E01}) {
                WeightMatrix w = TestWeights.matrix(arena, new Random(5), DType.F16, rows, cols);
                long at = (long) rows * cols - 1 - new Random(special).nextInt(rows * cols / 2);
                w.data().setAtIndex(ValueLayout.JAVA_SHORT, at, special);
                assertFalse(w.f16Finite(), "a matrix holding " + Integer.toHexString(special & 0xFFFF));
                float[] x = new float[cols];
                java.util.Arrays.fill(x, 1f);
                float[] out = TestWeights.poisoned(rows);
                Matmul.multiply(w, x, out, 1);
                float got = out[(int) (at / cols)];
                float expected = Float.float16ToFloat(special);
                assertEquals(Float.isNaN(expected), Float.isNaN(got), "row with " + expected + " gave " + got);
                if (!Float.isNaN(expected)) {
                    assertEquals(expected, got, "row with " + expected);
                }
            }
        }
    }

    @Test
    void activationsTooLargeToScaleGoTheExactWay() {
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = TestWeights.matrix(arena, new Random(9), DType.F16, 33, 64);
            float[] x = TestWeights.gaussian(new Random(10), 64);
            x[17] = 0x1p70f;
            float[] out = TestWeights.poisoned(33);
            Matmul.multiply(w, x, out, 1);
            float[] expected = exactPath(w, x);
            for (int r = 0; r < 33; r++) {
                assertTrue(Float.isFinite(out[r]), "row " + r + " overflowed: " + out[r]);
                assertEquals(expected[r], out[r], "row " + r);
            }
        }
    }

    @Test
    void theFiniteScanLooksAtEveryValueIncludingTheTail() {
        try (Arena arena = Arena.ofShared()) {
            for (int n : new int[] {1, 15, 16, 17, 1000, (1 << 20) + 3}) {
                WeightMatrix w = TestWeights.matrix(arena, new Random(n), DType.F16, 1, n);
                assertTrue(HalfVectors.f16AllFinite(w.data()), n + " gaussian values");
                for (long at : new long[] {0, n / 2, n - 1}) {
                    short saved = w.data().getAtIndex(ValueLayout.JAVA_SHORT, at);
                    w.data().setAtIndex(ValueLayout.JAVA_SHORT, at, (short) 0x7C00);
                    assertFalse(HalfVectors.f16AllFinite(w.data()), "Inf at " + at + " of " + n);
                    w.data().setAtIndex(ValueLayout.JAVA_SHORT, at, saved);
                }
            }
        }
    }
}
