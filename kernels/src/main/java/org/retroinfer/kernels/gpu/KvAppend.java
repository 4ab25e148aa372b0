package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Appends a step's post-RoPE keys and values (F32 {@code [rows][kvHeads][HEAD_DIM]}) to the dense 16-bit cache
 * {@link SplitKvDecode} reads ({@code [slots][kvHeads][capacity][HEAD_DIM]}, {@link DecodeAttentionShape#kvOffset}),
 * row {@code r} into slot {@code slots[r]} at position {@code positions[r]}, rounded to nearest even. A decode
 * step has one row per sequence; a prefill chunk has several rows of one slot at consecutive positions. A
 * thread moves eight dimensions of one (row, KV head): two 16-byte loads of K and of V, one 16-byte store to
 * each cache. Launch on {@link DecodeLayerShape#kvAppendGrid()} with the step's rows as its batch
 * (grid-stride, so any grid is correct); positions must be below {@code capacity}.
 */
public final class KvAppend {
    /** Threads per (sequence, KV head), eight dimensions each. */
    private static final int SLICES = HEAD_DIM / 8;

    private KvAppend() {}

    /** Into an F16 or BF16 cache. */
    @Kernel
    public static void into(KernelContext ctx, F32Array k, F32Array v, HalfPrecisionArray kCache, HalfPrecisionArray vCache,
            I32Array slots, I32Array positions, int batch, int kvHeads, long capacity) {
        long items = (long) batch * kvHeads * SLICES;
        for (long item = ctx.globalIdx; item < items; item += ctx.globalGroupSizeX) {
            long pair = item / SLICES; // (sequence, KV head)
            long from = item * 8;
            int row = (int) (pair / kvHeads);
            long slotPair = (long) slots.get(row) * kvHeads + (pair - (long) row * kvHeads);
            long to = (slotPair * capacity + positions.get(row)) * HEAD_DIM + (from - pair * HEAD_DIM);
            kCache.setFloat8(to, LinearSums.inputs(k, from));
            vCache.setFloat8(to, LinearSums.inputs(v, from));
        }
    }
}
