package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Greedy decoding's choice on the GPU: the index of each row's largest logit, so that a decode step downloads one int
 * per sequence instead of its whole row of logits (128K floats at Llama 3's vocabulary, which the host would then scan
 * on one thread: at a batch of 56 that is 28 MB and several milliseconds a step with the GPU idle).
 *
 * <p>The index is {@link #of}'s: the first of the row's largest values, NaN counting as smaller than everything and a
 * row with no value above −∞ giving 0, which is what a scan keeping the first strictly larger value gives on finite
 * logits.
 */
public final class RowArgmax {
    /** Threads a block at most: one block a row. */
    public static final int THREADS = 1024;
    private static final int WARPS = THREADS / KernelContext.WARP_SIZE;

    private RowArgmax() {}

    /** Launch shape for rows of {@code n} values: one block a row, of {@link #THREADS}, or fewer for short rows. */
    public static Grid grid(int rows, int n) {
        int warps = Math.clamp((n + KernelContext.WARP_SIZE - 1) / KernelContext.WARP_SIZE, 1, WARPS);
        return Grid.of(rows, warps * KernelContext.WARP_SIZE);
    }

    /** {@code out[r]} = the index of row r's largest value of {@code x} ({@code [rows][n]}); launch on {@link #grid}. */
    @Kernel
    public static void rows(KernelContext ctx, F32Array x, I32Array out, int n) {
        float[] warpBest = ctx.allocateFloatLocalArray(WARPS);
        int[] warpAt = ctx.allocateIntLocalArray(WARPS);
        long base = (long) ctx.groupIdx * n;
        float best = Float.NEGATIVE_INFINITY;
        int at = Integer.MAX_VALUE; // none yet; loses every tie
        // a thread's indices rise, so keeping only strictly larger values keeps the first of its maxima
        for (int i = ctx.localIdx; i < n; i += ctx.localGroupSizeX) {
            float v = x.get(base + i);
            if (v > best) {
                best = v;
                at = i;
            }
        }
        for (int offset = 16; offset > 0; offset /= 2) {
            float otherBest = ctx.shuffleXor(best, offset);
            int otherAt = ctx.shuffleXor(at, offset);
            if (beats(otherBest, otherAt, best, at)) {
                best = otherBest;
                at = otherAt;
            }
        }
        if (ctx.laneId == 0) {
            warpBest[ctx.warpId] = best;
            warpAt[ctx.warpId] = at;
        }
        ctx.localBarrier();
        if (ctx.localIdx == 0) {
            int warps = ctx.localGroupSizeX / KernelContext.WARP_SIZE;
            for (int w = 1; w < warps; w++) {
                if (beats(warpBest[w], warpAt[w], best, at)) {
                    best = warpBest[w];
                    at = warpAt[w];
                }
            }
            out.set(ctx.groupIdx, at == Integer.MAX_VALUE ? 0 : at);
        }
    }

    /** Whether the candidate {@code (value, index)} goes before the current best: larger, or as large and earlier. */
    private static boolean beats(float value, int index, float best, int at) {
        return value > best || value == best && index < at;
    }

    /** The CPU definition: the first index of the largest of {@code x[from, from + n)} (see the class comment). */
    public static int of(float[] x, int from, int n) {
        int at = -1;
        float best = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (x[from + i] > best) {
                best = x[from + i];
                at = i;
            }
        }
        return Math.max(at, 0);
    }
}
