package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * A linear layer on tensor cores for a decode batch of 17 to {@link #ROWS} rows, {@code y[r][o] = Σ_i x[r][i] · W[o][i]
 * (+ bias[o])}, BF16 weights, F32 inputs and outputs, multiplied as {@link TensorCoreLinear} does (each input split
 * into two bfloat16 parts, {@link SplitBf16}) but with the work laid out so that past one row group the weights and
 * the inputs are each read from L2 about once.
 *
 * <p>Why: {@link TensorCoreLinear} gives a block 16 rows and 32 outputs and splits the inputs among its warps, so each
 * row group re-reads the weights, and each output block re-reads the inputs, which are F32 and as many bytes as the
 * weights it multiplies. At 45 rows (three row groups) that is six times the weights' bytes through L2 for each pass
 * over them, and the kernel moved the weights at 1.2-1.4 TB/s against 2.3-2.8 TB/s at 15 rows (LinearGpuCheck, H100,
 * docs/results/gpu-retro). Here a warp keeps its 16 outputs' weights of a chunk in registers and applies them to every
 * row group in turn, and a block's {@link #WARPS} warps take neighbouring outputs over the same inputs, so the inputs
 * of a chunk come from L2 once a block and from L1 for its other warps.
 *
 * <p>A block is {@link #OUTPUTS} outputs wide, too few blocks for the SMs where a matrix has few outputs (4096 outputs
 * are 32 blocks), so the inputs are also split among {@code splits} blocks ({@code in / splits} a multiple of
 * {@link #CHUNK}), each writing its sums to {@code partials[split][row][o]}, which {@link #sum} adds in split order
 * (deterministic, no atomics) with the bias. With one split the block writes {@code y} itself. {@link LinearShape}
 * picks the split count and launches both.
 *
 * <p>Lane {@code (g, t)} ({@code g = lane / 4}, {@code t = lane % 4}) numbers a chunk's inputs as
 * {@link TensorCoreLinear} does: it reads inputs {@code 16t .. 16t + 15} of weight rows {@code g} and {@code g + 8}
 * (two 16-byte loads each) and of input rows {@code g} and {@code g + 8} of each row group (four 16-byte loads each);
 * rows past the last read the last row again, in bounds, never written.
 */
public final class SplitKLinear {
    /** Rows of a row group: the {@code mma}'s m. */
    static final int GROUP = 16;
    /** The most rows: four row groups, each warp holding their sums in 32 registers. */
    public static final int ROWS = 4 * GROUP;
    /** Warps of a block, each taking {@link #WARP_OUTPUTS} neighbouring outputs over the same inputs. */
    public static final int WARPS = 8;
    /** Outputs of a warp: two {@code mma} tiles of 8. */
    static final int WARP_OUTPUTS = 16;
    /** Outputs of a block. */
    public static final int OUTPUTS = WARPS * WARP_OUTPUTS;
    /** Inputs a warp takes at a time: four {@code mma} depths of 16. */
    public static final int CHUNK = 64;
    /** Threads of a {@link #sum} block. */
    static final int SUM_THREADS = 256;

    private SplitKLinear() {}

    /** Blocks of {@link #bf16}: {@code (out / OUTPUTS) × splits}, the splits of an output block at consecutive indices. */
    public static Grid grid(int out, int splits) {
        return Grid.of(outputBlocks(out) * splits, WARPS * KernelContext.WARP_SIZE);
    }

    /** {@link #sum}'s grid: a thread an output element. */
    public static Grid sumGrid(int rows, int out) {
        return Grid.of((int) (((long) rows * out + SUM_THREADS - 1) / SUM_THREADS), SUM_THREADS);
    }

    static int outputBlocks(int out) {
        return (out + OUTPUTS - 1) / OUTPUTS;
    }

    @Kernel
    public static void bf16(KernelContext ctx, F32Array x, BF16Array w, F32Array bias, F32Array y, F32Array partials, int rows,
            int in, int out, int hasBias, int splits) {
        int split = ctx.groupIdx % splits, warp = ctx.localIdx / KernelContext.WARP_SIZE;
        int first = OUTPUTS * (ctx.groupIdx / splits) + WARP_OUTPUTS * warp;
        int g = ctx.laneId / 4, lane16 = 16 * (ctx.laneId % 4), groups = (rows + GROUP - 1) / GROUP;
        int span = in / splits, begin = span * split;
        long w0 = weightRow(first + g, out, in) + lane16, w1 = weightRow(first + 8 + g, out, in) + lane16;
        long x0 = inputRow(g, rows, in) + lane16, x8 = inputRow(g + 8, rows, in) + lane16;
        long x16 = inputRow(g + 16, rows, in) + lane16, x24 = inputRow(g + 24, rows, in) + lane16;
        long x32 = inputRow(g + 32, rows, in) + lane16, x40 = inputRow(g + 40, rows, in) + lane16;
        long x48 = inputRow(g + 48, rows, in) + lane16, x56 = inputRow(g + 56, rows, in) + lane16;
        Float8 c0 = zero(), c1 = zero(), c2 = zero(), c3 = zero();
        for (int k = begin; k < begin + span; k += CHUNK) {
            Int4 p0 = w.getWords(w0 + k), q0 = w.getWords(w0 + k + 8), p1 = w.getWords(w1 + k), q1 = w.getWords(w1 + k + 8);
            c0 = rowGroup(ctx, x, c0, x0 + k, x8 + k, p0, q0, p1, q1);
            if (groups > 1) {
                c1 = rowGroup(ctx, x, c1, x16 + k, x24 + k, p0, q0, p1, q1);
            }
            if (groups > 2) {
                c2 = rowGroup(ctx, x, c2, x32 + k, x40 + k, p0, q0, p1, q1);
            }
            if (groups > 3) {
                c3 = rowGroup(ctx, x, c3, x48 + k, x56 + k, p0, q0, p1, q1);
            }
        }
        // with one split the sums are final: y and the bias; else this split's partial sums
        F32Array target = splits == 1 ? y : partials;
        long base = splits == 1 ? 0L : (long) split * rows * out;
        int withBias = splits == 1 ? hasBias : 0;
        int o = first + 2 * (ctx.laneId % 4);
        store(target, bias, withBias, base, c0, g, o, rows, out);
        if (groups > 1) {
            store(target, bias, withBias, base, c1, g + 16, o, rows, out);
        }
        if (groups > 2) {
            store(target, bias, withBias, base, c2, g + 32, o, rows, out);
        }
        if (groups > 3) {
            store(target, bias, withBias, base, c3, g + 48, o, rows, out);
        }
    }

    /** {@code y[r][o] = Σ_split partials[split][r][o] (+ bias[o])}, the splits added in order. */
    @Kernel
    public static void sum(KernelContext ctx, F32Array partials, F32Array bias, F32Array y, int rows, int out, int hasBias,
            int splits) {
        long e = (long) ctx.groupIdx * ctx.localGroupSizeX + ctx.localIdx, n = (long) rows * out;
        if (e < n) {
            float s = partials.get(e);
            for (int split = 1; split < splits; split++) {
                s += partials.get(split * n + e);
            }
            y.set(e, s + (hasBias != 0 ? bias.get((int) (e % out)) : 0f));
        }
    }

    /**
     * One row group's products for a chunk: input rows at {@code xg} and {@code xg8} (this lane's 16 inputs of each) times
     * the two tiles' weights ({@code p0, q0}: outputs {@code g}, {@code p1, q1}: outputs {@code g + 8}), added to
     * {@code c} (tile 0 in {@code s0..s3}, tile 1 in {@code s4..s7}).
     */
    private static Float8 rowGroup(KernelContext ctx, F32Array x, Float8 c, long xg, long xg8, Int4 p0, Int4 q0, Int4 p1,
            Int4 q1) {
        Float4 a0 = x.getFloat4(xg), b0 = x.getFloat4(xg8), a1 = x.getFloat4(xg + 4), b1 = x.getFloat4(xg8 + 4);
        Float4 a2 = x.getFloat4(xg + 8), b2 = x.getFloat4(xg8 + 8), a3 = x.getFloat4(xg + 12), b3 = x.getFloat4(xg8 + 12);
        Float4 t0 = new Float4(c.s0(), c.s1(), c.s2(), c.s3()), t1 = new Float4(c.s4(), c.s5(), c.s6(), c.s7());
        // depth s: inputs 16t + 4s .. 16t + 4s + 3 of rows g and g + 8, and the matching two words of each weight row
        Int4 hi = SplitBf16.pack(a0, b0), lo = SplitBf16.lowPart(a0, b0, hi);
        t0 = SplitBf16.mma(ctx, t0, hi, lo, p0.x(), p0.y());
        t1 = SplitBf16.mma(ctx, t1, hi, lo, p1.x(), p1.y());
        hi = SplitBf16.pack(a1, b1);
        lo = SplitBf16.lowPart(a1, b1, hi);
        t0 = SplitBf16.mma(ctx, t0, hi, lo, p0.z(), p0.w());
        t1 = SplitBf16.mma(ctx, t1, hi, lo, p1.z(), p1.w());
        hi = SplitBf16.pack(a2, b2);
        lo = SplitBf16.lowPart(a2, b2, hi);
        t0 = SplitBf16.mma(ctx, t0, hi, lo, q0.x(), q0.y());
        t1 = SplitBf16.mma(ctx, t1, hi, lo, q1.x(), q1.y());
        hi = SplitBf16.pack(a3, b3);
        lo = SplitBf16.lowPart(a3, b3, hi);
        t0 = SplitBf16.mma(ctx, t0, hi, lo, q0.z(), q0.w());
        t1 = SplitBf16.mma(ctx, t1, hi, lo, q1.z(), q1.w());
        return new Float8(t0.x(), t0.y(), t0.z(), t0.w(), t1.x(), t1.y(), t1.z(), t1.w());
    }

    /**
     * A row group's sums from one lane: rows {@code r} and {@code r + 8}, outputs {@code o, o + 1} (tile 0) and
     * {@code o + 8, o + 9} (tile 1), at {@code target[base + row · out + output]}.
     */
    private static void store(F32Array target, F32Array bias, int hasBias, long base, Float8 c, int r, int o, int rows, int out) {
        put(target, bias, hasBias, base, r, o, c.s0(), rows, out);
        put(target, bias, hasBias, base, r, o + 1, c.s1(), rows, out);
        put(target, bias, hasBias, base, r + 8, o, c.s2(), rows, out);
        put(target, bias, hasBias, base, r + 8, o + 1, c.s3(), rows, out);
        put(target, bias, hasBias, base, r, o + 8, c.s4(), rows, out);
        put(target, bias, hasBias, base, r, o + 9, c.s5(), rows, out);
        put(target, bias, hasBias, base, r + 8, o + 8, c.s6(), rows, out);
        put(target, bias, hasBias, base, r + 8, o + 9, c.s7(), rows, out);
    }

    private static void put(F32Array target, F32Array bias, int hasBias, long base, int r, int o, float v, int rows, int out) {
        if (r < rows && o < out) {
            target.set(base + (long) r * out + o, v + (hasBias != 0 ? bias.get(o) : 0f));
        }
    }

    /** Where input row {@code r} starts; rows past the last read the last one's (in bounds, never written). */
    private static long inputRow(int r, int rows, int in) {
        return (long) Math.min(r, rows - 1) * in;
    }

    /** Where output {@code o}'s weights start; outputs past the last read the last one's (in bounds, never written). */
    private static long weightRow(int o, int out, int in) {
        return (long) Math.min(o, out - 1) * in;
    }

    private static Float8 zero() {
        return new Float8(0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
    }
}
