package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.KernelContext;

/** Prefix sums over a warp's lanes, for kernels: every lane of the warp must call them together. */
final class WarpScan {
    private WarpScan() {}

    /** Σ of {@code value} over lanes 0 … laneId of the warp (Hillis–Steele by shuffles). */
    static int inclusiveSum(KernelContext ctx, int value) {
        int sum = value;
        for (int delta = 1; delta < KernelContext.WARP_SIZE; delta <<= 1) {
            int below = ctx.shuffleUp(sum, delta);
            if (ctx.laneId >= delta) {
                sum += below;
            }
        }
        return sum;
    }
}
