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
     * Columns {@code to .. to + columns − 1} of {@code y} (rows × {@code out}, row-major) from columns
     * {@code from .. from + columns − 1} of {@code sums}, the GEMM of both parts: {@code rows} rows of the high parts'
     * products, then as many of the low parts', each {@code stride} apart; plus {@code bias[to + c]} where
     * {@code withBias} is 1. One GEMM over layers stacked along its outputs (a layer's q, k and v) is summed into each
     * layer's own {@code y} this way. One element a thread, grid-stride.
     */
    @Kernel
    public static void sumParts(KernelContext ctx, F32Array sums, F32Array bias, F32Array y, int rows, int columns, int stride,
                                int from, int out, int to, int withBias) {
        long n = (long) rows * columns;
        long low = (long) rows * stride;
        for (long e = ctx.globalIdx; e < n; e += ctx.globalGroupSizeX) {
            int row = (int) (e / columns), column = (int) (e % columns);
            long at = (long) row * stride + from + column;
            float value = sums.get(at) + sums.get(low + at);
            if (withBias != 0) {
                value += bias.get(to + column);
            }
            y.set((long) row * out + to + column, value);
        }
    }

    /**
     * SwiGLU straight from the GEMM of both parts over a gate and an up projection stacked along its outputs:
     * {@code y[r][c] = silu(g) · u} with {@code g} the sum of both parts' column {@code c} and {@code u} of column
     * {@code width + c} ({@code rows} rows of high parts' products, then the low parts', each {@code 2·width} apart), as
     * {@link SwiGlu#apply} computes it from the two layers' outputs. One element a thread, grid-stride.
     */
    @Kernel
    public static void gatedParts(KernelContext ctx, F32Array sums, F32Array y, int rows, int width) {
        long n = (long) rows * width;
        long stride = 2L * width;
        long low = rows * stride;
        for (long e = ctx.globalIdx; e < n; e += ctx.globalGroupSizeX) {
            long row = e / width, column = e % width;
            long at = row * stride + column;
            float gate = sums.get(at) + sums.get(low + at);
            float up = sums.get(at + width) + sums.get(low + at + width);
            y.set(e, SwiGlu.silu(gate) * up);
        }
    }
}
