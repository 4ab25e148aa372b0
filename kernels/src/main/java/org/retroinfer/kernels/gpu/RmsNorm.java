package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * RMSNorm of F32 rows, {@code out = x / sqrt(mean(x²) + eps) · weight}, the GPU twin of
 * {@link org.retroinfer.kernels.VectorMath#rmsNorm}: the same float operations in the same order except the
 * sum of squares, whose order follows the threads (so results agree within a few float roundings). The
 * weights are F32 because the CPU model holds its norm weights as floats ({@code LayerWeights}). {@code out}
 * may be {@code x}: each element is read and written by the same thread.
 */
public final class RmsNorm {
    /** Threads of a {@link #rows} block: a 4096-wide row is four 16-byte loads per thread. */
    public static final int ROW_THREADS = 256;
    /** Threads per head row of {@link #heads}: one warp, four of the 128 dimensions per lane. */
    public static final int HEAD_LANES = KernelContext.WARP_SIZE;
    /** Threads of a {@link #heads} block: four head rows. */
    public static final int HEAD_THREADS = 128;

    private RmsNorm() {}

    /**
     * Row {@code groupIdx} of {@code [rows][width]} ({@code width} a multiple of 4): each thread sums the
     * squares of its 16-byte pieces, the block adds them up by warp shuffles and one shared slot per warp,
     * and every thread scales its pieces. The second pass reads {@code x} again, from cache. Launch on
     * {@link DecodeLayerShape#normGrid()} (any block size that is a multiple of 32).
     */
    @Kernel
    public static void rows(KernelContext ctx, F32Array x, F32Array weight, F32Array out, int width, float eps) {
        float[] warpSums = ctx.allocateFloatLocalArray(KernelContext.WARP_SIZE);
        long base = (long) ctx.groupIdx * width;
        int step = 4 * ctx.localGroupSizeX;
        float sum = 0f;
        for (int i = 4 * ctx.localIdx; i < width; i += step) {
            Float4 v = x.getFloat4(base + i);
            sum += v.dot(v);
        }
        writeNormed(ctx, warpSums, sum, x, weight, out, base, width, eps);
    }

    /**
     * {@link ResidualAdd#add} and {@link #rows} in one launch: row {@code groupIdx}'s {@code x += y}, written back, then
     * the norm of the sum to {@code out}, with the same roundings as the two launches (each thread adds and squares its
     * own pieces, and its second pass reads back what it wrote). A decode step launches each pair 64 times for Llama 3
     * 8B's 32 layers, and each launch of a few microseconds' work costs its own gap in the stream. Launch on
     * {@link DecodeLayerShape#normGrid()}.
     */
    @Kernel
    public static void rowsAfterResidual(KernelContext ctx, F32Array x, F32Array y, F32Array weight, F32Array out, int width,
            float eps) {
        float[] warpSums = ctx.allocateFloatLocalArray(KernelContext.WARP_SIZE);
        long base = (long) ctx.groupIdx * width;
        int step = 4 * ctx.localGroupSizeX;
        float sum = 0f;
        for (int i = 4 * ctx.localIdx; i < width; i += step) {
            Float4 v = x.getFloat4(base + i).add(y.getFloat4(base + i));
            x.setFloat4(base + i, v);
            sum += v.dot(v);
        }
        writeNormed(ctx, warpSums, sum, x, weight, out, base, width, eps);
    }

    /**
     * The per-head form (Qwen3's q and k norms): {@code rows} rows of {@link DecodeAttentionShape#HEAD_DIM},
     * one {@code weight} of 128 shared by all; a warp per row, so the sum needs shuffles only. Launch on
     * {@link DecodeLayerShape#headNormGrid(int)}.
     */
    @Kernel
    public static void heads(KernelContext ctx, F32Array x, F32Array weight, F32Array out, int rows, float eps) {
        int row = ctx.globalIdx / HEAD_LANES;
        if (row >= rows) {
            return; // the whole warp shares the row, so it leaves together
        }
        long at = (long) row * HEAD_DIM + 4 * ctx.laneId;
        Float4 v = x.getFloat4(at);
        float inverse = inverseRms(ctx.warpSum(v.dot(v)), HEAD_DIM, eps);
        out.setFloat4(at, v.scale(inverse).mul(weight.getFloat4(4 * ctx.laneId)));
    }

    /**
     * The second pass of a row norm: the block's sum of this thread's {@code sumSquares}, then each of the thread's
     * pieces of row {@code x} at {@code base} scaled by the inverse RMS and {@code weight} into {@code out}.
     */
    private static void writeNormed(KernelContext ctx, float[] warpSums, float sumSquares, F32Array x, F32Array weight,
            F32Array out, long base, int width, float eps) {
        float inverse = inverseRms(blockSum(ctx, warpSums, sumSquares), width, eps);
        for (int i = 4 * ctx.localIdx; i < width; i += 4 * ctx.localGroupSizeX) {
            out.setFloat4(base + i, x.getFloat4(base + i).scale(inverse).mul(weight.getFloat4(i)));
        }
    }

    /** {@code 1 / sqrt(sumSquares / width + eps)} rounded as VectorMath.rmsNorm rounds it: in double. */
    private static float inverseRms(float sumSquares, int width, float eps) {
        return (float) (1.0 / Math.sqrt(sumSquares / width + eps));
    }

    /** The block's sum, returned to every thread: warp sums, one shared slot per warp, then one warp sum. */
    private static float blockSum(KernelContext ctx, float[] warpSums, float value) {
        float v = ctx.warpSum(value);
        if (ctx.laneId == 0) {
            warpSums[ctx.warpId] = v;
        }
        ctx.localBarrier();
        return ctx.warpSum(ctx.laneId < ctx.localGroupSizeX / KernelContext.WARP_SIZE ? warpSums[ctx.laneId] : 0f);
    }
}
