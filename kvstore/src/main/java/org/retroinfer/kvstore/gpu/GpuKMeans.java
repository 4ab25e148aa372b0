package org.retroinfer.kvstore.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.MemorySegment;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.kernels.gpu.KMeansBuild;
import org.retroinfer.kernels.gpu.KMeansShape;
import org.retroinfer.kvstore.retro.ClusterSizing;

/**
 * The index build of a prompt's heads on a {@link Device}, from the dense K/V the GPU prefill left
 * ({@code [slots][kvHeads][capacity][HEAD_DIM]} BF16 or F16, as {@link GpuKvCache} keeps them): for each head the
 * segmented spherical k-means of the CPU's {@code IndexBuilder} and {@code SphericalKMeans} (spec §1.1–§1.3) run by
 * {@link KMeansBuild}, and the clustering brought back to the host in the form the wave index stores: the
 * assignment, the centroids (mean key per cluster, F32), the sizes, the F32 value sums, and the members in cluster
 * order (token order within a cluster, the order {@code IndexBuilder} copies keys and values in).
 *
 * <p>The device scratch is sized for one token count and reused by every head and layer of that length.
 */
public final class GpuKMeans implements AutoCloseable {
    private final Device device;
    private final KMeansBuild build;

    /**
     * One head's clustering. Cluster c has {@code sizes[c]} members, {@code members[starts[c] ..]} in token order,
     * centroid {@code centroids[c·HEAD_DIM ..]} and value sum {@code valueSums[c·HEAD_DIM ..]}; {@code mean} is the
     * mean key subtracted before clustering (already added back to the centroids).
     */
    public record Clustering(int[] assignment, float[] centroids, int[] sizes, int[] starts, int[] members,
            float[] valueSums, float[] mean) {}

    /** A build of {@code tokens} keys per head into {@code sizing}'s clusters over {@code iterations} iterations. */
    public GpuKMeans(Device device, int tokens, ClusterSizing sizing, int iterations) {
        this.device = device;
        this.build = new KMeansBuild(device, KMeansShape.of(tokens, sizing.clusters(), sizing.segments(), iterations));
    }

    public KMeansShape shape() {
        return build.shape();
    }

    /**
     * Clusters the first {@code shape().tokens()} positions of (slot, kvHead) of a dense cache of {@code kvHeads}
     * heads and {@code capacity} positions per head.
     */
    public Clustering cluster(HalfPrecisionArray keys, HalfPrecisionArray values, int slot, int kvHead, int kvHeads,
            long capacity) {
        if (capacity < build.shape().tokens()) {
            throw new IllegalArgumentException("a head of capacity " + capacity + " holds fewer than " + build.shape().tokens()
                    + " positions");
        }
        build.run(keys, values, ((long) slot * kvHeads + kvHead) * capacity * HEAD_DIM);
        return download();
    }

    /**
     * Clusters the {@code shape().tokens()} vectors of {@code keys} (and {@code values}) from element
     * {@code firstElement} on: a head's positions past the sinks, or a steady zone's oldest generated ones.
     */
    public Clustering clusterAt(HalfPrecisionArray keys, HalfPrecisionArray values, long firstElement) {
        runAt(keys, values, firstElement);
        return download();
    }

    /**
     * {@link #clusterAt} leaving the results on the device ({@link #results}) for kernels that write them into an index
     * there; nothing is downloaded.
     */
    public void runAt(HalfPrecisionArray keys, HalfPrecisionArray values, long firstElement) {
        if (firstElement < 0 || firstElement % HEAD_DIM != 0
                || firstElement + (long) build.shape().tokens() * HEAD_DIM > keys.length()) {
            throw new IllegalArgumentException("element " + firstElement + " does not start " + build.shape().tokens()
                    + " whole vectors of an array of " + keys.length() + " elements");
        }
        build.run(keys, values, firstElement);
    }

    /** The last run's arrays on the device: members in cluster order, centroids, value sums, sizes, starts. */
    public KMeansBuild results() {
        return build;
    }

    /** Every KV head of {@code slot}, head h's clustering at index h. */
    public Clustering[] clusterHeads(HalfPrecisionArray keys, HalfPrecisionArray values, int slot, int kvHeads, long capacity) {
        Clustering[] out = new Clustering[kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            out[h] = cluster(keys, values, slot, h, kvHeads, capacity);
        }
        return out;
    }

    private Clustering download() {
        KMeansShape shape = build.shape();
        int[] assignment = new int[shape.tokens()];
        int[] members = new int[shape.tokens()];
        int[] sizes = new int[shape.clusters()];
        int[] starts = new int[shape.clusters()];
        float[] centroids = new float[shape.clusters() * HEAD_DIM];
        float[] valueSums = new float[shape.clusters() * HEAD_DIM];
        float[] mean = new float[HEAD_DIM];
        device.download(build.assignment(), MemorySegment.ofArray(assignment));
        device.download(build.members(), MemorySegment.ofArray(members));
        device.download(build.sizes(), MemorySegment.ofArray(sizes));
        device.download(build.starts(), MemorySegment.ofArray(starts));
        device.download(build.centroids(), MemorySegment.ofArray(centroids));
        device.download(build.valueSums(), MemorySegment.ofArray(valueSums));
        device.download(build.mean(), MemorySegment.ofArray(mean));
        return new Clustering(assignment, centroids, sizes, starts, members, valueSums, mean);
    }

    @Override
    public void close() {
        build.close();
    }
}
