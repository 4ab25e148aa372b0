package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The two kernels around {@link BlasLinear}'s GEMM: F32 activations into their two bfloat16 parts (as {@link SplitBf16}
 * splits them for the project's own tensor-core kernels), and the two parts' products added back into the layer's
 * outputs.
 */
public final class LinearParts {
    private LinearParts() {}

    /**
     * {@code x}'s first {@code n} elements (a multiple of 8) into {@code parts}: {@code hi = bf16(x)} in elements
     * {@code 0 .. n − 1}, {@code lo = bf16(x − hi)} in {@code n .. 2n − 1}; eight a thread in a grid-stride loop.
     */
    @Kernel
    public static void toParts(KernelContext ctx, F32Array x, BF16Array parts, long n) {
        long stride = 8L * ctx.globalGroupSizeX;
        for (long i = 8L * ctx.globalIdx; i < n; i += stride) {
            Float4 a = x.getFloat4(i);
            Float4 b = x.getFloat4(i + 4);
            parts.setFloat8(i, new Float8(a.x(), a.y(), a.z(), a.w(), b.x(), b.y(), b.z(), b.w()));
            parts.setFloat8(n + i, new Float8(residual(a.x()), residual(a.y()), residual(a.z()), residual(a.w()), residual(b.x()),
                    residual(b.y()), residual(b.z()), residual(b.w())));
        }
    }

    /** {@code v} less its rounding to bfloat16: exact in float. */
    static float residual(float v) {
        return v - KMath.bf16ToFloat(KMath.floatToBf16(v));
    }

    /**
     * Columns {@code from .. from + columns − 1} of {@code y} (rows × {@code out}, row-major) from {@code sums}, the GEMM
     * of both parts: {@code rows × columns} sums of the high parts, then as many of the low parts, each row
     * {@code columns} apart; plus {@code bias} where {@code withBias} is 1. One element a thread, grid-stride.
     */
    @Kernel
    public static void sumParts(KernelContext ctx, F32Array sums, F32Array bias, F32Array y, int rows, int columns, int out, int from,
                                int withBias) {
        long n = (long) rows * columns;
        for (long e = ctx.globalIdx; e < n; e += ctx.globalGroupSizeX) {
            int row = (int) (e / columns), column = (int) (e % columns);
            float value = sums.get(e) + sums.get(n + e);
            if (withBias != 0) {
                value += bias.get(from + column);
            }
            y.set((long) row * out + from + column, value);
        }
    }
}
