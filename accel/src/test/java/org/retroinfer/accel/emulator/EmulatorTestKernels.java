package org.retroinfer.accel.emulator;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/** Small kernels that pin down the emulator's execution model. */
final class EmulatorTestKernels {
    static final int BLOCK = 128;

    private EmulatorTestKernels() {}

    /** One partial sum per block: a shared-memory tree with a barrier per level. */
    @Kernel
    static void blockSums(KernelContext ctx, F32Array in, F32Array out, int n) {
        float[] partial = ctx.allocateFloatLocalArray(BLOCK);
        int i = ctx.globalIdx;
        partial[ctx.localIdx] = i < n ? in.get(i) : 0f;
        ctx.localBarrier();
        for (int stride = BLOCK / 2; stride > 0; stride >>= 1) {
            if (ctx.localIdx < stride) {
                partial[ctx.localIdx] += partial[ctx.localIdx + stride];
            }
            ctx.localBarrier();
        }
        if (ctx.localIdx == 0) {
            out.set(ctx.groupIdx, partial[0]);
        }
    }

    /** Each lane records what each shuffle mode gives it. */
    @Kernel
    static void shuffles(KernelContext ctx, int[] down, int[] up, int[] xor, int[] idx, int delta) {
        int v = ctx.globalIdx * 10;
        down[ctx.globalIdx] = ctx.shuffleDown(v, delta);
        up[ctx.globalIdx] = ctx.shuffleUp(v, delta);
        xor[ctx.globalIdx] = ctx.shuffleXor(v, delta);
        idx[ctx.globalIdx] = ctx.shuffleIdx(v, (ctx.laneId + delta) % 7);
    }

    @Kernel
    static void warpSums(KernelContext ctx, float[] in, float[] out) {
        float s = ctx.warpSum(in[ctx.globalIdx]);
        if (ctx.laneId == 0) {
            out[ctx.globalIdx / 32] = s;
        }
    }

    /** Threads of the upper half wait at a different barrier: undefined on the GPU. */
    @Kernel
    static void divergentBarrier(KernelContext ctx, float[] out) {
        if (ctx.localIdx < 16) {
            ctx.localBarrier();
        } else {
            out[ctx.localIdx] = 1f;
            ctx.localBarrier();
        }
    }

    /** Half a warp waits at a barrier for the other half, which waits at a shuffle for the first: a deadlock. */
    @Kernel
    static void barrierAgainstShuffle(KernelContext ctx, float[] out) {
        if (ctx.localIdx < 16) {
            ctx.localBarrier();
            out[ctx.localIdx] = 1f;
        } else {
            out[ctx.localIdx] = ctx.shuffleXor(1f, 1);
        }
    }

    /** Early return before a barrier is allowed: returned threads count as arrived. */
    @Kernel
    static void earlyReturnThenBarrier(KernelContext ctx, int[] out, int n) {
        int[] flags = ctx.allocateIntLocalArray(64);
        if (ctx.localIdx >= n) {
            return;
        }
        flags[ctx.localIdx] = ctx.localIdx + 1;
        ctx.localBarrier();
        out[ctx.localIdx] = flags[(ctx.localIdx + 1) % n];
    }

    @Kernel
    static void shuffleInPartialWarp(KernelContext ctx, float[] out) {
        out[ctx.localIdx] = ctx.shuffleDown(1f, 1);
    }

    @Kernel
    static void atomicHistogram(KernelContext ctx, int[] values, int[] bins, F32Array total, int n) {
        int i = ctx.globalIdx;
        if (i < n) {
            ctx.atomicAdd(bins, values[i] & 7, 1);
            ctx.atomicAdd(total, 0, 0.5f);
        }
    }

    @Kernel
    static void ids2d(KernelContext ctx, int[] out, int width) {
        out[ctx.globalIdy * width + ctx.globalIdx] = ctx.groupIdy * 1000 + ctx.localIdy * 100 + ctx.groupIdx * 10 + ctx.localIdx;
    }

    @Kernel
    static void outOfBounds(KernelContext ctx, float[] out) {
        out[ctx.globalIdx + 1] = 1f;
    }
}
