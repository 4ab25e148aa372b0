package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.VectorMath;

class SphericalKMeansTest {
    private static float[] gaussian(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static double dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    @Test
    void eachKeyGoesToTheCentroidOfLargestInnerProduct() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        for (int[] shape : new int[][] {{37, 24}, {16, 32}, {100, 7}, {1, 16}, {200, 128}}) {
            int count = shape[0];
            int d = shape[1];
            int n = 203;
            float[] keys = gaussian(random, n * d);
            float[] centroids = gaussian(random, (count + 3) * d);
            MaxInnerProduct mip = new MaxInnerProduct(centroids, 3, count, d);
            int[] assignment = new int[n + 5];
            Arrays.fill(assignment, -1);
            mip.assign(keys, 2, n, assignment, 1000);
            assertEquals(-1, assignment[1], "keys outside the range are left alone");
            for (int t = 2; t < n; t++) {
                double best = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < count; c++) {
                    best = Math.max(best, dot(keys, t * d, centroids, (3 + c) * d, d));
                }
                int chosen = assignment[t] - 1000;
                assertTrue(chosen >= 0 && chosen < count, "centroid " + chosen);
                double got = dot(keys, t * d, centroids, (3 + chosen) * d, d);
                assertTrue(got >= best - 1e-4 * (1 + Math.abs(best)), count + " centroids of " + d + ": key " + t
                        + " chose " + got + ", best " + best + " (seed " + seed + ")");
            }
        }
    }

    @Test
    void equalInnerProductsGoToTheLowestCentroid() {
        int d = 8;
        // The same best direction in different blocks and lanes: blocks 0-2 (the one-block loop),
        // and with 80 centroids blocks 1-3 of the four-block tile and block 4 after it.
        int[][] cases = {{40, 5, 21, 37}, {80, 21, 37, 53, 70}, {80, 70, 53}};
        for (int[] tie : cases) {
            int count = tie[0];
            int[] best = Arrays.copyOfRange(tie, 1, tie.length);
            float[] centroids = new float[count * d];
            for (int c : best) {
                centroids[c * d] = 1;
            }
            for (int c = 0; c < count; c++) {
                int centroid = c;
                centroids[c * d + 1] = Arrays.stream(best).anyMatch(b -> b == centroid) ? 0 : 0.5f;
            }
            float[] keys = new float[6 * d];
            for (int t = 0; t < 6; t++) {
                keys[t * d] = 2;
            }
            int[] assignment = new int[6];
            new MaxInnerProduct(centroids, 0, count, d).assign(keys, 0, 6, assignment, 0);
            int lowest = Arrays.stream(best).min().getAsInt();
            assertArrayEquals(new int[] {lowest, lowest, lowest, lowest, lowest, lowest}, assignment,
                    "ties at " + Arrays.toString(best) + " of " + count);
        }
    }

    @Test
    void initialCentroidsAreEvenlySpacedKeys() {
        int d = 2;
        int n = 100;
        float[] keys = new float[n * d];
        for (int t = 0; t < n; t++) {
            keys[t * d] = t;
        }
        float[] centroids = SphericalKMeans.initialCentroids(keys, n, d, 8);
        // ⌊i·12.5 + 6.25⌋
        int[] expected = {6, 18, 31, 43, 56, 68, 81, 93};
        for (int i = 0; i < 8; i++) {
            assertEquals(expected[i], centroids[i * d]);
        }
    }

    @Test
    void finalCentroidsAreTheMeansOfTheirMembers() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        int n = 1000;
        int d = 16;
        float[] keys = gaussian(random, n * d);
        SphericalKMeans.Clustering result = SphericalKMeans.cluster(keys, n, d, new ClusterSizing(2, 64), 10, 1);
        int[] sizes = new int[64];
        double[] sums = new double[64 * d];
        for (int t = 0; t < n; t++) {
            int c = result.assignment()[t];
            sizes[c]++;
            for (int i = 0; i < d; i++) {
                sums[c * d + i] += keys[t * d + i];
            }
        }
        assertArrayEquals(sizes, result.sizes());
        for (int c = 0; c < 64; c++) {
            for (int i = 0; sizes[c] > 0 && i < d; i++) {
                assertEquals(sums[c * d + i] / sizes[c], result.centroids()[c * d + i], 1e-5, "cluster " + c);
            }
        }
    }

    @Test
    void segmentsAreClusteredByTheirOwnCentroidBlocks() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        int d = 32;
        int perSegment = 400;
        int directions = 4;
        // Segment s draws its keys around directions of its own, in runs of 100 positions (topics),
        // so that the positional start puts two of the segment's 8 centroids in each run.
        float[][] centres = new float[2 * directions][];
        for (int j = 0; j < centres.length; j++) {
            centres[j] = gaussian(random, d);
        }
        float[] keys = new float[2 * perSegment * d];
        int[] source = new int[2 * perSegment];
        for (int t = 0; t < 2 * perSegment; t++) {
            int s = t / perSegment;
            source[t] = s * directions + (t % perSegment) / (perSegment / directions);
            for (int i = 0; i < d; i++) {
                keys[t * d + i] = 5 * centres[source[t]][i] + 0.2f * (float) random.nextGaussian();
            }
        }
        SphericalKMeans.Clustering result = SphericalKMeans.cluster(keys, 2 * perSegment, d, new ClusterSizing(2, 16), 10, 1);
        int[] directionOf = new int[16];
        Arrays.fill(directionOf, -1);
        for (int t = 0; t < 2 * perSegment; t++) {
            int c = result.assignment()[t];
            assertEquals(t / perSegment, c / 8, "key " + t + " of segment " + t / perSegment + " is in cluster " + c);
            if (directionOf[c] < 0) {
                directionOf[c] = source[t];
            }
            assertEquals(directionOf[c], source[t], "cluster " + c + " mixes planted groups (seed " + seed + ")");
        }
    }

    @Test
    void aClusteringIsAPureFunctionOfItsInputWhateverTheParallelSplit() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        int n = 3000;
        int d = 64;
        float[] keys = gaussian(random, n * d);
        ClusterSizing sizing = new ClusterSizing(3, 192);
        SphericalKMeans.Clustering one = SphericalKMeans.cluster(keys.clone(), n, d, sizing, 10, 1);
        SphericalKMeans.Clustering again = SphericalKMeans.cluster(keys.clone(), n, d, sizing, 10, 1);
        SphericalKMeans.Clustering split = SphericalKMeans.cluster(keys.clone(), n, d, sizing, 10,
                Math.max(4, ComputePool.threads()));
        for (SphericalKMeans.Clustering other : new SphericalKMeans.Clustering[] {again, split}) {
            assertArrayEquals(one.assignment(), other.assignment());
            assertArrayEquals(one.sizes(), other.sizes());
            assertArrayEquals(one.centroids(), other.centroids());
        }
        assertEquals(n, Arrays.stream(one.sizes()).sum());
    }

    /**
     * The k-means as it was before the score table, kept as the reference: every iteration scans
     * every centroid with MaxInnerProduct, segment grains of 256 keys, then the global pass.
     */
    private static SphericalKMeans.Clustering fullScanReference(float[] keys, int n, int d, ClusterSizing sizing,
                                                               int iterations) {
        int clusters = sizing.clusters();
        int segments = n >= sizing.segments() ? sizing.segments() : 1;
        float[] centroids = SphericalKMeans.initialCentroids(keys, n, d, clusters);
        int[] assignment = new int[n];
        int[] sizes = new int[clusters];
        int perSegment = n / segments;
        int perBlock = clusters / segments;
        for (int iteration = 0; iteration < iterations - 1; iteration++) {
            for (int s = 0; s < segments; s++) {
                MaxInnerProduct block = new MaxInnerProduct(centroids, s * perBlock, perBlock, d);
                for (int from = s * perSegment; from < (s + 1) * perSegment; from += 256) {
                    block.assign(keys, from, Math.min(from + 256, (s + 1) * perSegment), assignment, s * perBlock);
                }
            }
            referenceUpdate(keys, segments * perSegment, d, assignment, centroids, sizes, true);
        }
        MaxInnerProduct all = new MaxInnerProduct(centroids, 0, clusters, d);
        for (int from = 0; from < n; from += 256) {
            all.assign(keys, from, Math.min(n, from + 256), assignment, 0);
        }
        referenceUpdate(keys, n, d, assignment, centroids, sizes, false);
        return new SphericalKMeans.Clustering(assignment, centroids, sizes, 0);
    }

    private static void referenceUpdate(float[] keys, int n, int d, int[] assignment, float[] centroids, int[] sizes,
                                        boolean normalise) {
        float[] sums = new float[sizes.length * d];
        Arrays.fill(sizes, 0);
        for (int t = 0; t < n; t++) {
            sizes[assignment[t]]++;
            VectorMath.addInPlace(sums, assignment[t] * d, keys, t * d, d);
        }
        for (int c = 0; c < sizes.length; c++) {
            if (sizes[c] == 0) {
                continue;
            }
            float inv = 1f / sizes[c];
            float squares = 0;
            for (int i = 0; i < d; i++) {
                float mean = sums[c * d + i] * inv;
                sums[c * d + i] = mean;
                squares += mean * mean;
            }
            float scale = normalise ? 1f / Math.max((float) Math.sqrt(squares), 1e-12f) : 1f;
            for (int i = 0; i < d; i++) {
                centroids[c * d + i] = sums[c * d + i] * scale;
            }
        }
    }

    /**
     * Keys around a few planted directions with norms spread over four orders of magnitude, runs of
     * duplicates, and (if {@code integers}) small integer coordinates, whose inner products tie
     * exactly.
     */
    private static float[] awkwardKeys(Random random, int n, int d, boolean integers) {
        float[][] centres = new float[12][];
        for (int j = 0; j < centres.length; j++) {
            centres[j] = gaussian(random, d);
        }
        float[] keys = new float[n * d];
        for (int t = 0; t < n; t++) {
            if (t > 0 && random.nextInt(10) == 0) {
                System.arraycopy(keys, (t - 1) * d, keys, t * d, d);
                continue;
            }
            float[] centre = centres[random.nextInt(centres.length)];
            float scale = (float) Math.pow(10, random.nextInt(5) - 2);
            for (int i = 0; i < d; i++) {
                float x = scale * (centre[i] + 0.3f * (float) random.nextGaussian());
                keys[t * d + i] = integers ? Math.round(x * 2) : x;
            }
        }
        return keys;
    }

    @Test
    void clusteringEqualsTheFullScanReferenceBitForBit() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        // {keys, d, segments, clusters}: one segment with a partial last grain and n mod 4 != 0,
        // several segments with tail keys outside them, a dimension that is not a multiple of
        // the vector length, and segments of fewer than 4 keys.
        int[][] shapes = {{1027, 32, 1, 64}, {2050, 24, 3, 96}, {603, 7, 2, 40}, {10, 16, 3, 6}, {4101, 128, 1, 256}};
        for (int[] shape : shapes) {
            for (boolean integers : new boolean[] {false, true}) {
                int n = shape[0];
                int d = shape[1];
                ClusterSizing sizing = new ClusterSizing(shape[2], shape[3]);
                float[] keys = awkwardKeys(random, n, d, integers);
                for (int iterations : new int[] {1, 2, 10}) {
                    SphericalKMeans.Clustering expected = fullScanReference(keys.clone(), n, d, sizing, iterations);
                    SphericalKMeans.Clustering got = SphericalKMeans.cluster(keys.clone(), n, d, sizing, iterations,
                            1 + random.nextInt(3));
                    String what = Arrays.toString(shape) + (integers ? " integer" : "") + " keys, " + iterations
                            + " iterations (seed " + seed + ")";
                    assertArrayEquals(expected.assignment(), got.assignment(), what);
                    assertArrayEquals(expected.sizes(), got.sizes(), what);
                    assertArrayEquals(expected.centroids(), got.centroids(), what);
                }
            }
        }
    }

    @Test
    void centroidsThatStopMovingAreNotScoredAgain() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        int n = 4096;
        int d = 64;
        ClusterSizing sizing = new ClusterSizing(1, 256);
        float[] keys = awkwardKeys(random, n, d, false);
        SphericalKMeans.Clustering result = SphericalKMeans.cluster(keys, n, d, sizing, 10, 2);
        long fullScans = 10L * n * sizing.clusters();
        // Planted clusters settle within a few iterations; a table that rescored everything would
        // compute all of them.
        assertTrue(result.innerProducts() < fullScans / 2,
                result.innerProducts() + " inner products of " + fullScans + " (seed " + seed + ")");
    }

    @Test
    void aRangesLastKeysKeepTheirTwoChainScores() {
        // Key 1 · (1, 1, 1, 1) is 1 in one chain (2^24 + 1 rounds to 2^24) and 2 in two chains
        // (even and odd coordinates); key 3 · (1, 1, 1, 1) is 1.5 either way. Centroids start as
        // keys 1 and 3, and of the five keys MaxInnerProduct scores the fifth with two chains.
        float big = 1 << 24;
        float[] keys = {1, 1, 1, 1, big, 1, -big, 1, 1, 1, 1, 1, 1.5f, 0, 0, 0, 1, 1, 1, 1};
        SphericalKMeans.Clustering got = SphericalKMeans.cluster(keys.clone(), 5, 4, new ClusterSizing(1, 2), 1, 1);
        assertArrayEquals(fullScanReference(keys.clone(), 5, 4, new ClusterSizing(1, 2), 1).assignment(),
                got.assignment());
        assertEquals(1, got.assignment()[0]);
        assertEquals(0, got.assignment()[4], "the equal fifth key, scored with two chains, chooses the other centroid");
    }
}
