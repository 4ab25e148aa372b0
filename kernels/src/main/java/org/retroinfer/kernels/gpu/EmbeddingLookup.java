package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The decode step's first hidden state: row {@code tokens[r]} of the {@code [vocab][hidden]} embedding table,
 * widened to F32, as {@link org.retroinfer.kernels.WeightMatrix#readRow} does on the CPU (exactly: widening
 * is exact). A thread moves eight elements of one row: one 16-byte load of a 16-bit table (two of an F32
 * one), two 16-byte stores. Launch on {@link DecodeLayerShape#embeddingGrid()} (grid-stride, so any grid is
 * correct); {@code hidden} is a multiple of 8 and the tokens are in the vocabulary.
 */
public final class EmbeddingLookup {
    private EmbeddingLookup() {}

    @Kernel
    public static void fromHalf(KernelContext ctx, I32Array tokens, HalfPrecisionArray table, F32Array out, int batch,
            int hidden) {
        int pieces = hidden / 8;
        long items = (long) batch * pieces;
        for (long item = ctx.globalIdx; item < items; item += ctx.globalGroupSizeX) {
            int row = (int) (item / pieces);
            long column = item * 8 - (long) row * hidden;
            store(out, item * 8, table.getFloat8((long) tokens.get(row) * hidden + column));
        }
    }


    @Kernel
    public static void fromF32(KernelContext ctx, I32Array tokens, F32Array table, F32Array out, int batch, int hidden) {
        int pieces = hidden / 8;
        long items = (long) batch * pieces;
        for (long item = ctx.globalIdx; item < items; item += ctx.globalGroupSizeX) {
            int row = (int) (item / pieces);
            long from = (long) tokens.get(row) * hidden + (item * 8 - (long) row * hidden);
            out.setFloat4(item * 8, table.getFloat4(from));
            out.setFloat4(item * 8 + 4, table.getFloat4(from + 4));
        }
    }

    private static void store(F32Array out, long at, Float8 e) {
        out.setFloat4(at, new Float4(e.s0(), e.s1(), e.s2(), e.s3()));
        out.setFloat4(at + 4, new Float4(e.s4(), e.s5(), e.s6(), e.s7()));
    }
}
