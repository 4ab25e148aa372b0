package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * A linear layer for a prompt chunk on tensor cores, {@code y[r][o] = Σ_i x[r][i] · W[o][i] (+ bias[o])}, with BF16
 * weights and F32 inputs and outputs: {@link TensorCoreLinear}'s arithmetic (each input split {@code hi + lo} into two
 * bfloat16 parts, both multiplied) and its operand numbering, over a larger warp tile. {@link TensorCoreLinear} gives a
 * warp 16 rows × 32 outputs, right for a decode batch, whose weights must stream from DRAM across many blocks; at a
 * prompt chunk's thousands of rows that tile loads one 16-byte operand per two {@code mma} and reads the whole matrix
 * from L2 once per 16 rows. Here a warp holds 32 rows × 32 outputs (8 accumulator tiles): per chunk of 64 inputs it
 * loads its four weight rows' words once and each row tile's inputs once, 24 loads per 64 {@code mma}, and the matrix
 * is read once per 32 rows. (64 rows a warp, 16 tiles, need more than 255 registers once each chunk's sums have their
 * own accumulators, below.) A block's four warps share their 32 rows (their inputs come from L1) and take 128
 * consecutive outputs; the row groups of an output block are consecutive block indices, so all but the first find its
 * weights in L2. Each chunk's sums start from zero and are added to the running sums in F32 on the CUDA cores: the
 * tensor cores' own accumulation rounds less well, and a chain of 896 {@code mma} over 14,336 inputs erred by 1.1e-4
 * of the outputs' scale on an H100 (under 5e-5 for 4096 inputs), against 1e-5 for F32 sums.
 *
 * <p>Lane {@code (g, t)} ({@code g = lane / 4}, {@code t = lane % 4}) reads inputs {@code 16t … 16t + 15} of each chunk
 * of rows {@code g} and {@code g + 8} of each row tile and of its weight rows {@code g, g + 8, g + 16, g + 24}; at depth
 * {@code s} its operands are inputs {@code 16t + 4s … 16t + 4s + 3}, as in {@link TensorCoreLinear}. Rows past
 * {@code rows} read the last row and outputs past {@code out} the last weight row (in bounds, never written).
 * {@code in} must be a multiple of {@link #CHUNK}; {@code hasBias} 0 ignores {@code bias}. Launch on {@link #grid}.
 */
public final class TensorCoreGemm {
    /** Rows of a block (and of each of its warps): two {@code mma} row tiles. */
    public static final int ROWS = 32;
    /** Outputs of a warp: four {@code mma} tiles of 8. */
    static final int WARP_OUTPUTS = 32;
    /** Warps of a block, side by side along the outputs. */
    static final int WARPS = 4;
    /** Outputs of a block. */
    public static final int OUTPUTS = WARPS * WARP_OUTPUTS;
    /** Inputs a warp takes at a time: four {@code mma} depths of 16. */
    public static final int CHUNK = 64;

    private TensorCoreGemm() {}

    /** Blocks of {@code rows} rows and {@code out} outputs. */
    public static long blocks(int rows, int out) {
        return (long) ((rows + ROWS - 1) / ROWS) * ((out + OUTPUTS - 1) / OUTPUTS);
    }

    /** The grid over {@code rows} rows and {@code out} outputs. */
    public static Grid grid(int rows, int out) {
        return Grid.of((int) blocks(rows, out), WARPS * KernelContext.WARP_SIZE);
    }

    @Kernel
    public static void bf16(KernelContext ctx, F32Array x, BF16Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias) {
        int groups = (rows + ROWS - 1) / ROWS;
        int firstRow = ROWS * (ctx.groupIdx % groups);
        int first = OUTPUTS * (ctx.groupIdx / groups) + WARP_OUTPUTS * ctx.warpId;
        int g = ctx.laneId / 4, lane16 = 16 * (ctx.laneId % 4);
        long w0 = weightRow(first + g, out, in) + lane16, w1 = weightRow(first + 8 + g, out, in) + lane16;
        long w2 = weightRow(first + 16 + g, out, in) + lane16, w3 = weightRow(first + 24 + g, out, in) + lane16;
        long x0 = inputRow(firstRow + g, rows, in) + lane16, x1 = inputRow(firstRow + 8 + g, rows, in) + lane16;
        long x2 = inputRow(firstRow + 16 + g, rows, in) + lane16, x3 = inputRow(firstRow + 24 + g, rows, in) + lane16;
        // c<m><n>: row tile m (rows 16m + g, 16m + g + 8), output tile n (outputs 8n + 2t, 8n + 2t + 1)
        Float4 c00 = zero(), c01 = zero(), c02 = zero(), c03 = zero(), c10 = zero(), c11 = zero(), c12 = zero(), c13 = zero();
        for (int k = 0; k < in; k += CHUNK) {
            Int4 p0 = w.getWords(w0 + k), q0 = w.getWords(w0 + k + 8), p1 = w.getWords(w1 + k), q1 = w.getWords(w1 + k + 8);
            Int4 p2 = w.getWords(w2 + k), q2 = w.getWords(w2 + k + 8), p3 = w.getWords(w3 + k), q3 = w.getWords(w3 + k + 8);
            // row tile 0: both parts of each depth's A operand, then its four output tiles
            Float4 a = x.getFloat4(x0 + k), b = x.getFloat4(x1 + k);
            Int4 h0 = SplitBf16.pack(a, b), l0 = SplitBf16.lowPart(a, b, h0);
            a = x.getFloat4(x0 + k + 4);
            b = x.getFloat4(x1 + k + 4);
            Int4 h1 = SplitBf16.pack(a, b), l1 = SplitBf16.lowPart(a, b, h1);
            a = x.getFloat4(x0 + k + 8);
            b = x.getFloat4(x1 + k + 8);
            Int4 h2 = SplitBf16.pack(a, b), l2 = SplitBf16.lowPart(a, b, h2);
            a = x.getFloat4(x0 + k + 12);
            b = x.getFloat4(x1 + k + 12);
            Int4 h3 = SplitBf16.pack(a, b), l3 = SplitBf16.lowPart(a, b, h3);
            c00 = add(c00, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p0, q0));
            c01 = add(c01, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p1, q1));
            c02 = add(c02, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p2, q2));
            c03 = add(c03, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p3, q3));
            // row tile 1
            a = x.getFloat4(x2 + k);
            b = x.getFloat4(x3 + k);
            h0 = SplitBf16.pack(a, b);
            l0 = SplitBf16.lowPart(a, b, h0);
            a = x.getFloat4(x2 + k + 4);
            b = x.getFloat4(x3 + k + 4);
            h1 = SplitBf16.pack(a, b);
            l1 = SplitBf16.lowPart(a, b, h1);
            a = x.getFloat4(x2 + k + 8);
            b = x.getFloat4(x3 + k + 8);
            h2 = SplitBf16.pack(a, b);
            l2 = SplitBf16.lowPart(a, b, h2);
            a = x.getFloat4(x2 + k + 12);
            b = x.getFloat4(x3 + k + 12);
            h3 = SplitBf16.pack(a, b);
            l3 = SplitBf16.lowPart(a, b, h3);
            c10 = add(c10, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p0, q0));
            c11 = add(c11, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p1, q1));
            c12 = add(c12, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p2, q2));
            c13 = add(c13, times(ctx, h0, l0, h1, l1, h2, l2, h3, l3, p3, q3));
        }
        int o = first + 2 * (ctx.laneId % 4);
        store(y, bias, hasBias, rows, out, firstRow + g, o, c00, c01, c02, c03);
        store(y, bias, hasBias, rows, out, firstRow + 16 + g, o, c10, c11, c12, c13);
    }

    /**
     * One row tile (both parts of depths 0 … 3: {@code h<s>}, {@code l<s>}) times one output tile's weights ({@code p}:
     * depths 0 and 1, {@code q}: 2 and 3): one chunk's sums, which the caller adds to its running ones in F32.
     */
    private static Float4 times(KernelContext ctx, Int4 h0, Int4 l0, Int4 h1, Int4 l1, Int4 h2, Int4 l2, Int4 h3,
            Int4 l3, Int4 p, Int4 q) {
        Float4 c = SplitBf16.mma(ctx, zero(), h0, l0, p.x(), p.y());
        c = SplitBf16.mma(ctx, c, h1, l1, p.z(), p.w());
        c = SplitBf16.mma(ctx, c, h2, l2, q.x(), q.y());
        return SplitBf16.mma(ctx, c, h3, l3, q.z(), q.w());
    }

    private static Float4 add(Float4 a, Float4 b) {
        return new Float4(a.x() + b.x(), a.y() + b.y(), a.z() + b.z(), a.w() + b.w());
    }

    /** Rows {@code row} and {@code row + 8}'s outputs {@code o + 8n}, {@code + 1} of tiles n = 0 … 3, where they exist. */
    private static void store(F32Array y, F32Array bias, int hasBias, int rows, int out, int row, int o, Float4 c0, Float4 c1,
            Float4 c2, Float4 c3) {
        pair(y, bias, hasBias, rows, out, row, o, c0.x(), c0.y(), c0.z(), c0.w());
        pair(y, bias, hasBias, rows, out, row, o + 8, c1.x(), c1.y(), c1.z(), c1.w());
        pair(y, bias, hasBias, rows, out, row, o + 16, c2.x(), c2.y(), c2.z(), c2.w());
        pair(y, bias, hasBias, rows, out, row, o + 24, c3.x(), c3.y(), c3.z(), c3.w());
    }

    /** Outputs {@code o}, {@code o + 1} of rows {@code row} ({@code x, y}) and {@code row + 8} ({@code z, w}). */
    private static void pair(F32Array y, F32Array bias, int hasBias, int rows, int out, int row, int o, float x0, float y0,
            float x8, float y8) {
        float b0 = hasBias != 0 && o < out ? bias.get(o) : 0f, b1 = hasBias != 0 && o + 1 < out ? bias.get(o + 1) : 0f;
        if (row < rows) {
            if (o < out) y.set((long) row * out + o, x0 + b0);
            if (o + 1 < out) y.set((long) row * out + o + 1, y0 + b1);
        }
        if (row + 8 < rows) {
            if (o < out) y.set((long) (row + 8) * out + o, x8 + b0);
            if (o + 1 < out) y.set((long) (row + 8) * out + o + 1, y8 + b1);
        }
    }

    private static long weightRow(int o, int out, int in) {
        return (long) Math.min(o, out - 1) * in;
    }

    private static long inputRow(int r, int rows, int in) {
        return (long) Math.min(r, rows - 1) * in;
    }

    private static Float4 zero() {
        return new Float4(0f, 0f, 0f, 0f);
    }
}
