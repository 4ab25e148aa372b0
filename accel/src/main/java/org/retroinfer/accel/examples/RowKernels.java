package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/** Row-wise kernels of the kind an inference engine runs: softmax and a bfloat16 matrix-vector product. */
public final class RowKernels {
    private RowKernels() {}

    /**
     * Numerically stable softmax of each row (one block per row): the row maximum, the sum of
     * {@code exp(x - max)}, then the normalised values. The reductions are block-wide (shuffles plus one
     * shared slot per warp), so the block size must be a multiple of 32.
     */
    @Kernel
    public static void softmaxRows(KernelContext ctx, F32Array in, F32Array out, int cols) {
        long base = (long) ctx.groupIdx * cols;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = ctx.localIdx; c < cols; c += ctx.localGroupSizeX) {
            max = Math.max(max, in.get(base + c));
        }
        max = blockMax(ctx, max);
        float sum = 0f;
        for (int c = ctx.localIdx; c < cols; c += ctx.localGroupSizeX) {
            sum += KMath.exp(in.get(base + c) - max);
        }
        float scale = 1f / ReductionKernels.blockSum(ctx, sum);
        for (int c = ctx.localIdx; c < cols; c += ctx.localGroupSizeX) {
            out.set(base + c, KMath.exp(in.get(base + c) - max) * scale);
        }
    }

    private static float blockMax(KernelContext ctx, float value) {
        float[] warpMax = ctx.allocateFloatLocalArray(32);
        float v = ctx.warpMax(value);
        if (ctx.laneId == 0) {
            warpMax[ctx.warpId] = v;
        }
        ctx.localBarrier();
        v = ctx.laneId < (ctx.localGroupSizeX >> 5) ? warpMax[ctx.laneId] : Float.NEGATIVE_INFINITY;
        v = ctx.warpMax(v);
        ctx.localBarrier();
        return v;
    }

    /**
     * {@code y = W x} for a row-major bfloat16 {@code W} of {@code rows × cols}: one warp per row, each lane
     * reading eight weights (16 bytes) per step, so a warp streams 512 contiguous bytes of the row. The
     * column count is a {@link Constant}: each model dimension gets its own PTX with a constant trip count.
     * {@code cols} must be a multiple of 8.
     */
    @Kernel
    public static void matVecBf16(KernelContext ctx, BF16Array w, F32Array x, F32Array y, int rows, @Constant int cols) {
        int row = ctx.globalIdx >> 5;
        if (row >= rows) {
            return; // the whole warp shares the row, so it leaves together
        }
        long base = (long) row * cols;
        float acc = 0f;
        for (int c = ctx.laneId * 8; c < cols; c += 256) {
            Float8 wv = w.getFloat8(base + c);
            Float4 x0 = x.getFloat4(c);
            Float4 x1 = x.getFloat4(c + 4);
            acc += wv.dot(x0, x1);
        }
        acc = ctx.warpSum(acc);
        if (ctx.laneId == 0) {
            y.set(row, acc);
        }
    }
}
