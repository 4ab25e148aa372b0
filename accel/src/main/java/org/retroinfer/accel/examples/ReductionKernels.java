package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * A sum in two passes, written for the bandwidth roofline: {@link #blockSums} streams the input with
 * 16-byte loads in a grid-stride loop over a grid sized from occupancy (a {@code Float4} accumulator keeps
 * four independent sums), then reduces each block with warp shuffles and one shared array (one partial per
 * block, no atomics, so the result is deterministic); {@link #finalSum} adds the partials in one block.
 * There is no barrier across blocks, hence the second launch. {@link BandwidthShapes} holds the unrolled
 * alternatives that {@code GpuCheck --sweep} compares with it.
 */
public final class ReductionKernels {
    private ReductionKernels() {}

    @Kernel
    public static void blockSums(KernelContext ctx, F32Array x, F32Array partials, long n) {
        long n4 = n & ~3L;
        long stride = 4L * ctx.globalGroupSizeX;
        Float4 acc = new Float4(0f, 0f, 0f, 0f);
        for (long i = 4L * ctx.globalIdx; i < n4; i += stride) {
            acc = acc.add(x.getFloat4(i));
        }
        float sum = acc.sum();
        long tail = n4 + ctx.globalIdx;
        if (tail < n) {
            sum += x.get(tail);
        }
        float total = blockSum(ctx, sum);
        if (ctx.localIdx == 0) {
            partials.set(ctx.groupIdx, total);
        }
    }

    /** Adds {@code count} partials; launch it as one block. */
    @Kernel
    public static void finalSum(KernelContext ctx, F32Array partials, F32Array result, int count) {
        float sum = 0f;
        for (int i = ctx.localIdx; i < count; i += ctx.localGroupSizeX) {
            sum += partials.get(i);
        }
        float total = blockSum(ctx, sum);
        if (ctx.localIdx == 0) {
            result.set(0, total);
        }
    }

    /**
     * The sum of {@code value} over the block, returned to every thread: a warp shuffle reduction, one
     * shared slot per warp, and a second shuffle reduction of the slots. The block size must be a multiple
     * of 32 (shuffles need full warps).
     */
    static float blockSum(KernelContext ctx, float value) {
        float[] warpTotals = ctx.allocateFloatLocalArray(32);
        float v = ctx.warpSum(value);
        if (ctx.laneId == 0) {
            warpTotals[ctx.warpId] = v;
        }
        ctx.localBarrier();
        int warps = ctx.localGroupSizeX >> 5;
        v = ctx.laneId < warps ? warpTotals[ctx.laneId] : 0f;
        v = ctx.warpSum(v);
        ctx.localBarrier();
        return v;
    }
}
