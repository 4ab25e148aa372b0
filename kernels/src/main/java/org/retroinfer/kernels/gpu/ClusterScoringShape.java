package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.MAX_GROUP;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.PARTIAL_THREADS;

import org.retroinfer.accel.kernel.Grid;

/**
 * The shape of one cluster-ranking launch pair ({@link CentroidScoring}, then {@link ClusterTopK}), and the
 * memory layout they share. A row is one (sequence, KV head): {@code row = sequence · kvHeads + kvHead}.
 *
 * <p>Layout (every offset is a {@code long}, in elements):
 * <ul>
 *   <li>queries {@code q}: F32 {@code [batch][kvHeads·groupSize][HEAD_DIM]}, as {@link DecodeAttentionShape};</li>
 *   <li>centroids: F32 or BF16 {@code [rows][capacity][HEAD_DIM]}; row {@code r} uses its first {@code counts[r]}
 *       slots and nothing past them is read;</li>
 *   <li>counts: I32 {@code [rows]}, clusters per row, at most {@code capacity};</li>
 *   <li>sizes: F32 {@code [rows][capacity]}, members per cluster (the weighted decode kernels' key weights);
 *       a cluster of size 0 is empty and never selected;</li>
 *   <li>budgets: I32 {@code [rows][2]}, the row's retrieval and estimation budgets in clusters;</li>
 *   <li>logits y = q·c/√d: F32 {@code [rows][groupSize][capacity]};</li>
 *   <li>per-split softmax statistics: F32 {@code [rows][splits][groupSize]} max of y and Σ e^(y − max);</li>
 *   <li>per-head statistics: F32 {@code [rows][groupSize]} max of y and Σ e^(y − max) over the row's clusters;</li>
 *   <li>scores: F32 {@code [rows][capacity]}, Σ over the group of softmax(y);</li>
 *   <li>zones: I32 {@code [rows][maxRetrieval]} and {@code [rows][maxEstimation]} cluster ids, and I32
 *       {@code [rows][2]} how many of each a row selected;</li>
 *   <li>where a row's clusters are more than one selection block keeps ({@link ClusterTopK#chunked}), the chunked
 *       selection's work area: I32 {@code [rows][}{@link ChunkedClusterTopK#rowWork}{@code ]}, zero before the first
 *       selection, which leaves what must be zero so.</li>
 * </ul>
 *
 * @param batch         sequences
 * @param kvHeads       KV heads per sequence
 * @param groupSize     query heads per KV head, at most {@link DecodeAttentionShape#MAX_GROUP}; a scoring block
 *                      holds four of them in registers, larger groups take a block per four
 * @param capacity      cluster slots per row
 * @param splits        chunks each row's clusters are cut into, a scoring block per chunk and four query heads
 * @param maxRetrieval  retrieval ids a row can hold: the largest retrieval budget of the launch
 * @param maxEstimation estimation ids a row can hold: the largest estimation budget of the launch
 */
