package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.kernels.VectorMath;
import org.retroinfer.kvstore.gpu.GpuKMeans;

/**
 * {@link GpuKMeans} on the accel emulator builds the index {@link IndexBuilder} builds: for the three KV heads of
 * one slot of a dense BF16 cache (built two at once, then the third; 2 segments × 256 keys, 32 clusters, 3
 * iterations), the same assignment, sizes and
 * member order as {@link SphericalKMeans#cluster} on the CPU-centred keys, and the same centroids (mean added
 * back) and F32 value sums.
 *
 * <p>Keys are multiples of 1/8 below 4 in magnitude drawn around 32 directions, so the mean of 512 of them and
 * the centred keys are exact in F32 on both sides: the two runs start from identical keys. They still differ in
 * rounding where they sum in different orders (inner products, and the norm of the segmented iterations'
 * centroids), so a key whose two best centroids tie within F32 rounding could go either way and send the runs
 * apart; with these clustered keys such near-ties are rare, and a mismatch reports the key's margin under the
 * CPU's centroids. The final iteration's sums run in token order on both sides, so with equal assignments the
 * non-empty clusters' centroids and all value sums are bit-equal; an empty cluster keeps a normalised centroid
 * of the segmented iterations, equal to float error.
 */
class GpuKMeansTest {
    private static final int D = 128;
    private static final int KV_HEADS = 3;
    private static final int SLOTS = 2;
    private static final int CAPACITY = 600;
    private static final int TOKENS = 512;
    private static final int ITERATIONS = 3;

