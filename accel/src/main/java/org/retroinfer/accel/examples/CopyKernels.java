package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Device-to-device copies: the bandwidth yardstick. {@link #copyScalar} is the naive version;
 * {@link #copyVectorized} is the shape that reaches the roofline: one 16-byte load and store per thread per
 * iteration of a grid-stride loop, with the grid sized from occupancy so that every SM is full. On the first
 * H100 run, four loads in flight at grid-stride distance (now {@link BandwidthShapes#copyFourStrided}) needed
 * 40 registers, fit only 6 blocks of 256 threads per SM, and reached 82% of cuMemcpyDtoD; saxpy, shaped
 * like {@link #copyVectorized}, reached 92%. {@code GpuCheck --sweep} compares the shapes on the GPU at hand.
 */
public final class CopyKernels {
    private CopyKernels() {}

    /** One float per thread per iteration, grid-stride. */
    @Kernel
    public static void copyScalar(KernelContext ctx, F32Array src, F32Array dst, long n) {
        long stride = ctx.globalGroupSizeX;
        for (long i = ctx.globalIdx; i < n; i += stride) {
            dst.set(i, src.get(i));
        }
    }

    /**
     * One {@code Float4} per thread per iteration: consecutive threads touch consecutive 16-byte chunks, so
     * every warp moves 512 contiguous bytes per access. Arrays must be 16-byte aligned; any {@code n} is fine
     * (the last {@code n % 4} floats are copied one by one).
     */
    @Kernel
    public static void copyVectorized(KernelContext ctx, F32Array src, F32Array dst, long n) {
        long n4 = n & ~3L;
        long stride = 4L * ctx.globalGroupSizeX;
        for (long i = 4L * ctx.globalIdx; i < n4; i += stride) {
            dst.setFloat4(i, src.getFloat4(i));
        }
        long tail = n4 + ctx.globalIdx;
        if (tail < n) {
            dst.set(tail, src.get(tail));
        }
    }
}
