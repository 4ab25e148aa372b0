package org.retroinfer.accel.compiler;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/** Kernels that use what the GPU cannot do; each must be refused with its line and a hint. */
final class RejectedKernels {
    static int counter;
    static final float SCALE = computeScale();

    private RejectedKernels() {}

    private static float computeScale() {
        return 0.5f;
    }

    @Kernel
    static void allocatesArray(KernelContext ctx, float[] out) {
        float[] tmp = new float[4];
        out[ctx.globalIdx] = tmp[0];
    }

    @Kernel
    static void allocatesObject(KernelContext ctx, float[] out) {
        StringBuilder sb = new StringBuilder();
        out[ctx.globalIdx] = sb.length();
    }

    @Kernel
    static void catchesException(KernelContext ctx, int[] out) {
        try {
            out[ctx.globalIdx] = 10 / out[ctx.globalIdx];
        } catch (ArithmeticException e) {
            out[ctx.globalIdx] = 0;
        }
    }

    @Kernel
    static void throwsException(KernelContext ctx, int[] out) {
        if (out[ctx.globalIdx] < 0) {
            throw new IllegalStateException("negative");
        }
    }

    @Kernel
    static void synchronizes(KernelContext ctx, int[] out) {
        synchronized (RejectedKernels.class) {
            out[ctx.globalIdx] = 1;
        }
    }

    @Kernel
    static void readsArrayLength(KernelContext ctx, float[] out) {
        if (ctx.globalIdx < out.length) {
            out[ctx.globalIdx] = 1f;
        }
    }

    @Kernel
    static void callsUnsupportedMath(KernelContext ctx, float[] out) {
        out[ctx.globalIdx] = (float) Math.sin(out[ctx.globalIdx]);
    }

    @Kernel
    static void expOfDouble(KernelContext ctx, double[] out) {
        out[ctx.globalIdx] = Math.exp(out[ctx.globalIdx]);
    }

    @Kernel
    static void recurses(KernelContext ctx, int[] out) {
        out[ctx.globalIdx] = factorial(out[ctx.globalIdx]);
    }

    private static int factorial(int n) {
        return n <= 1 ? 1 : n * factorial(n - 1);
    }

    @Kernel
    static void writesStaticField(KernelContext ctx, int[] out) {
        counter = out[ctx.globalIdx];
    }

    @Kernel
    static void readsMutableStaticField(KernelContext ctx, int[] out) {
        out[ctx.globalIdx] = counter;
    }

    @Kernel
    static void buildsString(KernelContext ctx, int[] out, int n) {
        String s = "n=" + n;
        out[ctx.globalIdx] = s.hashCode();
    }

    @Kernel
    static void usesLambda(KernelContext ctx, int[] out) {
        java.util.function.IntUnaryOperator twice = v -> 2 * v;
        out[ctx.globalIdx] = twice.applyAsInt(out[ctx.globalIdx]);
    }

    @Kernel
    static void sharedArrayOfRuntimeSize(KernelContext ctx, float[] out, int n) {
        float[] buf = ctx.allocateFloatLocalArray(n);
        buf[ctx.localIdx] = 1f;
        out[ctx.globalIdx] = buf[0];
    }

    @Kernel
    static void callsTypedArrayLength(KernelContext ctx, F32Array out) {
        if (ctx.globalIdx < out.length()) {
            out.set(ctx.globalIdx, 1f);
        }
    }

    @Kernel
    static void usesFloatRemainder(KernelContext ctx, float[] out) {
        out[ctx.globalIdx] = out[ctx.globalIdx] % 3f;
    }

    @Kernel
    static void tooMuchSharedMemory(KernelContext ctx, float[] out) {
        float[] a = ctx.allocateFloatLocalArray(8192);
        float[] b = ctx.allocateFloatLocalArray(8192);
        out[ctx.globalIdx] = a[ctx.localIdx] + b[ctx.localIdx];
    }

    /** Not rejected: a static final float initialised at run time is read at compile time. */
    @Kernel
    static void readsComputedConstant(KernelContext ctx, float[] out) {
        out[ctx.globalIdx] *= SCALE;
    }

    /** Which array a call reads is decided at run time: the compiler cannot tell F16 from BF16. */
    @Kernel
    static void choosesAHalfArray(KernelContext ctx, HalfPrecisionArray a, HalfPrecisionArray b, F32Array out, int which) {
        HalfPrecisionArray chosen = which == 0 ? a : b;
        out.set(ctx.globalIdx, chosen.get(ctx.globalIdx));
    }
}
