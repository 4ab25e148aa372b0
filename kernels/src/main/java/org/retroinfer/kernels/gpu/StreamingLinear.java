package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.LinearSums.add;
import static org.retroinfer.kernels.gpu.LinearSums.inputs;
import static org.retroinfer.kernels.gpu.LinearSums.zero;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * A linear layer for a step of a few rows (up to {@link #ROWS}; {@link LinearShape} picks {@link TiledLinear} for more),
 * {@code y[r][o] = Σ_i x[r][i] · W[o][i] (+ bias[o])}, with F32 activations, a
 * 16-bit or F32 weight matrix {@code [out][in]} (the checkpoint's own layout and type, so the GPU multiplies the
 * same numbers as {@link org.retroinfer.kernels.Matmul} on the CPU) and F32 sums. A block owns {@link #OUTPUTS}
 * consecutive outputs and serves {@link #ROWS} rows per pass: its threads stride along the four weight rows eight
 * elements (one 16-byte load each) at a time, so each warp takes every fourth 256-element piece of the rows; a
 * thread loads the same eight inputs of each row once for all four outputs and keeps sixteen sums, which warp sums
 * and then the four warps' partials (through shared memory) add up. Rows past the first four take further passes.
 * A tile of four by four does 16 eight-element dot products per 12 loads where one output
 * per warp did 4 per 9 (at Llama 3 8B's decode batch 15 on an H100 that kernel ran at 4.8 TFLOPS, bound by its
 * reads of x); splitting each row over four warps gives a 4096-output layer 4096 warps, where a warp per four outputs
 * left it a quarter of that and 4% of the copy bandwidth (docs/results/gpu-decoder). Decoding a few rows reads each
 * weight once, so the kernel streams the matrix. Each further pass reads the weights again (from DRAM: batch 15
 * took 4 passes, 23 ms a Llama 3 8B step on an H100, at ~2.8 TB/s), which is why more rows go to {@link TiledLinear}.
 *
 * <p>{@code half} takes F16 and BF16 weights alike (each launch is compiled for the array it passes), {@code f32} F32
 * weights. {@code in} must be a multiple of 8 (every Llama-family width is). {@code hasBias} 0 ignores {@code bias}
 * (pass any F32 array). Launch on {@link LinearShape#streamingGrid()}.
 */
public final class StreamingLinear {
    /** Threads per block: four warps sharing the block's outputs. */
    public static final int THREADS = 128;
    /** Outputs one warp owns. */
    public static final int OUTPUTS = 4;
    /** Rows one pass over the weights serves. */
    public static final int ROWS = 4;
    static final int WARPS = THREADS / KernelContext.WARP_SIZE;
    private static final int STRIDE = 8 * THREADS;
    /** Partial sums in shared memory: per warp, four outputs × four rows. */
    private static final int PARTIALS = OUTPUTS * ROWS;

    private StreamingLinear() {}

    @Kernel
    public static void half(KernelContext ctx, F32Array x, HalfPrecisionArray w, F32Array bias, F32Array y, int rows, int in,
            int out, int hasBias) {
        int first = OUTPUTS * ctx.groupIdx;
        if (first >= out) {
            return; // the whole block shares its outputs
        }
        // outputs past the last read the last one's row again (in bounds) and are never written
        float[] partials = ctx.allocateFloatLocalArray(WARPS * PARTIALS);
        long w0 = (long) first * in, w1 = (long) Math.min(first + 1, out - 1) * in;
        long w2 = (long) Math.min(first + 2, out - 1) * in, w3 = (long) Math.min(first + 3, out - 1) * in;
        for (int r = 0; r < rows; r += ROWS) {
            Float4 s0 = zero(), s1 = zero(), s2 = zero(), s3 = zero();
            for (int i = 8 * ctx.localIdx; i < in; i += STRIDE) {
                Float8 x0 = inputs(x, r, rows, in, i), x1 = inputs(x, r + 1, rows, in, i);
                Float8 x2 = inputs(x, r + 2, rows, in, i), x3 = inputs(x, r + 3, rows, in, i);
                s0 = add(s0, w.getFloat8(w0 + i), x0, x1, x2, x3);
                s1 = add(s1, w.getFloat8(w1 + i), x0, x1, x2, x3);
                s2 = add(s2, w.getFloat8(w2 + i), x0, x1, x2, x3);
                s3 = add(s3, w.getFloat8(w3 + i), x0, x1, x2, x3);
            }
            finish(ctx, partials, s0, s1, s2, s3, bias, hasBias, y, r, rows, out, first);
        }
    }

    @Kernel
    public static void f32(KernelContext ctx, F32Array x, F32Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias) {
        int first = OUTPUTS * ctx.groupIdx;
        if (first >= out) {
            return;
        }
        float[] partials = ctx.allocateFloatLocalArray(WARPS * PARTIALS);
        long w0 = (long) first * in, w1 = (long) Math.min(first + 1, out - 1) * in;
        long w2 = (long) Math.min(first + 2, out - 1) * in, w3 = (long) Math.min(first + 3, out - 1) * in;
        for (int r = 0; r < rows; r += ROWS) {
            Float4 s0 = zero(), s1 = zero(), s2 = zero(), s3 = zero();
            for (int i = 8 * ctx.localIdx; i < in; i += STRIDE) {
                Float8 x0 = inputs(x, r, rows, in, i), x1 = inputs(x, r + 1, rows, in, i);
                Float8 x2 = inputs(x, r + 2, rows, in, i), x3 = inputs(x, r + 3, rows, in, i);
                s0 = add(s0, inputs(w, w0 + i), x0, x1, x2, x3);
                s1 = add(s1, inputs(w, w1 + i), x0, x1, x2, x3);
                s2 = add(s2, inputs(w, w2 + i), x0, x1, x2, x3);
                s3 = add(s3, inputs(w, w3 + i), x0, x1, x2, x3);
            }
            finish(ctx, partials, s0, s1, s2, s3, bias, hasBias, y, r, rows, out, first);
        }
    }

    /**
     * Adds the block's sums: each warp's sixteen (output, row) sums over its lanes, then the four warps' partials, and
     * writes those of the outputs and rows that exist. The barriers also keep the next pass from overwriting partials
     * still being read.
     */
    private static void finish(KernelContext ctx, float[] partials, Float4 s0, Float4 s1, Float4 s2, Float4 s3, F32Array bias,
            int hasBias, F32Array y, int r, int rows, int out, int first) {
        publish(ctx, partials, 0, s0);
        publish(ctx, partials, ROWS, s1);
        publish(ctx, partials, 2 * ROWS, s2);
        publish(ctx, partials, 3 * ROWS, s3);
        ctx.localBarrier();
        if (ctx.localIdx < PARTIALS) {
            int o = first + ctx.localIdx / ROWS;
            int row = r + ctx.localIdx % ROWS;
            float sum = 0f;
            for (int w = 0; w < WARPS; w++) {
                sum += partials[w * PARTIALS + ctx.localIdx];
            }
            if (o < out && row < rows) {
                y.set((long) row * out + o, sum + (hasBias != 0 ? bias.get(o) : 0f));
            }
        }
        ctx.localBarrier();
    }

    /** One output's four row sums of this warp, summed over its lanes, into shared memory. */
    private static void publish(KernelContext ctx, float[] partials, int at, Float4 sums) {
        float a = ctx.warpSum(sums.x());
        float b = ctx.warpSum(sums.y());
        float c = ctx.warpSum(sums.z());
        float d = ctx.warpSum(sums.w());
        if (ctx.laneId == 0) {
            int base = ctx.warpId * PARTIALS + at;
            partials[base] = a;
            partials[base + 1] = b;
            partials[base + 2] = c;
            partials[base + 3] = d;
        }
    }
}
