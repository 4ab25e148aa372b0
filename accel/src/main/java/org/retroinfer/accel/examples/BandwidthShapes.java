package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Other shapes of the streaming copy and sum than {@link CopyKernels#copyVectorized} and
 * {@link ReductionKernels#blockSums}, which {@code GpuCheck --sweep} times side by side on the GPU: four
 * 16-byte loads in flight per thread, either a whole grid apart ({@code Strided}) or a block apart
 * ({@code Tiled}, so that each block walks one contiguous tile), and a copy without a loop, one
 * {@code Float4} per thread over a grid that covers the array. All take any {@code n} and 16-byte aligned
 * arrays.
 */
public final class BandwidthShapes {
    private BandwidthShapes() {}

    /** Four loads, each a grid-stride apart, issued before the first store (the first H100 run's copy). */
    @Kernel
    public static void copyFourStrided(KernelContext ctx, F32Array src, F32Array dst, long n) {
        long n4 = n & ~3L;
        long stride = 4L * ctx.globalGroupSizeX;
        long i = 4L * ctx.globalIdx;
        for (; i + 3 * stride < n4; i += 4 * stride) {
            Float4 a = src.getFloat4(i);
            Float4 b = src.getFloat4(i + stride);
            Float4 c = src.getFloat4(i + 2 * stride);
            Float4 d = src.getFloat4(i + 3 * stride);
            dst.setFloat4(i, a);
            dst.setFloat4(i + stride, b);
            dst.setFloat4(i + 2 * stride, c);
            dst.setFloat4(i + 3 * stride, d);
        }
        for (; i < n4; i += stride) {
            dst.setFloat4(i, src.getFloat4(i));
        }
        copyTail(ctx, src, dst, n4, n);
    }

    /**
     * Four loads a block apart: each block copies a tile of four block-widths of {@code Float4}s, then
     * moves on by the whole grid's tiles. The tile that straddles the end is finished one load at a time.
     */
    @Kernel
    public static void copyFourTiled(KernelContext ctx, F32Array src, F32Array dst, long n) {
        long n4 = n & ~3L;
        long quarter = 4L * ctx.localGroupSizeX;
        long i = 4 * quarter * ctx.groupIdx + 4L * ctx.localIdx;
        long step = 4 * quarter * ctx.numGroupsX;
        for (; i + 3 * quarter < n4; i += step) {
            Float4 a = src.getFloat4(i);
            Float4 b = src.getFloat4(i + quarter);
            Float4 c = src.getFloat4(i + 2 * quarter);
            Float4 d = src.getFloat4(i + 3 * quarter);
            dst.setFloat4(i, a);
            dst.setFloat4(i + quarter, b);
            dst.setFloat4(i + 2 * quarter, c);
            dst.setFloat4(i + 3 * quarter, d);
        }
        for (; i < n4; i += quarter) {
            dst.setFloat4(i, src.getFloat4(i));
        }
        copyTail(ctx, src, dst, n4, n);
    }

    /** No loop: thread {@code t} copies floats {@code 4t} to {@code 4t + 3}; launch at least {@code n / 4} threads. */
    @Kernel
    public static void copyOnePerThread(KernelContext ctx, F32Array src, F32Array dst, long n) {
        long i = 4L * ctx.globalIdx;
        if (i + 3 < n) {
            dst.setFloat4(i, src.getFloat4(i));
        } else {
            for (; i < n; i++) {
                dst.set(i, src.get(i));
            }
        }
    }

    /** Four accumulators fed by loads a grid-stride apart (the first H100 run's sum). */
    @Kernel
    public static void sumFourStrided(KernelContext ctx, F32Array x, F32Array partials, long n) {
        long n4 = n & ~3L;
        long stride = 4L * ctx.globalGroupSizeX;
        long i = 4L * ctx.globalIdx;
        Float4 acc0 = new Float4(0f, 0f, 0f, 0f);
        Float4 acc1 = acc0;
        Float4 acc2 = acc0;
        Float4 acc3 = acc0;
        for (; i + 3 * stride < n4; i += 4 * stride) {
            acc0 = acc0.add(x.getFloat4(i));
            acc1 = acc1.add(x.getFloat4(i + stride));
            acc2 = acc2.add(x.getFloat4(i + 2 * stride));
            acc3 = acc3.add(x.getFloat4(i + 3 * stride));
        }
        for (; i < n4; i += stride) {
            acc0 = acc0.add(x.getFloat4(i));
        }
        writePartial(ctx, x, partials, acc0.add(acc1).add(acc2.add(acc3)).sum(), n4, n);
    }

    /** Four accumulators fed by loads a block apart, tile by tile as in {@link #copyFourTiled}. */
    @Kernel
    public static void sumFourTiled(KernelContext ctx, F32Array x, F32Array partials, long n) {
        long n4 = n & ~3L;
        long quarter = 4L * ctx.localGroupSizeX;
        long i = 4 * quarter * ctx.groupIdx + 4L * ctx.localIdx;
        long step = 4 * quarter * ctx.numGroupsX;
        Float4 acc0 = new Float4(0f, 0f, 0f, 0f);
        Float4 acc1 = acc0;
        Float4 acc2 = acc0;
        Float4 acc3 = acc0;
        for (; i + 3 * quarter < n4; i += step) {
            acc0 = acc0.add(x.getFloat4(i));
            acc1 = acc1.add(x.getFloat4(i + quarter));
            acc2 = acc2.add(x.getFloat4(i + 2 * quarter));
            acc3 = acc3.add(x.getFloat4(i + 3 * quarter));
        }
        for (; i < n4; i += quarter) {
            acc0 = acc0.add(x.getFloat4(i));
        }
        writePartial(ctx, x, partials, acc0.add(acc1).add(acc2.add(acc3)).sum(), n4, n);
    }

    /** The last {@code n % 4} floats, one per thread of the first few. */
    private static void copyTail(KernelContext ctx, F32Array src, F32Array dst, long n4, long n) {
        long tail = n4 + ctx.globalIdx;
        if (tail < n) {
            dst.set(tail, src.get(tail));
        }
    }

    /** Adds the tail, reduces the block and writes its partial, as {@link ReductionKernels#blockSums} does. */
    private static void writePartial(KernelContext ctx, F32Array x, F32Array partials, float sum, long n4, long n) {
        long tail = n4 + ctx.globalIdx;
        float s = tail < n ? sum + x.get(tail) : sum;
        float total = ReductionKernels.blockSum(ctx, s);
        if (ctx.localIdx == 0) {
            partials.set(ctx.groupIdx, total);
        }
    }
}
