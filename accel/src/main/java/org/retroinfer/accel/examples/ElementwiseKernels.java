package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/** Element-wise kernels: saxpy with vector accesses, 16-bit float conversions, and an atomic histogram. */
public final class ElementwiseKernels {
    private ElementwiseKernels() {}

    /** {@code y = a * x + y}, four floats per access; {@code n} must be a multiple of 4. */
    @Kernel
    public static void saxpy(KernelContext ctx, float a, F32Array x, F32Array y, long n) {
        long stride = 4L * ctx.globalGroupSizeX;
        for (long i = 4L * ctx.globalIdx; i < n; i += stride) {
            Float4 xv = x.getFloat4(i);
            Float4 yv = y.getFloat4(i);
            y.setFloat4(i, xv.scale(a).add(yv));
        }
    }

    /**
     * Rounds floats to half and bfloat16 (eight at a time, one 16-byte store each) and reads them back as
     * floats: {@code n} must be a multiple of 8.
     */
    @Kernel
    public static void roundToHalves(KernelContext ctx, F32Array in, F16Array half, BF16Array brain, F32Array halfBack,
                                     F32Array brainBack, long n) {
        long i = 8L * ctx.globalIdx;
        if (i >= n) {
            return;
        }
        Float4 lo = in.getFloat4(i);
        Float4 hi = in.getFloat4(i + 4);
        Float8 v = new Float8(lo.x(), lo.y(), lo.z(), lo.w(), hi.x(), hi.y(), hi.z(), hi.w());
        half.setFloat8(i, v);
        brain.setFloat8(i, v);
        Float8 h = half.getFloat8(i);
        Float8 b = brain.getFloat8(i);
        halfBack.setFloat4(i, new Float4(h.s0(), h.s1(), h.s2(), h.s3()));
        halfBack.setFloat4(i + 4, new Float4(h.s4(), h.s5(), h.s6(), h.s7()));
        brainBack.setFloat4(i, new Float4(b.s0(), b.s1(), b.s2(), b.s3()));
        brainBack.setFloat4(i + 4, new Float4(b.s4(), b.s5(), b.s6(), b.s7()));
    }

    /** Counts {@code values[i] & (bins - 1)}; {@code bins} must be a power of two. */
    @Kernel
    public static void histogram(KernelContext ctx, I32Array values, I32Array counts, int bins, long n) {
        long stride = ctx.globalGroupSizeX;
        for (long i = ctx.globalIdx; i < n; i += stride) {
            ctx.atomicAdd(counts, values.get(i) & (bins - 1), 1);
        }
    }
}