    @Test
    void gpuBuildMatchesTheCpuBuild() {
        long seed = Long.getLong("retroinfer.test.seed", 20261127L);
        System.out.println("gpu k-means: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        ClusterSizing sizing = new ClusterSizing(2, 32);
        try (EmulatedDevice device = new EmulatedDevice()) {
            long length = (long) SLOTS * KV_HEADS * CAPACITY * D;
            BF16Array keys = device.bf16(length);
            BF16Array values = device.bf16(length);
            float[][] hostKeys = new float[KV_HEADS][];
            float[][] hostValues = new float[KV_HEADS][];
            for (int h = 0; h < KV_HEADS; h++) {
                hostKeys[h] = clusteredKeys(random);
                hostValues[h] = new float[TOKENS * D];
                for (int i = 0; i < hostValues[h].length; i++) hostValues[h][i] = bf16((float) random.nextGaussian());
                long base = ((long) 1 * KV_HEADS + h) * CAPACITY * D;
                for (int i = 0; i < TOKENS * D; i++) {
                    keys.set(base + i, hostKeys[h][i]);
                    values.set(base + i, hostValues[h][i]);
                }
            }
            GpuKMeans.Clustering[] gpu;
            try (GpuKMeans kmeans = new GpuKMeans(device, TOKENS, sizing, ITERATIONS, 2)) { // two heads at once, then one
                gpu = kmeans.clusterHeads(keys, values, 1, KV_HEADS, CAPACITY);
            }
            for (int h = 0; h < KV_HEADS; h++) {
                compare(h, hostKeys[h], hostValues[h], sizing, gpu[h]);
            }
        }
    }

    /** A build takes a layer's heads while they hold at most 256K keys together, and at least one head. */
    @Test
    void headsAtOnceHoldAQuarterMillionKeys() {
        assertEquals(8, GpuKMeans.headsAtOnce(32_700, 8));
        assertEquals(4, GpuKMeans.headsAtOnce(65_468, 8));
        assertEquals(2, GpuKMeans.headsAtOnce(131_004, 8));
        assertEquals(1, GpuKMeans.headsAtOnce(1_023_932, 8));
        assertEquals(8, GpuKMeans.headsAtOnce(1_024, 8), "an update segment's heads all at once");
        assertEquals(2, GpuKMeans.headsAtOnce(100, 2), "never more heads than there are");
    }

    private static void compare(int head, float[] keys, float[] values, ClusterSizing sizing, GpuKMeans.Clustering gpu) {
        float[] centred = keys.clone();
        float[] mean = centre(centred);
        assertArrayEquals(mean, gpu.mean(), "head " + head + ": the mean key (exact for these keys)");
        SphericalKMeans.Clustering cpu = SphericalKMeans.cluster(centred, TOKENS, D, sizing, ITERATIONS, 1);
        for (int t = 0; t < TOKENS; t++) {
            if (cpu.assignment()[t] != gpu.assignment()[t]) {
                throw new AssertionError("head " + head + " key " + t + ": CPU cluster " + cpu.assignment()[t] + ", GPU "
                        + gpu.assignment()[t] + "; scores under the CPU's final centroids " + score(centred, t, cpu.centroids(),
                        cpu.assignment()[t]) + " and " + score(centred, t, cpu.centroids(), gpu.assignment()[t]));
            }
        }
        assertArrayEquals(cpu.sizes(), gpu.sizes(), "head " + head + " sizes");
        long used = Arrays.stream(cpu.sizes()).filter(s -> s > 0).count();
        assertTrue(used >= sizing.clusters() / 2, "head " + head + ": only " + used + " clusters used, a weak comparison");
        int clusters = sizing.clusters();
        int[] starts = new int[clusters];
        for (int c = 1; c < clusters; c++) starts[c] = starts[c - 1] + cpu.sizes()[c - 1];
        assertArrayEquals(starts, gpu.starts(), "head " + head + " starts");
        // IndexBuilder's stored order: a stable counting sort of the assignment
        int[] next = starts.clone();
        int[] members = new int[TOKENS];
        float[] valueSums = new float[clusters * D];
        for (int t = 0; t < TOKENS; t++) {
            int c = cpu.assignment()[t];
            members[next[c]++] = t;
            VectorMath.addInPlace(valueSums, c * D, values, t * D, D);
        }
        assertArrayEquals(members, gpu.members(), "head " + head + " members in cluster order");
        float[] centroids = cpu.centroids();
        for (int c = 0; c < clusters; c++) VectorMath.addInPlace(centroids, c * D, mean, 0, D);
        System.out.println("head " + head + ": " + used + " clusters used");
        for (int i = 0; i < centroids.length; i++) {
            int c = i / D;
            if (cpu.sizes()[c] > 0) {
                // the final mean is an F32 sum in token order on both sides, over equal keys
                assertEquals(centroids[i], gpu.centroids()[i], "head " + head + " centroid " + c + " dimension " + i % D);
            } else {
                // an empty cluster keeps a segmented iteration's normalised centroid, whose norm both sum in their own order
                assertEquals(centroids[i], gpu.centroids()[i], 1e-6f * Math.max(1, Math.abs(centroids[i])),
                        "head " + head + " empty centroid " + c + " dimension " + i % D);
            }
            assertEquals(valueSums[i], gpu.valueSums()[i], "head " + head + " value sum " + c + " dimension " + i % D);
        }
    }

    /** The CPU's centring, as IndexBuilder does it: the F32 sum in token order, divided by the count. */
    private static float[] centre(float[] keys) {
        float[] sum = new float[D];
        for (int t = 0; t < TOKENS; t++) VectorMath.addInPlace(sum, 0, keys, t * D, D);
        float[] mean = new float[D];
        for (int i = 0; i < D; i++) mean[i] = sum[i] / TOKENS;
        for (int t = 0; t < TOKENS; t++) {
            for (int i = 0; i < D; i++) keys[t * D + i] -= mean[i];
        }
        return mean;
    }

    private static double score(float[] keys, int t, float[] centroids, int c) {
        double dot = 0;
        for (int i = 0; i < D; i++) dot += (double) keys[t * D + i] * centroids[c * D + i];
        return dot;
    }

    /** Keys around 32 random directions (so the clusters are real), as multiples of 1/8 in (−4, 4). */
    private static float[] clusteredKeys(Random random) {
        float[][] directions = new float[32][D];
        for (float[] direction : directions) {
            for (int i = 0; i < D; i++) direction[i] = (float) random.nextGaussian();
        }
        float[] keys = new float[TOKENS * D];
        for (int t = 0; t < TOKENS; t++) {
            float[] direction = directions[random.nextInt(directions.length)];
            for (int i = 0; i < D; i++) {
                double x = direction[i] + 0.5 * random.nextGaussian();
                keys[t * D + i] = (float) Math.max(-31, Math.min(31, Math.rint(8 * x))) / 8;
            }
        }
        return keys;
    }

    private static float bf16(float x) {
        return Float.intBitsToFloat((Float.floatToRawIntBits(x) + 0x7FFF + ((Float.floatToRawIntBits(x) >> 16) & 1)) & 0xFFFF0000);
    }
}
