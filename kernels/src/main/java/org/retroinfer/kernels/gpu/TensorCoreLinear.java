package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * A linear layer on tensor cores for a decode batch, {@code y[r][o] = Σ_i x[r][i] · W[o][i] (+ bias[o])}, with BF16
 * weights and F32 inputs and outputs, as {@link TiledLinear} computes it but with {@link KernelContext#mmaBf16} doing
 * the multiplications: a decode step's linear layers then read their weights at close to DRAM speed whatever the batch
 * (up to 16 rows a row group), instead of being bound by CUDA-core FMAs past a few rows.
 *
 * <p>F32 inputs on BF16 tensor cores: each input is split into {@code hi = bf16(x)} and {@code lo = bf16(x - hi)} (the
 * difference exact in float) and both are multiplied, so the sums see {@code hi + lo}, within about 2<sup>-17</sup> of
 * {@code x}, where one bfloat16 would be within 2<sup>-9</sup>. What remains is the tensor cores' own summation, which
 * is not F32's: on an H100 the outputs differ from the CPU's F32 sums by up to 0.9-1.9e-5 of their scale, ten times
 * what the F32 kernels do. Neither a third part ({@code bf16(x - hi - lo)}, within 2<sup>-26</sup>: 0.5-1.8e-5) nor
 * adding each 64-input chunk's sums in F32 on the CUDA cores (0.9-1.2e-5) took it down to F32's, and both cost time
 * (docs/results/gpu-retro/tensor-cores). That error is far below the bfloat16 weights' own rounding, and greedy tokens
 * stay the CPU path's.
 *
 * <p>Warp tile: 16 rows (one {@code mma}'s m; a row group's missing rows read the last row again, in bounds, never
 * written) by {@link #OUTPUTS} outputs ({@link #TILES} {@code mma} tiles of 8). The warp walks the inputs
 * {@link #CHUNK} at a time, four {@code mma} depths, numbering each chunk's inputs so that every lane's operands are
 * contiguous in memory: lane {@code (g, t)} ({@code g = lane / 4}, {@code t = lane % 4}) reads inputs
 * {@code 16t .. 16t + 15} of the chunk, of weight rows {@code g, g + 8, g + 16, g + 24} (two 16-byte loads each, a
 * tile's four lanes 64 contiguous bytes of each row) and of input rows {@code g} and {@code g + 8} (four 16-byte
 * loads each); at depth {@code s} its operands are inputs {@code 16t + 4s .. 16t + 4s + 3}. A and B use the same
 * numbering, which is all the sum over k asks ({@link org.retroinfer.accel.kernel.MmaBf16}).
 *
 * <p>Block: {@code blockDim.x / 32} warps (up to {@link #MAX_WARPS}) split the inputs chunk by chunk (warp {@code w}
 * takes chunks {@code w, w + warps, ...}, so the block streams neighbouring memory) and add their tiles through shared
 * memory at the end. The row groups of one output block are consecutive block indices, as in {@link TiledLinear}, so
 * all but the first find the weights in L2. {@code in} must be a multiple of {@link #CHUNK}; {@code hasBias} 0 ignores
 * {@code bias}. Launch on {@link LinearShape#grid()}.
 */
public final class TensorCoreLinear {
    /** Rows of a row group: the {@code mma}'s m. */
    public static final int ROWS = 16;
    /** {@code mma} tiles of 8 outputs a warp owns. */
    static final int TILES = 4;
    /** Outputs of a block. */
    public static final int OUTPUTS = 8 * TILES;
    /** Inputs a warp takes at a time: four {@code mma} depths of 16. */
    public static final int CHUNK = 64;
    /** Warps a block may have. */
    public static final int MAX_WARPS = 16;
    /** Warps' tiles the shared memory holds; the warps past them hand theirs over (see {@link #multiply}). */
    private static final int SLOTS = 8;
    /** One warp's sums in shared memory: {@code [row][output]}. */
    private static final int TILE = ROWS * OUTPUTS;

    private TensorCoreLinear() {}

    @Kernel
    public static void bf16(KernelContext ctx, F32Array x, BF16Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias) {
        multiply(ctx, x, w, bias, y, rows, in, out, hasBias, rows, out, out);
    }

    /**
     * {@link #bf16} over stacked weights (layers of one input one after another along the outputs, as q, k and v, or
     * gate and up), each part's outputs to a matrix of its own: outputs {@code 0 .. split1 - 1}, {@code split1 .. split2 - 1}
     * and {@code split2 .. out - 1} are three parts (the last empty where {@code split2 == out}), and output {@code o} of
     * part {@code [s, e)} goes to {@code y[capacity·s + row·(e - s) + o - s]}: each part a {@code [capacity][e - s]}
     * matrix, the next part after it, so that the parts are slices of {@code y} for a workspace of {@code capacity} rows.
     * One launch then covers what would be three, and narrow layers (k and v) no longer leave most SMs idle; {@code bias},
     * where {@code hasBias} is 1, is stacked as the weights are.
     */
    @Kernel
    public static void bf16Stacked(KernelContext ctx, F32Array x, BF16Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias, int capacity, int split1, int split2) {
        multiply(ctx, x, w, bias, y, rows, in, out, hasBias, capacity, split1, split2);
    }

    private static void multiply(KernelContext ctx, F32Array x, BF16Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias, int capacity, int split1, int split2) {
        int groups = (rows + ROWS - 1) / ROWS;
        int firstRow = ROWS * (ctx.groupIdx % groups), first = OUTPUTS * (ctx.groupIdx / groups);
        int warps = ctx.localGroupSizeX / KernelContext.WARP_SIZE, warp = ctx.localIdx / KernelContext.WARP_SIZE;
        int g = ctx.laneId / 4, lane16 = 16 * (ctx.laneId % 4);
        long x0 = (long) Math.min(firstRow + g, rows - 1) * in + lane16, x8 = (long) Math.min(firstRow + g + 8, rows - 1) * in + lane16;
        long w0 = weightRow(first + g, out, in) + lane16, w1 = weightRow(first + 8 + g, out, in) + lane16;
        long w2 = weightRow(first + 16 + g, out, in) + lane16, w3 = weightRow(first + 24 + g, out, in) + lane16;
        Float4 c0 = zero(), c1 = zero(), c2 = zero(), c3 = zero();
        for (int k = CHUNK * warp; k < in; k += CHUNK * warps) {
            Int4 p0 = w.getWords(w0 + k), q0 = w.getWords(w0 + k + 8), p1 = w.getWords(w1 + k), q1 = w.getWords(w1 + k + 8);
            Int4 p2 = w.getWords(w2 + k), q2 = w.getWords(w2 + k + 8), p3 = w.getWords(w3 + k), q3 = w.getWords(w3 + k + 8);
            Float4 a0 = x.getFloat4(x0 + k), b0 = x.getFloat4(x8 + k), a1 = x.getFloat4(x0 + k + 4), b1 = x.getFloat4(x8 + k + 4);
            Float4 a2 = x.getFloat4(x0 + k + 8), b2 = x.getFloat4(x8 + k + 8), a3 = x.getFloat4(x0 + k + 12), b3 = x.getFloat4(x8 + k + 12);
            // depth s: inputs 16t + 4s .. 16t + 4s + 3 of rows g and g + 8, and the matching two words of each weight row
            Int4 hi = SplitBf16.pack(a0, b0), lo = SplitBf16.lowPart(a0, b0, hi);
            c0 = SplitBf16.mma(ctx, c0, hi, lo, p0.x(), p0.y());
            c1 = SplitBf16.mma(ctx, c1, hi, lo, p1.x(), p1.y());
            c2 = SplitBf16.mma(ctx, c2, hi, lo, p2.x(), p2.y());
            c3 = SplitBf16.mma(ctx, c3, hi, lo, p3.x(), p3.y());
            hi = SplitBf16.pack(a1, b1);
            lo = SplitBf16.lowPart(a1, b1, hi);
            c0 = SplitBf16.mma(ctx, c0, hi, lo, p0.z(), p0.w());
            c1 = SplitBf16.mma(ctx, c1, hi, lo, p1.z(), p1.w());
            c2 = SplitBf16.mma(ctx, c2, hi, lo, p2.z(), p2.w());
            c3 = SplitBf16.mma(ctx, c3, hi, lo, p3.z(), p3.w());
            hi = SplitBf16.pack(a2, b2);
            lo = SplitBf16.lowPart(a2, b2, hi);
            c0 = SplitBf16.mma(ctx, c0, hi, lo, q0.x(), q0.y());
            c1 = SplitBf16.mma(ctx, c1, hi, lo, q1.x(), q1.y());
            c2 = SplitBf16.mma(ctx, c2, hi, lo, q2.x(), q2.y());
            c3 = SplitBf16.mma(ctx, c3, hi, lo, q3.x(), q3.y());
            hi = SplitBf16.pack(a3, b3);
            lo = SplitBf16.lowPart(a3, b3, hi);
            c0 = SplitBf16.mma(ctx, c0, hi, lo, q0.z(), q0.w());
            c1 = SplitBf16.mma(ctx, c1, hi, lo, q1.z(), q1.w());
            c2 = SplitBf16.mma(ctx, c2, hi, lo, q2.z(), q2.w());
            c3 = SplitBf16.mma(ctx, c3, hi, lo, q3.z(), q3.w());
        }
        // past SLOTS warps, warp w + SLOTS parks its sums in slot w for warp w to add its own: the shared memory of
        // eight warps' tiles serves sixteen, and blocks of four warps keep their occupancy
        float[] partials = ctx.allocateFloatLocalArray(SLOTS * TILE);
        if (warps > SLOTS) {
            if (warp >= SLOTS) {
                publish(ctx, partials, warp - SLOTS, 0, c0, 0);
                publish(ctx, partials, warp - SLOTS, 8, c1, 0);
                publish(ctx, partials, warp - SLOTS, 16, c2, 0);
                publish(ctx, partials, warp - SLOTS, 24, c3, 0);
            }
            ctx.localBarrier();
        }
        if (warp < SLOTS) {
            int add = warp + SLOTS < warps ? 1 : 0;
            publish(ctx, partials, warp, 0, c0, add);
            publish(ctx, partials, warp, 8, c1, add);
            publish(ctx, partials, warp, 16, c2, add);
            publish(ctx, partials, warp, 24, c3, add);
        }
        ctx.localBarrier();
        int slots = Math.min(warps, SLOTS);
        for (int e = ctx.localIdx; e < TILE; e += ctx.localGroupSizeX) {
            float sum = 0f;
            for (int v = 0; v < slots; v++) {
                sum += partials[v * TILE + e];
            }
            int row = firstRow + e / OUTPUTS, o = first + e % OUTPUTS;
            if (row < rows && o < out) {
                // the part holding o: [0, split1), [split1, split2) or [split2, out)
                int start = o < split1 ? 0 : o < split2 ? split1 : split2, end = o < split1 ? split1 : o < split2 ? split2 : out;
                y.set((long) capacity * start + (long) row * (end - start) + o - start, sum + (hasBias != 0 ? bias.get(o) : 0f));
            }
        }
    }

    /**
     * The warp's sums of one {@code mma} tile (outputs {@code column .. column + 7}) into shared-memory tile {@code slot},
     * or, where {@code add} is 1, added to what another warp put there.
     */
    private static void publish(KernelContext ctx, float[] partials, int slot, int column, Float4 c, int add) {
        int g = ctx.laneId / 4, o = column + 2 * (ctx.laneId % 4);
        int base = slot * TILE + g * OUTPUTS + o;
        // a select, not a product: what the shared memory held before may be any bits, NaN among them
        partials[base] = (add != 0 ? partials[base] : 0f) + c.x();
        partials[base + 1] = (add != 0 ? partials[base + 1] : 0f) + c.y();
        partials[base + 8 * OUTPUTS] = (add != 0 ? partials[base + 8 * OUTPUTS] : 0f) + c.z();
        partials[base + 8 * OUTPUTS + 1] = (add != 0 ? partials[base + 8 * OUTPUTS + 1] : 0f) + c.w();
    }

    /** Where output {@code o}'s weights start; outputs past the last read the last one's (in bounds, never written). */
    private static long weightRow(int o, int out, int in) {
        return (long) Math.min(o, out - 1) * in;
    }

    private static Float4 zero() {
        return new Float4(0f, 0f, 0f, 0f);
    }
}
