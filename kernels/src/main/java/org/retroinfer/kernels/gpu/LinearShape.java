package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.Switch;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * A linear layer's launch: {@code rows} rows of {@code in} inputs to {@code out} outputs, and the one place that picks
 * its kernel. Up to {@link StreamingLinear#ROWS} rows, {@link StreamingLinear} reads each weight once in a single pass
 * at near copy bandwidth; past that it would read the matrix again per four rows, so {@link TensorCoreLinear} takes
 * over for BF16 weights (where {@code in} is a multiple of its {@link TensorCoreLinear#CHUNK}) and {@link TiledLinear}
 * for the rest. A prompt chunk of BF16 weights ({@link #gemm}: {@link #GEMM_ROWS} rows or more, whose blocks fill the
 * SMs) goes to {@link TensorCoreGemm}, which reads the weights once per 32 rows instead of once per 16. Between the two
 * ({@link #blas}) a decode step's rows go to cuBLAS through {@link BlasLinear}.
 */
public record LinearShape(int rows, int in, int out) {
    private static final KernelMethod STREAMING_HALF = KernelMethod.of(StreamingLinear.class, "half");
    private static final KernelMethod STREAMING_F32 = KernelMethod.of(StreamingLinear.class, "f32");
    private static final KernelMethod TILED_HALF = KernelMethod.of(TiledLinear.class, "half");
    private static final KernelMethod TILED_F32 = KernelMethod.of(TiledLinear.class, "f32");
    private static final KernelMethod TENSOR_CORES_BF16 = KernelMethod.of(TensorCoreLinear.class, "bf16");
    /** {@link TensorCoreLinear#bf16Stacked}: stacked layers in one launch, each part's outputs to a matrix of its own. */
    public static final KernelMethod TENSOR_CORES_STACKED = KernelMethod.of(TensorCoreLinear.class, "bf16Stacked");
    private static final KernelMethod GEMM_BF16 = KernelMethod.of(TensorCoreGemm.class, "bf16");
    /** The fewest rows {@link TensorCoreGemm} takes (LinearGpuCheck prefill times both kernels either side). */
    public static final int GEMM_ROWS = 512;
    /** {@code -Dretroinfer.linear.gemm=off} leaves prompt chunks to {@link TensorCoreLinear}, to compare the two. */
    private static final boolean GEMM = Switch.on("retroinfer.linear.gemm");
    /**
     * {@code -Dretroinfer.linear.blas=off} leaves decode rows past one row group to {@link TensorCoreLinear} instead of
     * {@link BlasLinear}, to compare the two.
     */
    private static final boolean BLAS = Switch.on("retroinfer.linear.blas");
    /**
     * SMs of an H100 or H200 (SXM): a tiled grid of no more blocks than this leaves each SM at most one block, so its
     * blocks get eight warps instead of four.
     */
    private static final int SMS = 132;
    /** Warps an SM should hold for {@link TensorCoreLinear} to keep enough weight loads in flight (see {@link #tensorCoreGrid()}). */
    private static final int WARPS_PER_SM = 16;

    public LinearShape {
        if (rows < 1) throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        if (in < 8 || in % 8 != 0) throw new IllegalArgumentException("in must be a positive multiple of 8, got " + in);
        if (out < 1) throw new IllegalArgumentException("out must be at least 1, got " + out);
        if ((long) rows * Math.max(in, out) > Integer.MAX_VALUE)
            throw new IllegalArgumentException("rows × the wider side must fit an int, got " + rows + " × " + Math.max(in, out));
        if (tiledBlocks(rows, out, TiledLinear.Split.NARROW) > Integer.MAX_VALUE)
            throw new IllegalArgumentException("output blocks × row groups must fit an int, got "
                    + tiledBlocks(rows, out, TiledLinear.Split.NARROW));
    }

    /** Whether this many rows are more than {@link StreamingLinear} serves in one pass. */
    public boolean tiled() {
        return rows > StreamingLinear.ROWS;
    }

    /** Whether weights of {@code type} go to {@link TensorCoreLinear}. */
    public boolean tensorCores(ElementType type) {
        return tiled() && type == ElementType.BF16 && in % TensorCoreLinear.CHUNK == 0;
    }

    /** Whether weights of {@code type} go to {@link TensorCoreGemm}: BF16, a prompt chunk's rows, a block per SM or more. */
    public boolean gemm(ElementType type) {
        return GEMM && tensorCores(type) && rows >= GEMM_ROWS && in % TensorCoreGemm.CHUNK == 0
                && TensorCoreGemm.blocks(rows, out) >= SMS;
    }

    /**
     * Whether weights of {@code type} go to {@link BlasLinear} (cuBLAS) rather than a kernel: BF16, more rows than one
     * tensor-core row group and fewer than a prompt chunk's. {@link #kernel} is then the kernel it replaces.
     */
    public boolean blas(ElementType type) {
        return BLAS && tensorCores(type) && rows > TensorCoreLinear.ROWS && !gemm(type);
    }

    /**
     * Whether layers of this shape stacked along the outputs (q, k and v; gate and up) can run as one launch of
     * {@link #TENSOR_CORES_STACKED} on {@link #grid(ElementType)}: where {@link #kernel} is {@link TensorCoreLinear}'s.
     * (A caller that takes cuBLAS where {@link #blas} says so decides that first.)
     */
    public boolean stacks(ElementType type) {
        return tensorCores(type) && !gemm(type);
    }

    /** The kernel for weights of {@code type} (BF16, F16 or F32), to launch on {@link #grid(ElementType)}. */
    public KernelMethod kernel(ElementType type) {
        return switch (type) {
            case BF16, F16 -> gemm(type) ? GEMM_BF16 : tensorCores(type) ? TENSOR_CORES_BF16 : tiled() ? TILED_HALF
                    : STREAMING_HALF;
            case F32 -> tiled() ? TILED_F32 : STREAMING_F32;
            default -> throw new IllegalArgumentException("linear weights must be BF16, F16 or F32, got " + type);
        };
    }

    /** The grid of {@link #kernel} for weights of {@code type}. */
    public Grid grid(ElementType type) {
        return gemm(type) ? TensorCoreGemm.grid(rows, out) : tensorCores(type) ? tensorCoreGrid() : tiled() ? tiledGrid()
                : streamingGrid();
    }

    /**
     * {@link TensorCoreLinear}'s grid: one block per {@link TensorCoreLinear#OUTPUTS} outputs and 16 rows (the row groups
     * of an output block at consecutive indices), with as many warps along the inputs as give each SM about
     * {@link #WARPS_PER_SM}: the largest power of two up to {@code 16 · SMs / blocks}, from 4 to
     * {@link TensorCoreLinear#MAX_WARPS}. Each warp waits out DRAM's latency once per chunk, so a narrow layer's few
     * blocks need more warps to keep the loads in flight, and a wide one's many blocks fewer (measured on an H200 at
     * 5-16 rows, weights never in L2: 16 warps best at 32 and 128 blocks, 8 at 192, 4 at 448 and 896;
     * docs/results/gpu-retro, "H200: stacked linear launches, warps by grid size").
     */
    public Grid tensorCoreGrid() {
        long blocks = tensorCoreBlocks();
        int warps = 4;
        while (warps < TensorCoreLinear.MAX_WARPS && 2L * warps * blocks <= (long) WARPS_PER_SM * SMS) {
            warps *= 2;
        }
        return tensorCoreGrid(warps);
    }

    /** {@link TensorCoreLinear}'s grid with {@code warps} warps a block along the inputs. */
    public Grid tensorCoreGrid(int warps) {
        return Grid.of((int) tensorCoreBlocks(), KernelContext.WARP_SIZE * warps);
    }

    private long tensorCoreBlocks() {
        return (long) ((out + TensorCoreLinear.OUTPUTS - 1) / TensorCoreLinear.OUTPUTS) * ((rows + TensorCoreLinear.ROWS - 1) / TensorCoreLinear.ROWS);
    }

    /** {@link StreamingLinear}'s grid: one block per {@link StreamingLinear#OUTPUTS} outputs. */
    public Grid streamingGrid() {
        return Grid.of((out + StreamingLinear.OUTPUTS - 1) / StreamingLinear.OUTPUTS, StreamingLinear.THREADS);
    }

    /**
     * {@link TiledLinear}'s grid: {@link TiledLinear.Split#NARROW} blocks, or {@link TiledLinear.Split#WIDE} where those
     * are too few to give every SM one (4096 outputs in one row group are 128 blocks).
     */
    public Grid tiledGrid() {
        return tiledGrid(tiledBlocks(rows, out, TiledLinear.Split.NARROW) <= SMS ? TiledLinear.Split.WIDE : TiledLinear.Split.NARROW);
    }

    /**
     * {@link TiledLinear}'s grid for blocks split as {@code split}: one block per {@code split.outputs()} outputs and
     * {@code split.rows()} rows, the row groups of an output block at consecutive indices (so they run together and
     * share its weights in L2).
     */
    public Grid tiledGrid(TiledLinear.Split split) {
        return new Grid((int) tiledBlocks(rows, out, split), 1, 1, KernelContext.WARP_SIZE * split.inputWarps(), split.rowTiles(),
                split.outputTiles());
    }

    private static long tiledBlocks(int rows, int out, TiledLinear.Split split) {
        return (long) ((out + split.outputs() - 1) / split.outputs()) * ((rows + split.rows() - 1) / split.rows());
    }
}
