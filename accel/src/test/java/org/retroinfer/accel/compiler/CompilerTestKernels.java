package org.retroinfer.accel.compiler;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I8Array;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.LaunchBounds;

/** Small kernels that pin down individual compiler rules. */
final class CompilerTestKernels {
    private CompilerTestKernels() {}

    /** One kernel for F16 and BF16 arrays: each launch compiles it for the array it passes. */
    @Kernel
    static void widenHalves(KernelContext ctx, HalfPrecisionArray in, F32Array out) {
        out.set(ctx.globalIdx, in.get(ctx.globalIdx));
    }

    @Kernel
    static void floatArithmetic(KernelContext ctx, float[] a, float[] b, float[] out) {
        int i = ctx.globalIdx;
        out[i] = a[i] * b[i] + a[i] / b[i];
    }

    @Kernel
    static void bytesDot(KernelContext ctx, int[] a, int[] b, int[] c, int[] out) {
        int i = ctx.globalIdx;
        out[i] = KMath.dp4a(a[i], b[i], c[i]);
    }

    /**
     * Ternaries of values computed before them, a nested one, a boolean one (Java's booleans are ints), and one whose arm
     * computes.
     */
    @Kernel
    static void ternaries(KernelContext ctx, int[] a, float[] x, int[] out, float[] y) {
        int i = ctx.globalIdx;
        int v = a[i];
        int w = v * 3;
        int u = v - 7;
        float f = x[i];
        float g = f * 0.5f;
        boolean small = v > -5 ? v < 5 : false;
        out[2 * i] = v > 0 ? w : u;
        out[2 * i + 1] = v > 10 ? w : v < -10 ? u : small ? 1 : v;
        y[2 * i] = (i & 1) != 0 ? f : g;
        y[2 * i + 1] = f > 0f ? f : -f * 2f;
    }

    /**
     * Divisions and remainders by powers of two (shifts), of values that cannot be negative (a shift or a mask), by 1,
     * and by other constants (divisions).
     */
    @Kernel
    static void constantDivisions(KernelContext ctx, int[] a, long[] b, int[] out, long[] wide) {
        int i = ctx.globalIdx;
        int x = a[i];
        long y = b[i];
        out[8 * i] = x / 8;
        out[8 * i + 1] = x % 8;
        out[8 * i + 2] = x / 1 + x % 1;
        out[8 * i + 3] = x / (1 << 30);
        out[8 * i + 4] = x / -4;
        out[8 * i + 5] = x % 3;
        out[8 * i + 6] = ctx.localIdx / 4 + (x & 0xFFFF) % 16;
        out[8 * i + 7] = Math.max(x, 0) / 32;
        wide[2 * i] = y / 16;
        wide[2 * i + 1] = y % (1L << 40);
    }

    /** A ballot of positive values, the lanes sharing a value's low two bits, and each lane's rank in the ballot. */
    @Kernel
    static void warpVotes(KernelContext ctx, int[] a, int[] out) {
        int i = ctx.globalIdx;
        int v = a[i];
        int mask = ctx.ballot(v > 0);
        out[3 * i] = mask;
        out[3 * i + 1] = ctx.matchAny(v & 3);
        out[3 * i + 2] = Integer.bitCount(mask & (1 << ctx.laneId) - 1);
    }

    @Kernel
    static void variableShift(KernelContext ctx, int[] a, int[] out, int s) {
        out[ctx.globalIdx] = a[ctx.globalIdx] >>> s;
    }

    @Kernel
    @LaunchBounds(maxThreads = 128, minBlocks = 4)
    static void bounded(KernelContext ctx, float[] a) {
        a[ctx.globalIdx] += 1f;
    }

    @Kernel
    static void javaMax(KernelContext ctx, float[] a, float[] out) {
        out[ctx.globalIdx] = Math.max(a[ctx.globalIdx], 0f);
    }

    /** RMSNorm's inverse root as the CPU model writes it, and a root only rounded to float. */
    @Kernel
    static void inverseRoot(KernelContext ctx, float[] a, float[] inverse, float[] root) {
        int i = ctx.globalIdx;
        inverse[i] = (float) (1.0 / Math.sqrt(a[i]));
        root[i] = (float) Math.sqrt(a[i]);
    }

