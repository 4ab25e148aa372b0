package org.retroinfer.kvstore.retro;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;
import org.retroinfer.kernels.VectorMath;

/**
 * Builds one KV head's {@link ClusterBatch} from stored positions (spec §1.2 with the centring of
 * §1.1): subtract the mean key, run {@link SphericalKMeans}, add the mean back to the centroids,
 * sum each cluster's values in F32, and copy every member's key and value, bit for bit, into
 * cluster order.
 */
final class IndexBuilder {
    private IndexBuilder() {}

    /**
     * Clusters every position of {@code source} for {@code kvHead}, splitting the k-means
     * assignments into at most {@code parts} parts; the batch is allocated from {@code arena}.
     */
    static ClusterBatch build(StoredTokens source, int kvHead, int headDim, DType type, ClusterSizing sizing,
                              int iterations, int parts, Arena arena) {
        long length = source.length();
        if (length < 1 || length * headDim > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("an index build takes 1 to " + (Integer.MAX_VALUE - 64) / headDim
                    + " positions at a time, got " + length);
        }
        int n = (int) length;
        float[] keys = new float[n * headDim];
        for (int t = 0; t < n; t++) {
            source.readKey(kvHead, t, keys, t * headDim);
        }
        float[] mean = centre(keys, n, headDim);
        SphericalKMeans.Clustering clustering = SphericalKMeans.cluster(keys, n, headDim, sizing, iterations, parts);
        int clusters = sizing.clusters();
        int[] sizes = clustering.sizes();
        int[] starts = new int[clusters];
        for (int c = 1; c < clusters; c++) {
            starts[c] = starts[c - 1] + sizes[c - 1];
        }
        MemorySegment data = arena.allocate(ClusterBatch.bytes(n, clusters, headDim), 64);
        ClusterBatch batch = new ClusterBatch(data, n, clusters, sizes, starts, headDim, type);
        // Members in token order within each cluster (a stable counting sort), value sums in F32.
        int[] next = starts.clone();
        float[] valueSums = new float[clusters * headDim];
        float[] value = new float[headDim];
        int[] assignment = clustering.assignment();
        for (int t = 0; t < n; t++) {
            int c = assignment[t];
            int slot = next[c]++;
            source.copy(kvHead, t, data, batch.keyOffset(slot), data, batch.valueOffset(slot));
            source.readValue(kvHead, t, value, 0);
            VectorMath.addInPlace(valueSums, c * headDim, value, 0, headDim);
        }
        float[] centroids = clustering.centroids();
        for (int c = 0; c < clusters; c++) {
            VectorMath.addInPlace(centroids, c * headDim, mean, 0, headDim);
            // in the storage type, as the reference keeps them (spec §1.3); the GPU cache scores the same 16-bit values
            for (int i = c * headDim; i < (c + 1) * headDim; i++) {
                centroids[i] = Half.round(type, centroids[i]);
            }
            batch.setCentroid(c, centroids, c * headDim);
            AttentionKernels.store(valueSums, c * headDim, headDim, data, batch.valueSumOffset(c), type);
        }
        return batch;
    }

    /** Subtracts the mean key from every key in place and returns the mean. */
    private static float[] centre(float[] keys, int n, int headDim) {
        float[] sum = new float[headDim];
        for (int t = 0; t < n; t++) {
            VectorMath.addInPlace(sum, 0, keys, t * headDim, headDim);
        }
        float[] mean = new float[headDim];
        for (int i = 0; i < headDim; i++) {
            mean[i] = sum[i] / n;
        }
        int l = FLOAT.length();
        for (int t = 0; t < n; t++) {
            int base = t * headDim;
            int i = 0;
            for (; i <= headDim - l; i += l) {
                FloatVector.fromArray(FLOAT, keys, base + i).sub(FloatVector.fromArray(FLOAT, mean, i))
                        .intoArray(keys, base + i);
            }
            for (; i < headDim; i++) {
                keys[base + i] -= mean[i];
            }
        }
        return mean;
    }
}
