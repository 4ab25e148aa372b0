package org.retroinfer.kvstore.retro;

import java.util.Arrays;
import org.retroinfer.kernels.VectorMath;

/**
 * Segmented spherical k-means over one head's (mean-centred) keys, exactly as the reference code
 * (spec §1.2, {@code cache_hub/kmeans.py}):
 * <ol>
 *   <li>centroid i starts as the key at token ⌊i·N/C + N/(2C)⌋ (positional, no randomness);</li>
 *   <li>iterations 1 … I−1 are segmented: the first S·⌊N/S⌋ tokens form S segments of ⌊N/S⌋, and
 *       segment s is clustered against centroid block s only (C/S centroids); each token joins the
 *       centroid of largest inner product, and each non-empty centroid becomes its members' mean,
 *       L2-normalised;</li>
 *   <li>iteration I is global: every token against every centroid, and each non-empty centroid
 *       becomes its members' plain mean (not normalised), which is what the estimation zone's
 *       Jensen bound needs. An empty centroid keeps its previous value (and is masked later).</li>
 * </ol>
 * Sums are F32, accumulated in token order, so a run is a pure function of its input.
 */
final class SphericalKMeans {
    /** Keys per unit of parallel assignment work. */
    private static final int TOKEN_GRAIN = 256;
    /** torch.nn.functional.normalize's eps: a zero vector stays zero rather than becoming NaN. */
    private static final float NORM_EPS = 1e-12f;
    /**
     * The largest {@link ScoreTable} a segment keeps (64 MiB): the default segment of 8K keys and 512
     * centroids needs 16 MiB, while segmentTokens allows segments whose table would take gigabytes;
     * those score every centroid in every iteration instead.
     */
    private static final long MAX_TABLE_FLOATS = 1 << 24;

    /**
     * The outcome: token t joined cluster {@code assignment[t]}; cluster c has {@code sizes[c]}
     * members and centroid {@code centroids[c·headDim ..]} (the mean of its members).
     * {@code innerProducts} counts the key-centroid inner products computed on the way.
     */
    record Clustering(int[] assignment, float[] centroids, int[] sizes, long innerProducts) {}

    private SphericalKMeans() {}

    /**
     * Clusters {@code n} keys of {@code headDim} floats ({@code keys[t·headDim ..]}) into
     * {@code sizing.clusters()} clusters over {@code sizing.segments()} segments, in
     * {@code iterations} iterations, splitting the assignments into at most {@code parts} parts.
     */
    static Clustering cluster(float[] keys, int n, int headDim, ClusterSizing sizing, int iterations, int parts) {
        if (n < 1) {
            throw new IllegalArgumentException("k-means needs at least one key");
        }
        int clusters = sizing.clusters();
        // Fewer keys than segments (only with tiny configurations) cluster as one segment.
        int segments = n >= sizing.segments() ? sizing.segments() : 1;
        float[] centroids = initialCentroids(keys, n, headDim, clusters);
        int[] assignment = new int[n];
        int[] sizes = new int[clusters];
        int perSegment = n / segments;
        int clustersPerSegment = clusters / segments;
        long products = 0;
        // Segments share no keys and no centroids, so each runs its iterations on its own. With one
        // segment the global pass sees the same keys and centroids, so it is the segment's last
        // iteration, without normalisation.
        boolean single = segments == 1;
        for (int s = 0; s < segments; s++) {
            products += clusterSegment(keys, s * perSegment, perSegment, headDim, centroids, s * clustersPerSegment,
                    clustersPerSegment, single ? iterations : iterations - 1, !single, assignment, sizes, parts);
        }
        if (!single) {
            products += scanAll(keys, 0, n, headDim, centroids, 0, clusters, assignment, parts);
            update(keys, 0, n, headDim, assignment, centroids, sizes, 0, clusters, false);
        }
        return new Clustering(assignment, centroids, sizes, products);
    }