    @Kernel
    static void specialised(KernelContext ctx, F32Array out, @Constant int n) {
        float[] scratch = ctx.allocateFloatLocalArray(n);
        scratch[ctx.localIdx % n] = ctx.localIdx;
        ctx.localBarrier();
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += scratch[i];
        }
        out.set(ctx.globalIdx, s);
    }

    @Kernel
    static void notUnrolled(KernelContext ctx, float[] out) {
        float s = 0f;
        KMath.noUnroll();
        for (int i = 0; i < 128; i++) {
            s = Math.fma(s, 0.5f, i);
        }
        out[ctx.globalIdx] = s;
    }

    /** A local that holds a shared array on one path and a global one on the other: a generic pointer. */
    @Kernel
    static void mixedSpaces(KernelContext ctx, float[] global, float[] out, int useShared) {
        float[] shared = ctx.allocateFloatLocalArray(64);
        shared[ctx.localIdx] = 2f * ctx.localIdx;
        ctx.localBarrier();
        float[] source = useShared != 0 ? shared : global;
        out[ctx.globalIdx] = source[ctx.localIdx] + 1f;
    }

    /** Narrow loads and stores: bytes, shorts, chars and halves, scalar and through typed arrays. */
    @Kernel
    static void narrowTypes(KernelContext ctx, byte[] bytes, short[] shorts, I8Array i8, F16Array half,
                            BF16Array brain, long[] wide, double[] doubles) {
        int i = ctx.globalIdx;
        bytes[i] = (byte) (bytes[i] + 1);
        shorts[i] = (short) (shorts[i] * 3);
        i8.set(i, (byte) (i8.get(i) >> 1));
        half.set(i, half.get(i) * 2f);
        brain.setBits(i, (short) (brain.getBits(i) ^ 0x8000));
        wide[i] = wide[i] * 3 + Double.doubleToRawLongBits(doubles[i]);
        doubles[i] = Math.sqrt(doubles[i]) + Math.max(doubles[i], 1.0);
    }

    // One Java conversion each, from a scalar parameter to out[0]: ConversionPtxTest runs their PTX through
    // a model of the PTX instructions and compares it with the JVM.

    @Kernel
    static void f2i(KernelContext ctx, float x, int[] out) {
        out[0] = (int) x;
    }

    @Kernel
    static void f2l(KernelContext ctx, float x, long[] out) {
        out[0] = (long) x;
    }

    @Kernel
    static void d2i(KernelContext ctx, double x, int[] out) {
        out[0] = (int) x;
    }

    @Kernel
    static void d2l(KernelContext ctx, double x, long[] out) {
        out[0] = (long) x;
    }

    @Kernel
    static void f2d(KernelContext ctx, float x, double[] out) {
        out[0] = x;
    }

    @Kernel
    static void d2f(KernelContext ctx, double x, float[] out) {
        out[0] = (float) x;
    }

    @Kernel
    static void i2f(KernelContext ctx, int x, float[] out) {
        out[0] = x;
    }

    @Kernel
    static void i2d(KernelContext ctx, int x, double[] out) {
        out[0] = x;
    }

    @Kernel
    static void l2f(KernelContext ctx, long x, float[] out) {
        out[0] = x;
    }

    @Kernel
    static void l2d(KernelContext ctx, long x, double[] out) {
        out[0] = x;
    }

    @Kernel
    static void l2i(KernelContext ctx, long x, int[] out) {
        out[0] = (int) x;
    }

    @Kernel
    static void i2l(KernelContext ctx, int x, long[] out) {
        out[0] = x;
    }

    @Kernel
    static void i2b(KernelContext ctx, int x, int[] out) {
        out[0] = (byte) x;
    }

    @Kernel
    static void i2s(KernelContext ctx, int x, int[] out) {
        out[0] = (short) x;
    }

    @Kernel
    static void i2c(KernelContext ctx, int x, int[] out) {
        out[0] = (char) x;
    }

    @Kernel
    static void absFloat(KernelContext ctx, float x, float[] out) {
        out[0] = Math.abs(x);
    }
}
