package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/** A matrix product on tensor cores: the smallest complete use of {@link KernelContext#mmaBf16}. */
public final class MatmulKernels {
    /** Rows and columns of C one warp computes: one {@code mma} tile. */
    public static final int TILE_ROWS = 16;
    public static final int TILE_COLS = 8;
    /** The k depth of one {@code mma}. */
    public static final int DEPTH = 16;

    private MatmulKernels() {}

    /**
     * {@code C = A · Bᵀ} for row-major bfloat16 {@code A} (m × k) and {@code B} (n × k), F32 {@code C} (m × n): each
     * warp owns one 16 × 8 tile of C and walks k sixteen at a time, loading its fragments straight from global memory
     * in the layout {@link org.retroinfer.accel.kernel.MmaBf16} gives (a word of two neighbouring k per register: B's
     * rows are C's columns, so B is read as the column-major operand it is). {@code m} must be a multiple of 16,
     * {@code n} of 8, {@code k} of 16; a grid of {@code (m / 16) · (n / 8)} warps. No shared memory or pipelining:
     * this shows the operand layout, not a fast GEMM.
     */
    @Kernel
    public static void bf16(KernelContext ctx, BF16Array a, BF16Array b, F32Array c, int m, int n, int k) {
        int warp = ctx.globalIdx / KernelContext.WARP_SIZE;
        int tilesAcross = n / TILE_COLS;
        int row0 = TILE_ROWS * (warp / tilesAcross), col0 = TILE_COLS * (warp % tilesAcross);
        if (row0 >= m) {
            return; // a whole warp past the last tile: all its lanes leave together
        }
        int g = ctx.laneId / 4, t = ctx.laneId % 4;
        long rowG = (long) (row0 + g) * k, rowG8 = (long) (row0 + g + 8) * k, column = (long) (col0 + g) * k;
        Float4 acc = new Float4(0f, 0f, 0f, 0f);
        for (int k0 = 0; k0 < k; k0 += DEPTH) {
            int lo = k0 + 2 * t, hi = lo + 8;
            acc = ctx.mmaBf16(acc, a.getWord(rowG + lo), a.getWord(rowG8 + lo), a.getWord(rowG + hi), a.getWord(rowG8 + hi),
                    b.getWord(column + lo), b.getWord(column + hi));
        }
        long out = (long) (row0 + g) * n + col0 + 2 * t;
        c.set(out, acc.x());
        c.set(out + 1, acc.y());
        c.set(out + 8L * n, acc.z());
        c.set(out + 8L * n + 1, acc.w());
    }
}
