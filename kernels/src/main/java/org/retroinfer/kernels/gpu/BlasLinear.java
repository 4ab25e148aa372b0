package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * A linear layer of BF16 weights through the platform's BLAS ({@link Device#blasLinear}: cuBLAS on a GPU) at the
 * precision of the project's own tensor-core kernels: the F32 inputs split into two bfloat16 parts
 * ({@link LinearParts#toParts}), one GEMM multiplies both parts' {@code 2 × rows} rows (so the weights are read once),
 * and {@link LinearParts#sumParts} adds the two products and the bias into the outputs. Past one row group of 16,
 * where {@link TensorCoreLinear} reads the weights once per group, cuBLAS's tuned GEMM is the faster on a GPU of its
 * own (a Llama 3 8B step's linear layers at 45 rows: 8.98 ms against 12.08 on an H100), but not beside another
 * stream's PCIe gather (docs/results/gpu-retro, "cuBLAS for the linear layers"); the caller decides.
 *
 * <p>Scratch is allocated once for up to {@code maxRows} rows and {@code maxColumns} outputs a GEMM; a layer with more
 * outputs (an LM head) is multiplied in slices of equal width, each reading its own rows of the weights, so the weights
 * are still read once. The arrays live as long as the device.
 */
public final class BlasLinear {
    private static final KernelMethod TO_PARTS = KernelMethod.of(LinearParts.class, "toParts");
    private static final KernelMethod SUM_PARTS = KernelMethod.of(LinearParts.class, "sumParts");
    private static final KernelMethod GATED_PARTS = KernelMethod.of(LinearParts.class, "gatedParts");
    private static final int THREADS = 256;
    /** Enough blocks of the grid-stride kernels to fill an H100 several times over. */
    private static final int MAX_BLOCKS = 1024;

    private final Device device;
    private final int maxRows;
    private final int maxIn;
    private final int maxColumns;
    private final BF16Array parts;
    private final F32Array sums;

    /** Scratch on {@code device} for up to {@code maxRows} rows of up to {@code maxIn} inputs and {@code maxColumns} outputs a GEMM. */
    public BlasLinear(Device device, int maxRows, int maxIn, int maxColumns) {
        if (maxRows < 1 || maxIn < 8 || maxIn % 8 != 0 || maxColumns < 1) {
            throw new IllegalArgumentException("BlasLinear needs at least one row, inputs a positive multiple of 8 and one output,"
                    + " got " + maxRows + ", " + maxIn + " and " + maxColumns);
        }
        this.device = device;
        this.maxRows = maxRows;
        this.maxIn = maxIn;
        this.maxColumns = maxColumns;
        this.parts = device.bf16(2L * maxRows * maxIn);
        this.sums = device.f32(2L * maxRows * maxColumns);
    }

    /** The most rows one call takes: its scratch's. */
    public int maxRows() {
        return maxRows;
    }

    /**
     * Enqueues {@code y = x wᵀ (+ bias)}: {@code x} rows × in (F32), {@code w} out × in (BF16), {@code y} rows × out,
     * all row-major; {@code bias} (out) may be null.
     */
    public void run(F32Array x, BF16Array w, F32Array bias, F32Array y, int rows, int in, int out) {
        if (rows < 1 || rows > maxRows || in % 8 != 0 || in > maxIn || out < 1) {
            throw new IllegalArgumentException("BlasLinear takes 1 to " + maxRows + " rows and up to " + maxIn
                    + " inputs (a multiple of 8), got " + rows + " rows of " + in + " -> " + out);
        }
        toParts(x, rows, in);
        // slices a multiple of 8 wide where they can be, so that every slice's rows of sums stay 32-byte aligned:
        // cuBLAS ran 9 slices of 14,251 outputs at 660 GB/s against 2 TB/s for 14,336
        int slices = (out + maxColumns - 1) / maxColumns, slice = Math.min(maxColumns, ((out + slices - 1) / slices + 7) / 8 * 8);
        for (int from = 0; from < out; from += slice) {
            int columns = Math.min(slice, out - from);
            device.blasLinear(parts, w.slice((long) from * in, (long) columns * in), sums, 2 * rows, in, columns);
            device.launch(SUM_PARTS, grid((long) rows * columns), sums, bias == null ? sums : bias, y, rows, columns, columns, 0,
                    out, from, bias == null ? 0 : 1);
        }
    }

    /**
     * Enqueues several layers of one input in one GEMM: {@code w} holds their weights one after another along the
     * outputs (layer {@code i}'s {@code outs[i]} rows of {@code in}), and {@code ys[i] = x wᵢᵀ (+ biases[i])}, each
     * rows × {@code outs[i]} (a null bias: none). A decode step's q, k and v projections this way read their weights
     * in one GEMM as wide as the three, and convert the input into its parts once.
     */
    public void runStacked(F32Array x, BF16Array w, int rows, int in, F32Array[] ys, int[] outs, F32Array[] biases) {
        int total = 0;
        for (int out : outs) {
            total += out;
        }
        check(rows, in, total);
        if (ys.length != outs.length || biases.length != outs.length) {
            throw new IllegalArgumentException("runStacked needs an output and a bias (or null) per layer, got " + outs.length
                    + " layers, " + ys.length + " outputs and " + biases.length + " biases");
        }
        toParts(x, rows, in);
        device.blasLinear(parts, w.slice(0, (long) total * in), sums, 2 * rows, in, total);
        for (int i = 0, from = 0; i < outs.length; from += outs[i], i++) {
            F32Array bias = biases[i];
            device.launch(SUM_PARTS, grid((long) rows * outs[i]), sums, bias == null ? sums : bias, ys[i], rows, outs[i], total,
                    from, outs[i], 0, bias == null ? 0 : 1);
        }
    }

    /**
     * Enqueues a gated feed-forward's first half, {@code y = silu(x gateᵀ) ⊙ (x upᵀ)} (rows × {@code width}), from
     * {@code w} holding the gate's {@code width} rows of {@code in} weights and then the up projection's: one GEMM as
     * wide as both, and SwiGLU applied as the parts' products are summed.
     */
    public void runGated(F32Array x, BF16Array w, F32Array y, int rows, int in, int width) {
        check(rows, in, 2 * width);
        toParts(x, rows, in);
        device.blasLinear(parts, w.slice(0, 2L * width * in), sums, 2 * rows, in, 2 * width);
        device.launch(GATED_PARTS, grid((long) rows * width), sums, y, rows, width);
    }

    /** Enqueues the split of {@code x}'s {@code rows × in} inputs into their two bfloat16 parts, the GEMM's rows. */
    private void toParts(F32Array x, int rows, int in) {
        long n = (long) rows * in;
        device.launch(TO_PARTS, grid(n / 8), x, parts, n);
    }

    /** Refuses a stacked GEMM that its scratch cannot hold (it is not cut into slices as {@link #run} cuts a wide layer). */
    private void check(int rows, int in, int columns) {
        if (rows < 1 || rows > maxRows || in % 8 != 0 || in > maxIn || columns < 1 || columns > maxColumns) {
            throw new IllegalArgumentException("a stacked BlasLinear GEMM takes 1 to " + maxRows + " rows, up to " + maxIn
                    + " inputs (a multiple of 8) and up to " + maxColumns + " outputs, got " + rows + " rows of " + in + " -> "
                    + columns);
        }
    }

    private static Grid grid(long units) {
        return Grid.of((int) Math.min(MAX_BLOCKS, (units + THREADS - 1) / THREADS), THREADS);
    }
}
