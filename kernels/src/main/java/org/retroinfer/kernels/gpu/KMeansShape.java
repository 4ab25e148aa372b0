package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.Grid;

/**
 * The shape of one head's segmented spherical k-means on the GPU (retroinfer-spec.md §1.2): {@code tokens} keys
 * of {@link DecodeAttentionShape#HEAD_DIM} dimensions, {@code clusters} centroids, {@code segments} segments of
 * {@code ⌊tokens / segments⌋} keys against blocks of {@code clusters / segments} centroids for iterations
 * 1 … I−1, then one global iteration. Built by {@link #of}, which applies the CPU's rule that fewer keys than
 * segments cluster as one segment. {@link KMeansBuild} runs it; the kernels are {@link KMeansCentring},
 * {@link KMeansAssign} and {@link KMeansUpdate}.
 *
 * <p>Layout (element offsets are {@code long}):
 * <ul>
 *   <li>keys and values: BF16 or F16 in the dense cache, the head's keys at {@code base + t·HEAD_DIM} for
 *       {@code t < tokens} (one (slot, KV head) of {@link DecodeAttentionShape#kvOffset});</li>
 *   <li>centred keys: F32 {@code [tokens][HEAD_DIM]}; mean key F32 {@code [HEAD_DIM]};</li>
 *   <li>centroids and value sums: F32 {@code [clusters][HEAD_DIM]};</li>
 *   <li>assignment, ranks and members: I32 {@code [tokens]}; sizes and starts: I32 {@code [clusters]};</li>
 *   <li>tile counts: I32 {@code [tiles][clusters]}, each tile of {@link #tileTokens()} keys.</li>
 * </ul>
 * A build of several heads at once ({@link KMeansBuild}, one launch per step for all of them) stacks these: head h's
 * keys and values {@code h · headStride} elements after the first head's, its scratch and results right after head
 * h − 1's (I32 {@code [heads][tokens]}, F32 {@code [heads][clusters][HEAD_DIM]}, ...), and every grid below gets the
 * heads as its y dimension ({@link #stacked}).
 *
 * @param tokens     keys of the head
 * @param clusters   centroids, a multiple of {@code segments}
 * @param segments   segments of the segmented iterations (1 when there are fewer keys than segments)
 * @param iterations iterations, the last of them global (at least 1)
 */
public record KMeansShape(int tokens, int clusters, int segments, int iterations) {
    /** Keys of one {@link KMeansCentring} block: its threads sum that many keys each. */
    public static final int CENTRE_CHUNK = 1024;
    /** Keys per {@link KMeansAssign} block, and centroids per tile it streams through shared memory. */
    public static final int ASSIGN_KEYS = 128;
    public static final int ASSIGN_THREADS = 256;
    /** Threads of a {@link KMeansUpdate#rank} block: the keys it ranks against each other at once. */
    public static final int RANK_THREADS = 512;
    /**
     * Most tiles of the counting sort: the tile-count matrix is tiles × clusters ints (at 1M keys and 64K clusters,
     * 64 MiB), so long inputs take longer tiles rather than more of them.
     */
    public static final int MAX_TILES = 256;
    /** Threads of the single {@link KMeansUpdate#clusterStarts} block. */
    public static final int SCAN_THREADS = 1024;

    public KMeansShape {
        if (tokens < 1) throw new IllegalArgumentException("k-means needs at least one key, got " + tokens);
        if (segments < 1 || clusters < segments || clusters % segments != 0)
            throw new IllegalArgumentException("clusters (" + clusters + ") must be a positive multiple of segments (" + segments + ")");
        if (segments > tokens) throw new IllegalArgumentException(segments + " segments need at least as many keys, got " + tokens);
        if (iterations < 1) throw new IllegalArgumentException("k-means needs at least one iteration, got " + iterations);
        if ((long) tokens * HEAD_DIM > Integer.MAX_VALUE || (long) clusters * HEAD_DIM > Integer.MAX_VALUE)
            throw new IllegalArgumentException("keys and centroids must each fit 2^31-1 floats");
    }

