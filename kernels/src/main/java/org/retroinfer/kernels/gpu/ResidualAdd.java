package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The residual connection {@code x += y}: the GPU twin of {@link org.retroinfer.kernels.VectorMath#addInPlace},
 * bit for bit.
 */
public final class ResidualAdd {
    private ResidualAdd() {}

    /**
     * Over the first {@code n} elements (a multiple of 4), four per 16-byte access in a grid-stride loop.
     * Launch on {@link DecodeLayerShape#residualGrid()}.
     */
    @Kernel
    public static void add(KernelContext ctx, F32Array x, F32Array y, long n) {
        long stride = 4L * ctx.globalGroupSizeX;
        for (long i = 4L * ctx.globalIdx; i < n; i += stride) {
            x.setFloat4(i, x.getFloat4(i).add(y.getFloat4(i)));
        }
    }
}
