package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * A linear layer over a step's rows, {@code y[r][o] = Σ_i x[r][i] · W[o][i] (+ bias[o])}, with F32 activations, a
 * 16-bit or F32 weight matrix {@code [out][in]} (the checkpoint's own layout and type, so the GPU multiplies the
 * same numbers as {@link org.retroinfer.kernels.Matmul} on the CPU) and F32 sums. A warp owns one output: its lanes
 * stride along the weight row eight elements (one 16-byte load) at a time and keep four rows' sums, which a warp
 * sum adds up at the end; rows past the first four take further passes over the same weight row, which the
 * caches then serve. Decoding (a few rows) reads each weight once, so the kernel streams the matrix; it is not
 * meant for long prefill chunks, whose rows it serves four at a time at CUDA-core speed.
 *
 * <p>{@code in} must be a multiple of 8 (every Llama-family width is). {@code hasBias} 0 ignores {@code bias}
 * (pass any F32 array). Launch on {@link LinearShape#grid()}.
 */
public final class Linear {
    /** Threads per block: four warps, four outputs. */
    public static final int THREADS = 128;
    /** Rows one pass over a weight row serves. */
    public static final int ROWS = 4;
    private static final int WARPS = THREADS / KernelContext.WARP_SIZE;
    private static final int STRIDE = 8 * KernelContext.WARP_SIZE;

    private Linear() {}

    @Kernel
    public static void bf16(KernelContext ctx, F32Array x, BF16Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias) {
        int o = ctx.groupIdx * WARPS + ctx.warpId;
        if (o >= out) {
            return; // the whole warp shares the output
        }
        long row = (long) o * in;
        for (int r = 0; r < rows; r += ROWS) {
            Float4 sums = new Float4(0f, 0f, 0f, 0f);
            for (int i = 8 * ctx.laneId; i < in; i += STRIDE) {
                sums = step(x, r, rows, in, i, w.getFloat8(row + i), sums);
            }
            finish(ctx, sums, bias, hasBias, y, r, rows, out, o);
        }
    }

    @Kernel
    public static void f16(KernelContext ctx, F32Array x, F16Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias) {
        int o = ctx.groupIdx * WARPS + ctx.warpId;
        if (o >= out) {
            return;
        }
        long row = (long) o * in;
        for (int r = 0; r < rows; r += ROWS) {
            Float4 sums = new Float4(0f, 0f, 0f, 0f);
            for (int i = 8 * ctx.laneId; i < in; i += STRIDE) {
                sums = step(x, r, rows, in, i, w.getFloat8(row + i), sums);
            }
            finish(ctx, sums, bias, hasBias, y, r, rows, out, o);
        }
    }

    @Kernel
    public static void f32(KernelContext ctx, F32Array x, F32Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias) {
        int o = ctx.groupIdx * WARPS + ctx.warpId;
        if (o >= out) {
            return;
        }
        long row = (long) o * in;
        for (int r = 0; r < rows; r += ROWS) {
            Float4 sums = new Float4(0f, 0f, 0f, 0f);
            for (int i = 8 * ctx.laneId; i < in; i += STRIDE) {
                Float4 lo = w.getFloat4(row + i);
                Float4 hi = w.getFloat4(row + i + 4);
                sums = step(x, r, rows, in, i, new Float8(lo.x(), lo.y(), lo.z(), lo.w(), hi.x(), hi.y(), hi.z(), hi.w()), sums);
            }
            finish(ctx, sums, bias, hasBias, y, r, rows, out, o);
        }
    }

    /**
     * Adds eight weights times the same eight inputs of rows {@code r .. r + 3} to their sums. Rows past the last
     * read the last row again (in bounds) and are never written.
     */
    private static Float4 step(F32Array x, int r, int rows, int in, int i, Float8 w, Float4 sums) {
        float s0 = sums.x() + w.dot(x.getFloat4(at(r, rows, in, i)), x.getFloat4(at(r, rows, in, i) + 4));
        float s1 = sums.y() + w.dot(x.getFloat4(at(r + 1, rows, in, i)), x.getFloat4(at(r + 1, rows, in, i) + 4));
        float s2 = sums.z() + w.dot(x.getFloat4(at(r + 2, rows, in, i)), x.getFloat4(at(r + 2, rows, in, i) + 4));
        float s3 = sums.w() + w.dot(x.getFloat4(at(r + 3, rows, in, i)), x.getFloat4(at(r + 3, rows, in, i) + 4));
        return new Float4(s0, s1, s2, s3);
    }

    private static long at(int r, int rows, int in, int i) {
        return (long) Math.min(r, rows - 1) * in + i;
    }

    /** The warp's sums of rows {@code r .. r + 3}, written by lane 0 for the rows that exist. */
    private static void finish(KernelContext ctx, Float4 sums, F32Array bias, int hasBias, F32Array y, int r, int rows, int out,
            int o) {
        float b = hasBias != 0 ? bias.get(o) : 0f;
        float s0 = ctx.warpSum(sums.x()) + b;
        float s1 = ctx.warpSum(sums.y()) + b;
        float s2 = ctx.warpSum(sums.z()) + b;
        float s3 = ctx.warpSum(sums.w()) + b;
        if (ctx.laneId == 0) {
            y.set((long) r * out + o, s0);
            if (r + 1 < rows) y.set((long) (r + 1) * out + o, s1);
            if (r + 2 < rows) y.set((long) (r + 2) * out + o, s2);
            if (r + 3 < rows) y.set((long) (r + 3) * out + o, s3);
        }
    }
}
