package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;

/** {@link RowArgmax#rows} picks each row's first largest value, as {@link RowArgmax#of} does on the CPU. */
class RowArgmaxTest {
    @Test
    void eachRowGetsTheFirstOfItsLargestValues() {
        int n = 5003; // not a multiple of the block
        float[][] rows = new float[7][n];
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        for (float[] row : rows) {
            for (int i = 0; i < n; i++) row[i] = (float) random.nextGaussian();
        }
        rows[1][4999] = 100f; // late, in the last partial sweep
        rows[2][17] = rows[2][3000] = rows[2][4242] = 50f; // ties across threads and warps: the first wins
        rows[3][0] = 9f;
        rows[3][1] = Float.NaN;
        rows[3][2000] = Float.NaN; // NaN is smaller than everything
        java.util.Arrays.fill(rows[4], Float.NEGATIVE_INFINITY); // nothing above −∞: 0
        java.util.Arrays.fill(rows[5], -3f); // all equal: the first
        rows[6][n - 1] = Float.POSITIVE_INFINITY;
        int[] expected = {RowArgmax.of(rows[0], 0, n), 4999, 17, 0, 0, 0, n - 1};
        try (Arena arena = Arena.ofShared()) {
            F32Array x = F32Array.allocate(arena, (long) rows.length * n);
            for (int r = 0; r < rows.length; r++) {
                for (int i = 0; i < n; i++) x.set((long) r * n + i, rows[r][i]);
            }
            I32Array out = I32Array.allocate(arena, rows.length);
            out.fill(-7);
            new Emulator().launch(RowArgmax.class, "rows", RowArgmax.grid(rows.length, n), x, out, n);
            for (int r = 0; r < rows.length; r++) {
                assertEquals(expected[r], RowArgmax.of(rows[r], 0, n), "the CPU definition, row " + r);
                assertEquals(expected[r], out.get(r), "row " + r + " (seed " + seed + ")");
            }
            // a smaller block (the kernel reads its size) gives the same
            out.fill(-7);
            new Emulator().launch(RowArgmax.class, "rows", Grid.of(rows.length, 64), x, out, n);
            for (int r = 0; r < rows.length; r++) {
                assertEquals(expected[r], out.get(r), "row " + r + " with 64 threads");
            }
        }
    }
}
