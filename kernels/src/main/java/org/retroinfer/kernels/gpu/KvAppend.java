package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Appends a decode step's post-RoPE keys and values (F32 {@code [batch][kvHeads][HEAD_DIM]}) to the dense
 * 16-bit cache {@link SplitKvDecode} reads ({@link DecodeAttentionShape}: {@code [batch][kvHeads][capacity][HEAD_DIM]}),
 * at each sequence's own position, rounded to nearest even. The caller then reads {@code positions[s] + 1}
 * tokens of sequence {@code s}. A thread moves eight dimensions of one (sequence, KV head): two 16-byte
 * loads of K and of V, one 16-byte store to each cache. Launch on {@link DecodeLayerShape#kvAppendGrid()}
 * (grid-stride, so any grid is correct); positions must be below {@code capacity}.
 */
public final class KvAppend {
    /** Threads per (sequence, KV head), eight dimensions each. */
    private static final int SLICES = HEAD_DIM / 8;

    private KvAppend() {}

    /** Into a BF16 cache. */
    @Kernel
    public static void intoBf16(KernelContext ctx, F32Array k, F32Array v, BF16Array kCache, BF16Array vCache, I32Array positions,
            int batch, int kvHeads, long capacity) {
        long items = (long) batch * kvHeads * SLICES;
        for (long item = ctx.globalIdx; item < items; item += ctx.globalGroupSizeX) {
            long pair = item / SLICES; // (sequence, KV head)
            long from = item * 8;
            long to = (pair * capacity + positions.get((int) (pair / kvHeads))) * HEAD_DIM + (from - pair * HEAD_DIM);
            kCache.setFloat8(to, eight(k, from));
            vCache.setFloat8(to, eight(v, from));
        }
    }

    /** Into an F16 cache. */
    @Kernel
    public static void intoF16(KernelContext ctx, F32Array k, F32Array v, F16Array kCache, F16Array vCache, I32Array positions,
            int batch, int kvHeads, long capacity) {
        long items = (long) batch * kvHeads * SLICES;
        for (long item = ctx.globalIdx; item < items; item += ctx.globalGroupSizeX) {
            long pair = item / SLICES;
            long from = item * 8;
            long to = (pair * capacity + positions.get((int) (pair / kvHeads))) * HEAD_DIM + (from - pair * HEAD_DIM);
            kCache.setFloat8(to, eight(k, from));
            vCache.setFloat8(to, eight(v, from));
        }
    }

    private static Float8 eight(F32Array x, long at) {
        Float4 lo = x.getFloat4(at);
        Float4 hi = x.getFloat4(at + 4);
        return new Float8(lo.x(), lo.y(), lo.z(), lo.w(), hi.x(), hi.y(), hi.z(), hi.w());
    }
}