    /**
     * Runs {@code iterations} iterations over keys [from, from + count) and centroids [first, first +
     * columns), the last one normalised only if {@code normaliseLast}; returns the inner products
     * computed. Only centroids that the previous update changed are scored again (see ScoreTable).
     */
    private static long clusterSegment(float[] keys, int from, int count, int headDim, float[] centroids, int first,
                                       int columns, int iterations, boolean normaliseLast, int[] assignment,
                                       int[] sizes, int parts) {
        // MaxInnerProduct scores the last count mod 4 keys of a range with two chains, the table with one.
        int tabled = count - count % 4;
        ScoreTable table = tabled > 0 && ScoreTable.floats(tabled, columns) <= MAX_TABLE_FLOATS
                ? new ScoreTable(keys, from, tabled, columns, headDim) : null;
        int[] changed = new int[columns];
        for (int j = 0; j < columns; j++) {
            changed[j] = j;
        }
        int changedCount = columns;
        float[] previous = new float[columns * headDim];
        long products = 0;
        for (int iteration = 0; iteration < iterations; iteration++) {
            if (table != null) {
                products += table.refresh(centroids, first, changed, changedCount, assignment, from, first, parts);
                products += scanAll(keys, from + tabled, from + count, headDim, centroids, first, columns, assignment,
                        parts);
            } else {
                products += scanAll(keys, from, from + count, headDim, centroids, first, columns, assignment, parts);
            }
            System.arraycopy(centroids, first * headDim, previous, 0, columns * headDim);
            update(keys, from, from + count, headDim, assignment, centroids, sizes, first, columns,
                    normaliseLast || iteration < iterations - 1);
            changedCount = 0;
            for (int j = 0; j < columns; j++) {
                int c = (first + j) * headDim;
                if (!Arrays.equals(previous, j * headDim, (j + 1) * headDim, centroids, c, c + headDim)) {
                    changed[changedCount++] = j;
                }
            }
        }
        return products;
    }

    /**
     * Assigns keys [from, to) to the best of centroids [first, first + count) by a full
     * {@link MaxInnerProduct} scan; returns the inner products computed.
     */
    private static long scanAll(float[] keys, int from, int to, int headDim, float[] centroids, int first, int count,
                                int[] assignment, int parts) {
        if (from == to) {
            return 0;
        }
        MaxInnerProduct all = new MaxInnerProduct(centroids, first, count, headDim);
        SplitWork.run((to - from + TOKEN_GRAIN - 1) / TOKEN_GRAIN, parts, (start, end) -> {
            for (int g = start; g < end; g++) {
                all.assign(keys, from + g * TOKEN_GRAIN, Math.min(to, from + (g + 1) * TOKEN_GRAIN), assignment, first);
            }
        });
        return (long) (to - from) * count;
    }

    /** Centroid i = key ⌊i·(N/C) + N/(2C)⌋, computed in float as the reference does (torch float32). */
    static float[] initialCentroids(float[] keys, int n, int headDim, int clusters) {
        float[] centroids = new float[clusters * headDim];
        float step = (float) ((double) n / clusters);
        float half = (float) ((double) n / clusters / 2);
        for (int i = 0; i < clusters; i++) {
            int token = Math.min((int) ((float) i * step + half), n - 1);
            System.arraycopy(keys, token * headDim, centroids, i * headDim, headDim);
        }
        return centroids;
    }

    /**
     * Each of centroids [first, first + count) with members among tokens [from, to) becomes their
     * mean, L2-normalised if {@code normalise}; centroids without members keep their value.
     * {@code sizes} gets the counts. Tokens in the range must belong to centroids in the range.
     */
    private static void update(float[] keys, int from, int to, int headDim, int[] assignment, float[] centroids,
                               int[] sizes, int first, int count, boolean normalise) {
        float[] sums = new float[count * headDim];
        Arrays.fill(sizes, first, first + count, 0);
        for (int t = from; t < to; t++) {
            int c = assignment[t] - first;
            sizes[first + c]++;
            VectorMath.addInPlace(sums, c * headDim, keys, t * headDim, headDim);
        }
        for (int c = 0; c < count; c++) {
            if (sizes[first + c] == 0) {
                continue;
            }
            int base = c * headDim;
            float inv = 1f / sizes[first + c];
            float squares = 0;
            for (int i = 0; i < headDim; i++) {
                float mean = sums[base + i] * inv;
                sums[base + i] = mean;
                squares += mean * mean;
            }
            float scale = normalise ? 1f / Math.max((float) Math.sqrt(squares), NORM_EPS) : 1f;
            for (int i = 0; i < headDim; i++) {
                centroids[(first + c) * headDim + i] = sums[base + i] * scale;
            }
        }
    }
}