    /** The shape the CPU's {@code SphericalKMeans.cluster} would run: fewer keys than segments make one segment. */
    public static KMeansShape of(int tokens, int clusters, int segments, int iterations) {
        return new KMeansShape(tokens, clusters, tokens >= segments ? segments : 1, iterations);
    }

    public int perSegment() {
        return tokens / segments;
    }

    public int clustersPerSegment() {
        return clusters / segments;
    }

    /** Keys the segmented iterations cluster: the last {@code tokens mod segments} wait for the global one. */
    public int segmentedTokens() {
        return segments * perSegment();
    }

    /**
     * The initial centroid ids: centroid i is key ⌊i·(N/C) + N/(2C)⌋, with the reference's float32 arithmetic
     * (the CPU's {@code SphericalKMeans.initialCentroids}), computed on the host so that no device rounding enters.
     */
    public int[] initialTokens() {
        int[] ids = new int[clusters];
        float step = (float) ((double) tokens / clusters);
        float half = (float) ((double) tokens / clusters / 2);
        for (int i = 0; i < clusters; i++) {
            ids[i] = Math.min((int) ((float) i * step + half), tokens - 1);
        }
        return ids;
    }

    public int centreChunks() {
        return (tokens + CENTRE_CHUNK - 1) / CENTRE_CHUNK;
    }

    /** {@code perHead} once for each of {@code heads} heads, the head being the block's y index. */
    public static Grid stacked(Grid perHead, int heads) {
        return new Grid(perHead.gridX(), heads, 1, perHead.blockX(), perHead.blockY(), perHead.blockZ());
    }

    /** {@link KMeansCentring}'s grid: a block of one thread per dimension for each chunk of keys. */
    public Grid centreGrid() {
        return Grid.of(centreChunks(), HEAD_DIM);
    }

    /** {@link KMeansAssign}'s grid over {@code segments} segments of {@code perSegment} keys. */
    public static Grid assignGrid(int segments, int perSegment) {
        return Grid.of(segments * ((perSegment + ASSIGN_KEYS - 1) / ASSIGN_KEYS), ASSIGN_THREADS);
    }

    /** Keys of one counting-sort tile: a multiple of {@link #RANK_THREADS}, long enough for {@link #MAX_TILES}. */
    public int tileTokens() {
        int passes = (tokens + RANK_THREADS * MAX_TILES - 1) / (RANK_THREADS * MAX_TILES);
        return passes * RANK_THREADS;
    }

    /** Tiles covering {@code sorted} keys. */
    public int tiles(int sorted) {
        return (sorted + tileTokens() - 1) / tileTokens();
    }

    /** Elements of the tile-count matrix (for the most keys sorted, all of them). */
    public long tileCountElements() {
        return (long) tiles(tokens) * clusters;
    }

    /** {@link KMeansUpdate#rank}'s grid: a block per tile. */
    public Grid rankGrid(int sorted) {
        return Grid.of(tiles(sorted), RANK_THREADS);
    }

    /** A thread per cluster ({@link KMeansUpdate#tileOffsets}). */
    public Grid clusterThreadsGrid() {
        return Grid.covering(clusters, 256);
    }

    /** A thread per centroid float ({@link KMeansUpdate#seedCentroids}, {@link KMeansUpdate#uncentre}). */
    public Grid centroidFloatsGrid() {
        return Grid.covering(centroidElements(), 256);
    }

    /** A thread per sorted key ({@link KMeansUpdate#scatter}). */
    public static Grid tokenThreadsGrid(int sorted) {
        return Grid.covering(sorted, 256);
    }

    /** A block of one thread per dimension for each cluster ({@link KMeansUpdate#means}, value sums). */
    public Grid clusterBlocksGrid() {
        return Grid.of(clusters, HEAD_DIM);
    }

    public long keyElements() {
        return (long) tokens * HEAD_DIM;
    }

    public long centroidElements() {
        return (long) clusters * HEAD_DIM;
    }
}
