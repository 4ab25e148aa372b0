package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The feed-forward's gated activation in place, {@code gate = silu(gate) · up} with
 * {@code silu(g) = g / (1 + e^−g)}: the GPU twin of {@link org.retroinfer.kernels.VectorMath#swiglu}, the
 * same operations in the same order, so results differ only by the exponential's rounding (the GPU's
 * {@link KMath#exp} is within 2 ulp).
 */
public final class SwiGlu {
    private SwiGlu() {}

    /**
     * Over the first {@code n} elements (a multiple of 4; the step's {@code [batch][intermediate]}), four
     * per 16-byte access in a grid-stride loop. Launch on {@link DecodeLayerShape#swigluGrid()}.
     */
    @Kernel
    public static void apply(KernelContext ctx, F32Array gate, F32Array up, long n) {
        long stride = 4L * ctx.globalGroupSizeX;
        for (long i = 4L * ctx.globalIdx; i < n; i += stride) {
            Float4 g = gate.getFloat4(i);
            Float4 u = up.getFloat4(i);
            gate.setFloat4(i, new Float4(silu(g.x()) * u.x(), silu(g.y()) * u.y(), silu(g.z()) * u.z(), silu(g.w()) * u.w()));
        }
    }

    /** {@code g · sigmoid(g)}. */
    static float silu(float g) {
        return g / (1f + KMath.exp(-g));
    }
}