public record ClusterScoringShape(int batch, int kvHeads, int groupSize, int capacity, int splits, int maxRetrieval,
        int maxEstimation) {
    /**
     * Threads of a {@link ClusterTopK} block (one block per row, so all its threads share one row's passes) where the rows
     * are more than the SMs: blocks then share SMs, and larger ones would leave rows for a second wave.
     */
    public static final int SELECT_THREADS = 512;
    /**
     * Threads of a {@link ClusterTopK} block where every row has an SM to itself: twice the warps to hide each pass's
     * loads. On an H200 at 128K tokens × 10 sequences (80 rows) selection took 0.040 ms a layer with these against 0.053
     * with 512; at 20 and 39 sequences (160 and 312 rows) 1024 was slower, 0.050 against 0.043 and 0.049 against 0.031
     * (docs/results/gpu-retro/h200/s7-call-3 and -4).
     */
    public static final int WIDE_SELECT_THREADS = 1024;

    public ClusterScoringShape {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        if (kvHeads < 1) throw new IllegalArgumentException("kvHeads must be at least 1, got " + kvHeads);
        if (groupSize < 1 || groupSize > MAX_GROUP)
            throw new IllegalArgumentException("groupSize must be in [1, " + MAX_GROUP + "], got " + groupSize);
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        if (splits < 1) throw new IllegalArgumentException("splits must be at least 1, got " + splits);
        if (maxRetrieval < 0) throw new IllegalArgumentException("maxRetrieval cannot be negative, got " + maxRetrieval);
        if (maxEstimation < 0) throw new IllegalArgumentException("maxEstimation cannot be negative, got " + maxEstimation);
        long blocks = (long) batch * kvHeads * splits * DecodeAttentionShape.quads(groupSize);
        if (blocks > Integer.MAX_VALUE)
            throw new IllegalArgumentException("batch × kvHeads × splits × ⌈groupSize / 4⌉ must fit a grid of 2^31-1 blocks, got "
                    + blocks);
        long selectionBlocks = (long) batch * kvHeads * ChunkedClusterTopK.chunks(capacity);
        if (selectionBlocks > Integer.MAX_VALUE)
            throw new IllegalArgumentException("batch × kvHeads × ⌈capacity / " + ChunkedClusterTopK.CHUNK
                    + "⌉ must fit a grid of 2^31-1 blocks, got " + selectionBlocks);
    }

    /**
     * A split count for {@code rows} rows of GQA groups of {@code groupSize} whose largest holds {@code longest}
     * clusters, on a GPU where {@code residentBlocks} scoring blocks run at once (blocks per SM from the
     * occupancy API × SMs): {@link DecodeAttentionShape#splitsFor}'s rule (one wave of resident blocks, no more
     * splits than the longest row has 32-centroid tiles), since a scoring block streams centroids as a partials
     * block streams keys. Not yet timed on a GPU for scoring.
     */
    public static int splitsFor(int rows, int groupSize, int longest, int residentBlocks) {
        return DecodeAttentionShape.splitsFor(1, rows, groupSize, longest, residentBlocks);
    }

    /** Scoring blocks per (row, split): one per {@link DecodeAttentionShape#QUAD} query heads. */
    public int headQuads() {
        return DecodeAttentionShape.quads(groupSize);
    }

    /** (sequence, KV head) rows. */
    public int rows() {
        return batch * kvHeads;
    }

    public long queryElements() {
        return (long) rows() * groupSize * HEAD_DIM;
    }

    public long centroidElements() {
        return (long) rows() * capacity * HEAD_DIM;
    }

    /** Offset of cluster {@code cluster}'s centroid in row {@code row}. */
    public long centroidOffset(int row, int cluster) {
        return ((long) row * capacity + cluster) * HEAD_DIM;
    }

    /** Elements of the per-cluster arrays (sizes, scores). */
    public long clusterElements() {
        return (long) rows() * capacity;
    }

    public long clusterOffset(int row, int cluster) {
        return (long) row * capacity + cluster;
    }

    public long logitElements() {
        return (long) rows() * groupSize * capacity;
    }

    /** Offset of y for query head {@code head} of the row's group and cluster {@code cluster}. */
    public long logitOffset(int row, int head, int cluster) {
        return ((long) row * groupSize + head) * capacity + cluster;
    }

    /** Elements of the per-split statistics. */
    public long partialElements() {
        return (long) rows() * splits * groupSize;
    }

    /** Elements of the per-head statistics. */
    public long headElements() {
        return (long) rows() * groupSize;
    }

    public long retrievalElements() {
        return (long) rows() * maxRetrieval;
    }

    public long estimationElements() {
        return (long) rows() * maxEstimation;
    }

    /** {@link CentroidScoring}'s grid: one block per (row, split, four query heads), the quads of a split adjacent. */
    public Grid scoringGrid() {
        return Grid.of(rows() * splits * headQuads(), PARTIAL_THREADS);
    }

    /**
     * {@link ClusterTopK}'s grid on a GPU of {@code multiprocessors} SMs: one block per row, of
     * {@link #WIDE_SELECT_THREADS} threads where the rows are no more than the SMs, else {@link #SELECT_THREADS}.
     */
    public Grid selectionGrid(int multiprocessors) {
        return Grid.of(rows(), rows() <= multiprocessors ? WIDE_SELECT_THREADS : SELECT_THREADS);
    }

    /**
     * Ints of the selection's work area: the chunked selection's where it runs ({@link ClusterTopK#chunked}), else 1 (the
     * one-block selection needs none, and an array cannot be empty).
     */
    public long selectionWorkElements() {
        return ClusterTopK.chunked(this) ? rows() * ChunkedClusterTopK.rowWork(capacity) : 1;
    }
}
