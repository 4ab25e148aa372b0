package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * A linear layer's launch: {@code rows} rows of {@code in} inputs to {@code out} outputs, and the one place that picks
 * its kernel. Up to {@link StreamingLinear#ROWS} rows, {@link StreamingLinear} reads each weight once in a single pass
 * at near copy bandwidth; past that it would read the matrix again per four rows, so {@link TiledLinear} takes over.
 */
public record LinearShape(int rows, int in, int out) {
    private static final KernelMethod STREAMING_BF16 = KernelMethod.of(StreamingLinear.class, "bf16");
    private static final KernelMethod STREAMING_F16 = KernelMethod.of(StreamingLinear.class, "f16");
    private static final KernelMethod STREAMING_F32 = KernelMethod.of(StreamingLinear.class, "f32");
    private static final KernelMethod TILED_BF16 = KernelMethod.of(TiledLinear.class, "bf16");
    private static final KernelMethod TILED_F16 = KernelMethod.of(TiledLinear.class, "f16");
    private static final KernelMethod TILED_F32 = KernelMethod.of(TiledLinear.class, "f32");
    /**
     * SMs of an H100 or H200 (SXM): a tiled grid of no more blocks than this leaves each SM at most one block, so its
     * blocks get eight warps instead of four (at ~140 registers a thread three four-warp blocks fit an SM, one of eight).
     */
    private static final int SMS = 132;

    public LinearShape {
        if (rows < 1) throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        if (in < 8 || in % 8 != 0) throw new IllegalArgumentException("in must be a positive multiple of 8, got " + in);
        if (out < 1) throw new IllegalArgumentException("out must be at least 1, got " + out);
        if ((long) rows * Math.max(in, out) > Integer.MAX_VALUE)
            throw new IllegalArgumentException("rows × the wider side must fit an int, got " + rows + " × " + Math.max(in, out));
        if ((long) tiledBlocks(rows, out) > Integer.MAX_VALUE)
            throw new IllegalArgumentException("output blocks × row groups must fit an int, got " + tiledBlocks(rows, out));
    }

    /** Whether this many rows go to {@link TiledLinear}. */
    public boolean tiled() {
        return rows > StreamingLinear.ROWS;
    }

    /** The kernel for weights of {@code type} (BF16, F16 or F32), to launch on {@link #grid()}. */
    public KernelMethod kernel(ElementType type) {
        return switch (type) {
            case BF16 -> tiled() ? TILED_BF16 : STREAMING_BF16;
            case F16 -> tiled() ? TILED_F16 : STREAMING_F16;
            case F32 -> tiled() ? TILED_F32 : STREAMING_F32;
            default -> throw new IllegalArgumentException("linear weights must be BF16, F16 or F32, got " + type);
        };
    }

    /** The grid of {@link #kernel}. */
    public Grid grid() {
        return tiled() ? tiledGrid() : streamingGrid();
    }

    /** {@link StreamingLinear}'s grid: one block per {@link StreamingLinear#OUTPUTS} outputs. */
    public Grid streamingGrid() {
        return Grid.of((out + StreamingLinear.OUTPUTS - 1) / StreamingLinear.OUTPUTS, StreamingLinear.THREADS);
    }

    /**
     * {@link TiledLinear}'s grid: one block per {@link TiledLinear#OUTPUTS} outputs and {@link TiledLinear#ROWS} rows,
     * the row groups of an output block at consecutive indices (so they run together and share its weights in L2), of
     * {@link TiledLinear#THREADS} threads, or {@link TiledLinear#WIDE_THREADS} where the blocks are too few to give every
     * SM one (4096 outputs in one row group are 128 blocks).
     */
    public Grid tiledGrid() {
        return tiledGrid(tiledBlocks(rows, out) <= SMS ? TiledLinear.WIDE_THREADS : TiledLinear.THREADS);
    }

    /** {@link #tiledGrid()} with blocks of {@code threads} ({@link TiledLinear#THREADS} or {@link TiledLinear#WIDE_THREADS}). */
    Grid tiledGrid(int threads) {
        if (threads != TiledLinear.THREADS && threads != TiledLinear.WIDE_THREADS)
            throw new IllegalArgumentException("threads must be " + TiledLinear.THREADS + " or " + TiledLinear.WIDE_THREADS + ", got " + threads);
        return Grid.of((int) tiledBlocks(rows, out), threads);
    }

    private static long tiledBlocks(int rows, int out) {
        return (long) ((out + TiledLinear.OUTPUTS - 1) / TiledLinear.OUTPUTS) * ((rows + TiledLinear.ROWS - 1) / TiledLinear.ROWS);
    }
}
