package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MatmulTest {
    /** Checks every output of {@code multiply} against a float64 loop over the hand-decoded weights. */
    private static void assertMatchesReference(WeightMatrix w, float[] x, int batch) {
        int rows = (int) w.rows();
        int cols = (int) w.cols();
        float[] out = TestWeights.poisoned(batch * rows + 3);
        Matmul.multiply(w, x, out, batch);
        double[] row = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = TestWeights.value(w, r, c);
            }
            for (int b = 0; b < batch; b++) {
                double sum = 0;
                double sumAbs = 0;
                for (int c = 0; c < cols; c++) {
                    double term = row[c] * x[b * cols + c];
                    sum += term;
                    sumAbs += Math.abs(term);
                }
                float got = out[b * rows + r];
                double tolerance = TestWeights.dotTolerance(cols, sumAbs, sum);
                if (!(Math.abs(got - sum) <= tolerance)) {
                    throw new AssertionError(w.type() + " " + rows + "x" + cols + " batch " + batch + ": out[" + b
                            + "][" + r + "] = " + got + ", float64 reference " + sum + ", tolerance " + tolerance);
                }
            }
        }
        for (int i = batch * rows; i < out.length; i++) {
            assertTrue(Float.isNaN(out[i]), "multiply wrote past out[batch·rows) at " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void everyBatchSizeFromOneToSeventeenMatchesTheFloat64Reference(DType type) {
        Random random = TestWeights.random("everyBatchSize " + type);
        try (Arena arena = Arena.ofShared()) {
            for (int batch = 1; batch <= 17; batch++) {
                int rows = 1 + random.nextInt(40);
                int cols = type.isQuantized() ? 32 * (1 + random.nextInt(12)) : 1 + random.nextInt(300);
                WeightMatrix w = TestWeights.matrix(arena, random, type, rows, cols);
                assertMatchesReference(w, TestWeights.gaussian(random, batch * cols), batch);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void manyRowsSplitOverThreadsAndColumnChunksMatchTheReference(DType type) {
        Random random = TestWeights.random("manyRows " + type);
        try (Arena arena = Arena.ofShared()) {
            // more rows than one scheduling grain per thread, and more columns than one decoded chunk
            int rows = 16 * ComputePool.threads() * 3 + 1 + random.nextInt(16);
            int cols = BatchMatmul.CHUNK_COLS + (type.isQuantized() ? 32 * (1 + random.nextInt(20)) : 1 + random.nextInt(700));
            WeightMatrix w = TestWeights.matrix(arena, random, type, rows, cols);
            for (int batch : new int[] {1, 5}) {
                assertMatchesReference(w, TestWeights.gaussian(random, batch * cols), batch);
            }
        }
    }

    /**
     * Batch-1 F16/BF16 rows are read four at a time, one from each quarter of a thread's range,
     * with the leftover rows one by one: every row count (quarters of 0 to many rows, leftovers
     * of 0 to 3, on each thread), short and wide rows, and the exact and finite F16 paths give
     * the one-row-at-a-time results bit for bit, and match the float64 reference.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void fourRowStreamsGiveTheOneStreamResultsBitForBit(DType type) {
        Random random = TestWeights.random("fourStreams " + type);
        int threads = ComputePool.threads();
        try (Arena arena = Arena.ofShared()) {
            int[] rowCounts = {1, 3, 4, 5, 7, 8, 9, 16 * threads * 4 + 3, 16 * threads * 5 + 13,
                    16 * threads * 8 + 1 + random.nextInt(16)};
            for (int trial = 0; trial < rowCounts.length; trial++) {
                int rows = rowCounts[trial];
                int cols = trial % 3 == 2 ? 8192 + 1 + random.nextInt(40) : 1 + random.nextInt(300);
                WeightMatrix w = TestWeights.matrix(arena, random, type, rows, cols);
                boolean exactF16 = type == DType.F16 && trial % 2 == 1;
                if (exactF16) {
                    // one Inf sends the matrix down the exact-decode path instead of the finite one
                    int row = random.nextInt(rows);
                    w.data().set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * ((long) row * cols + random.nextInt(cols)),
                            (short) 0x7C00);
                }
                assertEquals(type == DType.F16 && !exactF16, w.f16Finite());
                float[] x = TestWeights.gaussian(random, cols);
                float[] four = TestWeights.poisoned(rows + 3);
                float[] one = TestWeights.poisoned(rows + 3);
                Matmul.multiply(w, x, four, 1, Matmul.RowStreams.FOUR);
                Matmul.multiply(w, x, one, 1, Matmul.RowStreams.ONE);
                for (int r = 0; r < rows + 3; r++) {
                    assertEquals(Float.floatToRawIntBits(one[r]), Float.floatToRawIntBits(four[r]),
                            type + " " + rows + "x" + cols + (exactF16 ? " (exact F16)" : "") + " row " + r
                                    + ": four streams " + four[r] + ", one stream " + one[r]);
                }
                if (!exactF16) {
                    assertMatchesReference(w, x, 1);
                }
            }
        }
    }

    @Test
    void batchesLargerThanOneBlockOfActivationRowsMatchTheReference() {
        Random random = TestWeights.random("largeBatch");
        try (Arena arena = Arena.ofShared()) {
            int batch = BatchMatmul.BATCH_BLOCK + 1 + random.nextInt(10);
            WeightMatrix w = TestWeights.matrix(arena, random, DType.Q4_0, 37, 96);
            assertMatchesReference(w, TestWeights.gaussian(random, batch * 96), batch);
        }
    }

    @Test
    void callsFromInsideAPoolThreadRunInlineAndStayCorrect() {
        Random random = TestWeights.random("nested");
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = TestWeights.matrix(arena, random, DType.F16, 200, 130);
            float[] x = TestWeights.gaussian(random, 3 * 130);
            ComputePool.forRange(ComputePool.threads() * 2, (start, end) -> {
                for (int i = start; i < end; i++) {
                    assertMatchesReference(w, x, 1 + i % 3);
                }
            });
        }
    }

    @Test
    void shortActivationOrOutputArraysAreRejectedWithTheirSizes() {
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = TestWeights.matrix(arena, new Random(1), DType.F32, 4, 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Matmul.multiply(w, new float[15], new float[8], 2));
            assertEquals("x holds 15 floats, needs 16", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Matmul.multiply(w, new float[16], new float[7], 2));
            assertEquals("out holds 7 floats, needs 8", e.getMessage());
        }
    }
}
