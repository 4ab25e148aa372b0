package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ScoreTableTest {
    /** Small integer coordinates: many inner products are exactly equal, so ties are common. */
    private static float[] integers(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextInt(3) - 1;
        }
        return x;
    }

    /** Gaussian coordinates, each vector scaled by its own power of ten. */
    private static float[] spreadNorms(Random random, int vectors, int d) {
        float[] x = new float[vectors * d];
        for (int v = 0; v < vectors; v++) {
            float scale = (float) Math.pow(10, random.nextInt(9) - 4);
            for (int i = 0; i < d; i++) {
                x[v * d + i] = scale * (float) random.nextGaussian();
            }
        }
        return x;
    }

    @Test
    void rescoringOnlyTheChangedCentroidsAssignsAsAFullScan() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        // Key counts are multiples of 4, so that MaxInnerProduct scores every key with one chain.
        for (int[] shape : new int[][] {{200, 37, 24}, {64, 16, 32}, {1000, 70, 128}, {4, 1, 16}, {132, 9, 7}}) {
            int n = shape[0];
            int count = shape[1];
            int d = shape[2];
            boolean ties = random.nextBoolean();
            float[] keys = ties ? integers(random, (n + 2) * d) : spreadNorms(random, n + 2, d);
            // Duplicate keys.
            System.arraycopy(keys, 2 * d, keys, (n - 1) * d, d);
            float[] centroids = ties ? integers(random, (count + 5) * d) : spreadNorms(random, count + 5, d);
            ScoreTable table = new ScoreTable(keys, 2, n, count, d);
            int[] all = new int[count];
            for (int j = 0; j < count; j++) {
                all[j] = j;
            }
            for (int round = 0; round < 4; round++) {
                int[] changed = round == 0 ? all
                        : random.ints(0, count).distinct().limit(random.nextInt(count + 1)).sorted().toArray();
                for (int j : round == 0 ? new int[0] : changed) {
                    float[] fresh = ties ? integers(random, d) : spreadNorms(random, 1, d);
                    System.arraycopy(fresh, 0, centroids, (5 + j) * d, d);
                }
                if (changed.length > 0) {
                    // An equal pair of centroids: every key's two scores tie.
                    System.arraycopy(centroids, (5 + random.nextInt(count)) * d, centroids, (5 + changed[0]) * d, d);
                }
                int[] got = new int[n + 3];
                int[] expected = new int[n + 3];
                table.refresh(centroids, 5, changed, changed.length, got, 3, 100, 1 + round % 3);
                new MaxInnerProduct(centroids, 5, count, d).assign(keys, 2, n + 2, expected, 100);
                assertArrayEquals(Arrays.copyOfRange(expected, 2, n + 2), Arrays.copyOfRange(got, 3, n + 3),
                        n + " keys, " + count + " centroids of " + d + ", round " + round + " (seed " + seed + ")");
            }
        }
    }

    @Test
    void refreshCountsTheInnerProductsItComputes() {
        int d = 16;
        float[] keys = new float[40 * d];
        float[] centroids = new float[10 * d];
        ScoreTable table = new ScoreTable(keys, 0, 40, 10, d);
        int[] assignment = new int[40];
        assertEquals(400, table.refresh(centroids, 0, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10, assignment, 0, 0, 1));
        assertEquals(120, table.refresh(centroids, 0, new int[] {2, 5, 9}, 3, assignment, 0, 0, 2));
    }
}
