package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The second launch of split-KV decode attention ({@link SplitKvDecode}): the partials of each
 * (sequence, query head) combined by the spec's log-sum-exp rule (retroinfer-spec.md §2.4), one warp
 * per head, each lane four dimensions. A separate launch because blocks cannot wait for each other.
 */
public final class SplitKvMerge {
    private SplitKvMerge() {}

    /**
     * Merges the {@code splits} partials of each (sequence, query head) by log-sum-exp and writes the
     * attention output and its lse (the lse lets a later partial, such as RetroInfer's estimation zone, be
     * merged in the same way). Launch on {@link DecodeAttentionShape#mergeGrid()}.
     */
    @Kernel
    public static void merge(KernelContext ctx, F32Array partialOut, F32Array partialLse, F32Array out, F32Array outLse,
            int splits, int group) {
        // No previous partial: lse −∞ and o = 0 weigh e^(−∞) = 0, so the result is the splits' alone.
        combine(ctx, partialOut, partialLse, out, outLse, splits, group, Float.NEGATIVE_INFINITY, new Float4(0f, 0f, 0f, 0f));
    }

    /**
     * {@link #merge} with one more partial per (sequence, query head) taken as an extra split, as the
     * weighted FlashAttention fork's {@code previous_out, previous_lse} (spec §2.4): {@code previousOut} and
     * {@code previousLse} have the outputs' layout, e.g. the estimation zone's {@code (out_E, lse_E)} from a
     * {@code partialsWeighted*} launch and its merge. A previous lse of −∞ adds nothing. {@code out} and
     * {@code outLse} must not alias the previous partial. Launch on {@link DecodeAttentionShape#mergeGrid()}.
     */
    @Kernel
    public static void mergeWithPrevious(KernelContext ctx, F32Array partialOut, F32Array partialLse, F32Array previousOut,
            F32Array previousLse, F32Array out, F32Array outLse, int splits, int group) {
        long head = ctx.groupIdx;
        combine(ctx, partialOut, partialLse, out, outLse, splits, group, previousLse.get(head),
                previousOut.getFloat4(head * HEAD_DIM + 4 * ctx.laneId));
    }

    /**
     * {@code lse = log(e^(extraLse) + Σ_s e^(lse_s))}, {@code o = e^(extraLse − lse)·extraOut + Σ_s e^(lse_s − lse)·o_s}
     * for head {@code groupIdx}, this lane's four dimensions.
     */
    private static void combine(KernelContext ctx, F32Array partialOut, F32Array partialLse, F32Array out, F32Array outLse,
            int splits, int group, float extraLse, Float4 extraOut) {
        int head = ctx.groupIdx; // sequence · queryHeads + query head
        int pair = head / group;
        long firstRow = (long) pair * splits * group + (head - pair * group);
        float max = extraLse;
        for (int s = 0; s < splits; s++) {
            max = Math.max(max, partialLse.get(firstRow + (long) s * group));
        }
        float total = KMath.exp(extraLse - max);
        for (int s = 0; s < splits; s++) {
            total += KMath.exp(partialLse.get(firstRow + (long) s * group) - max);
        }
        float lse = max + KMath.log(total);
        Float4 o = extraOut.scale(KMath.exp(extraLse - lse));
        for (int s = 0; s < splits; s++) {
            long row = firstRow + (long) s * group;
            // An empty split has lse −∞ and o = 0, so its weight e^(−∞) = 0 adds nothing.
            float weight = KMath.exp(partialLse.get(row) - lse);
            o = o.add(partialOut.getFloat4(row * HEAD_DIM + 4 * ctx.laneId).scale(weight));
        }
        out.setFloat4((long) head * HEAD_DIM + 4 * ctx.laneId, o);
        if (ctx.laneId == 0) {
            outLse.set(head, lse);
        }
    }
}
