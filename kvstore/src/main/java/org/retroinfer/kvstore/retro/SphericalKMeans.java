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
     * The outcome: token t joined cluster {@code assignment[t]}; cluster c has {@code sizes[c]}
     * members and centroid {@code centroids[c·headDim ..]} (the mean of its members).
     */
    record Clustering(int[] assignment, float[] centroids, int[] sizes) {}

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
        for (int iteration = 0; iteration < iterations - 1; iteration++) {
            MaxInnerProduct[] blocks = new MaxInnerProduct[segments];
            for (int s = 0; s < segments; s++) {
                blocks[s] = new MaxInnerProduct(centroids, s * clustersPerSegment, clustersPerSegment, headDim);
            }
            int grainsPerSegment = (perSegment + TOKEN_GRAIN - 1) / TOKEN_GRAIN;
            SplitWork.run(segments * grainsPerSegment, parts, (start, end) -> {
                for (int g = start; g < end; g++) {
                    int s = g / grainsPerSegment;
                    int from = s * perSegment + (g % grainsPerSegment) * TOKEN_GRAIN;
                    int to = Math.min(from + TOKEN_GRAIN, (s + 1) * perSegment);
                    blocks[s].assign(keys, from, to, assignment, s * clustersPerSegment);
                }
            });
            update(keys, segments * perSegment, headDim, assignment, centroids, sizes, true);
        }
        MaxInnerProduct all = new MaxInnerProduct(centroids, 0, clusters, headDim);
        SplitWork.run((n + TOKEN_GRAIN - 1) / TOKEN_GRAIN, parts, (start, end) -> {
            for (int g = start; g < end; g++) {
                all.assign(keys, g * TOKEN_GRAIN, Math.min(n, (g + 1) * TOKEN_GRAIN), assignment, 0);
            }
        });
        update(keys, n, headDim, assignment, centroids, sizes, false);
        return new Clustering(assignment, centroids, sizes);
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
     * Each centroid with members among tokens [0, n) becomes their mean, L2-normalised if
     * {@code normalise}; centroids without members keep their value. {@code sizes} gets the counts.
     */
    private static void update(float[] keys, int n, int headDim, int[] assignment, float[] centroids, int[] sizes,
                               boolean normalise) {
        int clusters = sizes.length;
        float[] sums = new float[clusters * headDim];
        Arrays.fill(sizes, 0);
        for (int t = 0; t < n; t++) {
            int c = assignment[t];
            sizes[c]++;
            VectorMath.addInPlace(sums, c * headDim, keys, t * headDim, headDim);
        }
        for (int c = 0; c < clusters; c++) {
            if (sizes[c] == 0) {
                continue;
            }
            int base = c * headDim;
            float inv = 1f / sizes[c];
            float squares = 0;
            for (int i = 0; i < headDim; i++) {
                float mean = sums[base + i] * inv;
                sums[base + i] = mean;
                squares += mean * mean;
            }
            float scale = normalise ? 1f / Math.max((float) Math.sqrt(squares), NORM_EPS) : 1f;
            for (int i = 0; i < headDim; i++) {
                centroids[base + i] = sums[base + i] * scale;
            }
        }
    }
}
