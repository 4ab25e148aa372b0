package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/** A tiled matrix transpose through shared memory: the two-dimensional ids and the barrier. */
public final class TransposeKernel {
    /** Tile edge; a block is TILE × ROWS threads and moves TILE × TILE elements. */
    public static final int TILE = 32;
    public static final int ROWS = 8;

    private TransposeKernel() {}

    /**
     * {@code out = in}<sup>T</sup> for a row-major {@code rows × cols} input. Reads and writes are both
     * coalesced; the tile has one padding column so that the column-wise reads from shared memory hit 32
     * different banks. Launch with blocks of {@code TILE × ROWS} over a grid of
     * {@code ceil(cols / TILE) × ceil(rows / TILE)}.
     */
    @Kernel
    public static void transpose(KernelContext ctx, F32Array in, F32Array out, int rows, int cols) {
        float[] tile = ctx.allocateFloatLocalArray(TILE * (TILE + 1));
        int x = ctx.groupIdx * TILE + ctx.localIdx;
        int y = ctx.groupIdy * TILE + ctx.localIdy;
        for (int j = 0; j < TILE; j += ROWS) {
            if (x < cols && y + j < rows) {
                tile[(ctx.localIdy + j) * (TILE + 1) + ctx.localIdx] = in.get((long) (y + j) * cols + x);
            }
        }
        ctx.localBarrier();
        x = ctx.groupIdy * TILE + ctx.localIdx;
        y = ctx.groupIdx * TILE + ctx.localIdy;
        for (int j = 0; j < TILE; j += ROWS) {
            if (x < rows && y + j < cols) {
                out.set((long) (y + j) * rows + x, tile[ctx.localIdx * (TILE + 1) + ctx.localIdy + j]);
            }
        }
    }
}
