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
 * A linear layer for a decode batch of more than a few rows, {@code y[r][o] = Σ_i x[r][i] · W[o][i] (+ bias[o])}, with
 * the same types and sums as {@link StreamingLinear} but a register tile of {@link #OUTPUTS_PER_THREAD} outputs by
 * {@link #ROWS} rows per thread, so that each weight is loaded and converted once for eight rows.
 *
 * <p>Why: {@link StreamingLinear} serves four rows per pass and reads the whole matrix again for each further pass,
 * so its time grows with the batch at DRAM speed (Llama 3 8B on an H100: 23 ms a step at batch 15, 49 ms at 34,
 * ~10 TFLOPS). Past a few rows a linear layer is an F32 CUDA-core GEMM, and what limits it is how many loads each FMA
 * needs: a thread here does 4 × 8 eight-element dot products (256 FMAs) per 4 weight loads and 16 input loads, where
 * the streaming kernel's 4 × 4 tile did 128 per 12.
 *
 * <p>Warp tile: a warp owns {@link #OUTPUTS} consecutive outputs and {@link #ROWS} consecutive rows. Four neighbouring
 * lanes share an output slot and split the inputs between them (each reads 16 bytes of the same weight row, so a slot's
 * four lanes read 64 contiguous bytes: whole DRAM sectors), and the eight slots own outputs
 * {@code slot, slot + 8, slot + 16, slot + 24} of the 32. All eight slots read the same inputs, which the L1 serves as
 * one broadcast.
 *
 * <p>Block: its shape is the {@link Split} (the kernel reads it from the block's dimensions): {@code blockDim.x / 32}
 * warps split each warp tile's inputs in successive 32-input pieces; {@code blockDim.y} row tiles and
 * {@code blockDim.z} output tiles make the block's rows and outputs. Warps of one block that share outputs read the
 * same weights at about the same time, and warps that share rows the same inputs, so the L1 can serve the second read
 * and a bigger block read less from L2; more warps along the inputs give a layer of few blocks more warps. Which pays
 * is for the GPU to say: {@link LinearGpuCheck} times the splits, and {@link LinearShape} uses warps along the inputs
 * only until it shows otherwise. The sums go over the four lanes by shuffles and over the warps along the inputs
 * through shared memory, once at the end.
 *
 * <p>Reads per weight: once per row group (a block's rows), {@code ceil(rows / (8 · blockDim.y))}. The row groups of one
 * output block are consecutive block indices, so they run at the same time and all but the first find the weights in
 * L2; DRAM reads each weight once (or close, where L2 loses a line between them). The inputs come from L2 once per
 * output block: with 32-output blocks, half the bytes of BF16 weights again per row group. The last row tile reads its missing
 * rows as the last row again (in bounds, never written), so 5 to 7 rows cost the FMAs of 8 but no extra weight reads;
 * a warp tile wholly past the last row or output skips its loop.
 *
 * <p>{@code in} must be a multiple of 8. {@code hasBias} 0 ignores {@code bias} (pass any F32 array). Launch on
 * {@link LinearShape#tiledGrid()}.
 */
public final class TiledLinear {
    /** Rows of a warp tile. */
    public static final int ROWS = 8;
    /** Outputs one thread sums for each of its rows. */
    public static final int OUTPUTS_PER_THREAD = 4;
    /** Lanes that share an output, each taking every fourth eight-input piece of the warp's 32. */
    static final int SPLIT = 4;
    /** Output slots in a warp. */
    static final int SLOTS = KernelContext.WARP_SIZE / SPLIT;
    /** Outputs of a warp tile. */
    public static final int OUTPUTS = SLOTS * OUTPUTS_PER_THREAD;
    /**
     * Warps a block may have. The tile takes ~140 registers a thread, so an SM holds three blocks of four warps but
     * only one of eight; more would not fit at all.
     */
    static final int MAX_WARPS = 8;
    /** One warp's sums in shared memory: {@code [row][output]}. */
    private static final int TILE = ROWS * OUTPUTS;

    /**
     * How a block's warps share its work: {@code inputWarps} along each warp tile's inputs, times {@code rowTiles} tiles
     * of {@link #ROWS} rows, times {@code outputTiles} tiles of {@link #OUTPUTS} outputs.
     */
    public record Split(int inputWarps, int rowTiles, int outputTiles) {
        /** Four warps along the inputs: three blocks fit an SM (12 warps to hide DRAM latency behind each other's FMAs). */
        public static final Split NARROW = new Split(4, 1, 1);
        /** Eight warps along the inputs: for grids of too few blocks to give every SM one, so those SMs get eight warps. */
        public static final Split WIDE = new Split(8, 1, 1);

        public Split {
            if (inputWarps < 1 || rowTiles < 1 || outputTiles < 1 || inputWarps * rowTiles * outputTiles > MAX_WARPS)
                throw new IllegalArgumentException("a split's warps must be at least 1 each and at most " + MAX_WARPS + " in all, got "
                        + inputWarps + " x " + rowTiles + " x " + outputTiles);
        }

        /** Rows a block serves. */
        public int rows() {
            return ROWS * rowTiles;
        }

        /** Outputs a block owns. */
        public int outputs() {
            return OUTPUTS * outputTiles;
        }

        @Override
        public String toString() {
            return inputWarps + "x" + rowTiles + "x" + outputTiles;
        }
    }

    private TiledLinear() {}

    @Kernel
    public static void half(KernelContext ctx, F32Array x, HalfPrecisionArray w, F32Array bias, F32Array y, int rows, int in,
            int out, int hasBias) {
        int groups = rowGroups(ctx, rows);
        int blockRow = blockRow(ctx, groups), blockFirst = blockFirst(ctx, groups);
        int r = blockRow + ROWS * ctx.localIdy, first = blockFirst + OUTPUTS * ctx.localIdz;
        int o = first + ctx.laneId / SPLIT;
        int end = r < rows && first < out ? in : 0; // a warp tile wholly past the last row or output has nothing to add
        float[] partials = ctx.allocateFloatLocalArray(MAX_WARPS * TILE);
        long w0 = weightRow(o, out, in), w1 = weightRow(o + SLOTS, out, in);
        long w2 = weightRow(o + 2 * SLOTS, out, in), w3 = weightRow(o + 3 * SLOTS, out, in);
        // sN: output N of the thread, rows r .. r + 3; tN: rows r + 4 .. r + 7
        Float4 s0 = zero(), s1 = zero(), s2 = zero(), s3 = zero(), t0 = zero(), t1 = zero(), t2 = zero(), t3 = zero();
        for (int i = 8 * (SPLIT * (ctx.localIdx / KernelContext.WARP_SIZE) + ctx.laneId % SPLIT); i < end; i += stride(ctx)) {
            Float8 a = w.getFloat8(w0 + i), b = w.getFloat8(w1 + i), c = w.getFloat8(w2 + i), d = w.getFloat8(w3 + i);
            Float8 x0 = inputs(x, r, rows, in, i), x1 = inputs(x, r + 1, rows, in, i);
            Float8 x2 = inputs(x, r + 2, rows, in, i), x3 = inputs(x, r + 3, rows, in, i);
            s0 = add(s0, a, x0, x1, x2, x3);
            s1 = add(s1, b, x0, x1, x2, x3);
            s2 = add(s2, c, x0, x1, x2, x3);
            s3 = add(s3, d, x0, x1, x2, x3);
            Float8 x4 = inputs(x, r + 4, rows, in, i), x5 = inputs(x, r + 5, rows, in, i);
            Float8 x6 = inputs(x, r + 6, rows, in, i), x7 = inputs(x, r + 7, rows, in, i);
            t0 = add(t0, a, x4, x5, x6, x7);
            t1 = add(t1, b, x4, x5, x6, x7);
            t2 = add(t2, c, x4, x5, x6, x7);
            t3 = add(t3, d, x4, x5, x6, x7);
        }
        finish(ctx, partials, s0, s1, s2, s3, t0, t1, t2, t3, bias, hasBias, y, blockRow, rows, out, blockFirst);
    }

    @Kernel
    public static void f32(KernelContext ctx, F32Array x, F32Array w, F32Array bias, F32Array y, int rows, int in, int out,
            int hasBias) {
        int groups = rowGroups(ctx, rows);
        int blockRow = blockRow(ctx, groups), blockFirst = blockFirst(ctx, groups);
        int r = blockRow + ROWS * ctx.localIdy, first = blockFirst + OUTPUTS * ctx.localIdz;
        int o = first + ctx.laneId / SPLIT;
        int end = r < rows && first < out ? in : 0; // a warp tile wholly past the last row or output has nothing to add
        float[] partials = ctx.allocateFloatLocalArray(MAX_WARPS * TILE);
        long w0 = weightRow(o, out, in), w1 = weightRow(o + SLOTS, out, in);
        long w2 = weightRow(o + 2 * SLOTS, out, in), w3 = weightRow(o + 3 * SLOTS, out, in);
        Float4 s0 = zero(), s1 = zero(), s2 = zero(), s3 = zero(), t0 = zero(), t1 = zero(), t2 = zero(), t3 = zero();
        for (int i = 8 * (SPLIT * (ctx.localIdx / KernelContext.WARP_SIZE) + ctx.laneId % SPLIT); i < end; i += stride(ctx)) {
            Float8 a = inputs(w, w0 + i), b = inputs(w, w1 + i), c = inputs(w, w2 + i), d = inputs(w, w3 + i);
            Float8 x0 = inputs(x, r, rows, in, i), x1 = inputs(x, r + 1, rows, in, i);
            Float8 x2 = inputs(x, r + 2, rows, in, i), x3 = inputs(x, r + 3, rows, in, i);
            s0 = add(s0, a, x0, x1, x2, x3);
            s1 = add(s1, b, x0, x1, x2, x3);
            s2 = add(s2, c, x0, x1, x2, x3);
            s3 = add(s3, d, x0, x1, x2, x3);
            Float8 x4 = inputs(x, r + 4, rows, in, i), x5 = inputs(x, r + 5, rows, in, i);
            Float8 x6 = inputs(x, r + 6, rows, in, i), x7 = inputs(x, r + 7, rows, in, i);
            t0 = add(t0, a, x4, x5, x6, x7);
            t1 = add(t1, b, x4, x5, x6, x7);
            t2 = add(t2, c, x4, x5, x6, x7);
            t3 = add(t3, d, x4, x5, x6, x7);
        }
        finish(ctx, partials, s0, s1, s2, s3, t0, t1, t2, t3, bias, hasBias, y, blockRow, rows, out, blockFirst);
    }

    /** Row groups of the launch: blocks of {@code localGroupSizeY} eight-row tiles. */
    private static int rowGroups(KernelContext ctx, int rows) {
        int blockRows = ROWS * ctx.localGroupSizeY;
        return (rows + blockRows - 1) / blockRows;
    }

    /** The block's first row: the row groups of one output block are consecutive block indices. */
    private static int blockRow(KernelContext ctx, int groups) {
        return ROWS * ctx.localGroupSizeY * (ctx.groupIdx % groups);
    }

    /** The block's first output. */
    private static int blockFirst(KernelContext ctx, int groups) {
        return OUTPUTS * ctx.localGroupSizeZ * (ctx.groupIdx / groups);
    }

    /** Inputs a warp tile covers per step of its loop: eight per lane of a slot, times the four lanes and the warps along x. */
    private static int stride(KernelContext ctx) {
        return 8 * SPLIT * (ctx.localGroupSizeX / KernelContext.WARP_SIZE);
    }

    /** Where output {@code o}'s weights start; outputs past the last read the last one's (in bounds, never written). */
    private static long weightRow(int o, int out, int in) {
        return (long) Math.min(o, out - 1) * in;
    }

    /**
     * Adds the block's sums: each of the thread's 32 over the four lanes of its slot, then each warp tile's partials over
     * its warps along the inputs, and writes those of the outputs and rows that exist (32 neighbouring threads write 32
     * neighbouring outputs of a row). Warp {@code w} of the block is piece {@code w % inputWarps} of tile
     * {@code w / inputWarps}, and tile {@code t} is row tile {@code t % localGroupSizeY} of output tile
     * {@code t / localGroupSizeY} (threads are numbered x fastest, then y, then z).
     */
    private static void finish(KernelContext ctx, float[] partials, Float4 s0, Float4 s1, Float4 s2, Float4 s3, Float4 t0, Float4 t1,
            Float4 t2, Float4 t3, F32Array bias, int hasBias, F32Array y, int blockRow, int rows, int out, int blockFirst) {
        int slot = ctx.laneId / SPLIT;
        publish(ctx, partials, slot, 0, s0);
        publish(ctx, partials, slot + SLOTS, 0, s1);
        publish(ctx, partials, slot + 2 * SLOTS, 0, s2);
        publish(ctx, partials, slot + 3 * SLOTS, 0, s3);
        publish(ctx, partials, slot, 4, t0);
        publish(ctx, partials, slot + SLOTS, 4, t1);
        publish(ctx, partials, slot + 2 * SLOTS, 4, t2);
        publish(ctx, partials, slot + 3 * SLOTS, 4, t3);
        ctx.localBarrier();
        int inputWarps = ctx.localGroupSizeX / KernelContext.WARP_SIZE;
        int tiles = ctx.localGroupSizeY * ctx.localGroupSizeZ;
        int threads = ctx.localGroupSizeX * tiles;
        for (int at = ctx.warpId * KernelContext.WARP_SIZE + ctx.laneId; at < tiles * TILE; at += threads) {
            int tile = at / TILE, e = at % TILE;
            int row = blockRow + ROWS * (tile % ctx.localGroupSizeY) + e / OUTPUTS;
            int o = blockFirst + OUTPUTS * (tile / ctx.localGroupSizeY) + e % OUTPUTS;
            float sum = 0f;
            for (int w = 0; w < inputWarps; w++) {
                sum += partials[(tile * inputWarps + w) * TILE + e];
            }
            if (o < out && row < rows) {
                y.set((long) row * out + o, sum + (hasBias != 0 ? bias.get(o) : 0f));
            }
        }
    }

    /** Output {@code o}'s (of the warp tile) sums for rows {@code row .. row + 3}, over the slot's four lanes, into shared memory. */
    private static void publish(KernelContext ctx, float[] partials, int o, int row, Float4 sums) {
        float a = slotSum(ctx, sums.x());
        float b = slotSum(ctx, sums.y());
        float c = slotSum(ctx, sums.z());
        float d = slotSum(ctx, sums.w());
        if (ctx.laneId % SPLIT == 0) {
            int base = ctx.warpId * TILE + row * OUTPUTS + o;
            partials[base] = a;
            partials[base + OUTPUTS] = b;
            partials[base + 2 * OUTPUTS] = c;
            partials[base + 3 * OUTPUTS] = d;
        }
    }

    /** The sum over the {@link #SPLIT} neighbouring lanes that share an output (every lane takes part in the shuffles). */
    private static float slotSum(KernelContext ctx, float value) {
        float v = value + ctx.shuffleXor(value, 1);
        return v + ctx.shuffleXor(v, 2);
    }
}
