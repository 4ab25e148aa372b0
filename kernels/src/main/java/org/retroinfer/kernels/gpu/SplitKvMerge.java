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
     * for head {@code groupIdx}, this lane's four dimensions. The lanes share the splits' lse (lane {@code i}
     * reads splits {@code i, i + 32, ...}), and the outputs are read four splits per step: with a serial
     * load per split a merge of 66 splits took longer than the partials it merged.
     */
    private static void combine(KernelContext ctx, F32Array partialOut, F32Array partialLse, F32Array out, F32Array outLse,
            int splits, int group, float extraLse, Float4 extraOut) {
        int head = ctx.groupIdx; // sequence · queryHeads + query head
        int pair = head / group;
        long firstRow = (long) pair * splits * group + (head - pair * group);
        float laneMax = Float.NEGATIVE_INFINITY;
        for (int s = ctx.laneId; s < splits; s += KernelContext.WARP_SIZE) {
            laneMax = Math.max(laneMax, partialLse.get(firstRow + (long) s * group));
        }
        float max = Math.max(extraLse, ctx.warpMax(laneMax));
        // Where every partial is empty (a group with no estimation clusters) the result is lse −∞ and o = 0, not
        // the NaN of −∞ − (−∞): shift by 0 then, and weigh every (empty) partial e^(−∞ − 0) = 0.
        float shift = max == Float.NEGATIVE_INFINITY ? 0f : max;
        float laneTotal = 0f;
        for (int s = ctx.laneId; s < splits; s += KernelContext.WARP_SIZE) {
            laneTotal += KMath.exp(partialLse.get(firstRow + (long) s * group) - shift);
        }
        float lse = shift + KMath.log(KMath.exp(extraLse - shift) + ctx.warpSum(laneTotal));
        float base = lse == Float.NEGATIVE_INFINITY ? 0f : lse;
        // An empty split has lse −∞ and o = 0, so its weight e^(−∞) = 0 adds nothing.
        Float4 o = extraOut.scale(KMath.exp(extraLse - base));
        long dims = 4L * ctx.laneId;
        int s = 0;
        for (; s + 4 <= splits; s += 4) {
            long r0 = firstRow + (long) s * group;
            long r1 = r0 + group;
            long r2 = r1 + group;
            long r3 = r2 + group;
            Float4 o0 = partialOut.getFloat4(r0 * HEAD_DIM + dims);
            Float4 o1 = partialOut.getFloat4(r1 * HEAD_DIM + dims);
            Float4 o2 = partialOut.getFloat4(r2 * HEAD_DIM + dims);
            Float4 o3 = partialOut.getFloat4(r3 * HEAD_DIM + dims);
            float w0 = KMath.exp(partialLse.get(r0) - base);
            float w1 = KMath.exp(partialLse.get(r1) - base);
            float w2 = KMath.exp(partialLse.get(r2) - base);
            float w3 = KMath.exp(partialLse.get(r3) - base);
            o = o.add(o0.scale(w0)).add(o1.scale(w1)).add(o2.scale(w2)).add(o3.scale(w3));
        }
        for (; s < splits; s++) {
            long row = firstRow + (long) s * group;
            o = o.add(partialOut.getFloat4(row * HEAD_DIM + dims).scale(KMath.exp(partialLse.get(row) - base)));
        }
        out.setFloat4((long) head * HEAD_DIM + dims, o);
        if (ctx.laneId == 0) {
            outLse.set(head, lse);
        }
    }
}
