package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.Grid;

/**
 * The shape of one decode step through a Llama-family layer's kernels other than attention and the linear
 * layers ({@link RmsNorm}, {@link RopeRotation}, {@link SwiGlu}, {@link ResidualAdd}, {@link KvAppend},
 * {@link EmbeddingLookup}), and their grids.
 *
 * <p>Layout: every activation is F32 and row-major with one row per sequence: the hidden state
 * {@code [batch][hidden]}, queries {@code [batch][queryHeads][HEAD_DIM]}, keys and values
 * {@code [batch][kvHeads][HEAD_DIM]} (as {@link DecodeAttentionShape} reads them), gate and up
 * {@code [batch][intermediate]}. Widths are multiples of 8 so that every row starts on a 16-byte boundary
 * and 16-bit tables can be read eight elements at a time.
 *
 * @param batch        sequences, one decode row each
 * @param hidden       the model's hidden size
 * @param queryHeads   query heads of {@link DecodeAttentionShape#HEAD_DIM} dimensions
 * @param kvHeads      key/value heads; {@code queryHeads} is a multiple of them (GQA)
 * @param intermediate the feed-forward's inner size
 */
public record DecodeLayerShape(int batch, int hidden, int queryHeads, int kvHeads, int intermediate) {
    /** Threads of the grid-stride kernels' blocks. */
    public static final int ELEMENTWISE_THREADS = 256;

    public DecodeLayerShape {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        if (hidden < 8 || hidden % 8 != 0)
            throw new IllegalArgumentException("hidden must be a positive multiple of 8, got " + hidden);
        if (kvHeads < 1) throw new IllegalArgumentException("kvHeads must be at least 1, got " + kvHeads);
        if (queryHeads < kvHeads || queryHeads % kvHeads != 0)
            throw new IllegalArgumentException("queryHeads must be a positive multiple of kvHeads (" + kvHeads + "), got "
                    + queryHeads);
        if (intermediate < 8 || intermediate % 8 != 0)
            throw new IllegalArgumentException("intermediate must be a positive multiple of 8, got " + intermediate);
        if ((long) batch * Math.max(hidden, Math.max(intermediate, queryHeads * HEAD_DIM)) > Integer.MAX_VALUE)
            throw new IllegalArgumentException("batch × the widest row must fit an int, got batch " + batch);
    }

    /** Elements of the hidden state. */
    public long hiddenElements() {
        return (long) batch * hidden;
    }

    public long queryElements() {
        return (long) batch * queryHeads * HEAD_DIM;
    }

    /** Elements of the step's keys (and of its values). */
    public long kvElements() {
        return (long) batch * kvHeads * HEAD_DIM;
    }

    /** Elements of the gate (and of up). */
    public long intermediateElements() {
        return (long) batch * intermediate;
    }

    /** {@link RmsNorm#rows} over the hidden state: one block per row. */
    public Grid normGrid() {
        return Grid.of(batch, RmsNorm.ROW_THREADS);
    }

    /** {@link RmsNorm#heads} over {@code heads} head rows per sequence (Qwen3's q or k norm): a warp per row. */
    public Grid headNormGrid(int heads) {
        return Grid.covering((long) batch * heads * RmsNorm.HEAD_LANES, RmsNorm.HEAD_THREADS);
    }

    /** {@link RopeRotation}: {@link RopeRotation#SLICES} threads per query or key head row. */
    public Grid ropeGrid() {
        return Grid.covering((long) batch * (queryHeads + kvHeads) * RopeRotation.SLICES, ELEMENTWISE_THREADS);
    }

    /** {@link SwiGlu}: four elements per thread. */
    public Grid swigluGrid() {
        return Grid.covering(intermediateElements() / 4, ELEMENTWISE_THREADS);
    }

    /** {@link ResidualAdd} on the hidden state: four elements per thread. */
    public Grid residualGrid() {
        return Grid.covering(hiddenElements() / 4, ELEMENTWISE_THREADS);
    }

    /** {@link KvAppend}: eight dimensions of one (sequence, KV head) per thread. */
    public Grid kvAppendGrid() {
        return Grid.covering(kvElements() / 8, ELEMENTWISE_THREADS);
    }

    /** {@link EmbeddingLookup}: eight elements of the hidden state per thread. */
    public Grid embeddingGrid() {
        return Grid.covering(hiddenElements() / 8, ELEMENTWISE_THREADS);
    }
}
