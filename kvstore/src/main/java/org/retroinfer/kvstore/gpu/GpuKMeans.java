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
 * <p>The device scratch is sized for one token count and a number of heads built at once (a layer's KV heads, or as many
 * as {@link #headsAtOnce} allows), and reused by every layer of that length.
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

    /**
     * Keys a build takes at once, over all its heads: enough assignment blocks to fill a large GPU several times
     * (2048 of 128 keys), while its scratch (F32 centred keys, 512 bytes a key, and the callers' 16-bit keys and
     * values) stays a few hundred MiB.
     */
    static final long KEYS_AT_ONCE = 1 << 18;

    /** A build of {@code tokens} keys per head into {@code sizing}'s clusters over {@code iterations} iterations. */
    public GpuKMeans(Device device, int tokens, ClusterSizing sizing, int iterations) {
        this(device, tokens, sizing, iterations, 1);
    }

    /** As {@link #GpuKMeans(Device, int, ClusterSizing, int)}, building up to {@code heads} heads at once. */
    public GpuKMeans(Device device, int tokens, ClusterSizing sizing, int iterations, int heads) {
        this.device = device;
        this.build = new KMeansBuild(device, KMeansShape.of(tokens, sizing.clusters(), sizing.segments(), iterations), heads);
    }

    /** How many of {@code heads} heads of {@code tokens} keys to build at once: all, or {@link #KEYS_AT_ONCE} keys' worth. */
    public static int headsAtOnce(long tokens, int heads) {
        return (int) Math.max(1, Math.min(heads, KEYS_AT_ONCE / Math.max(1, tokens)));
    }

    public KMeansShape shape() {
        return build.shape();
    }

    /** The most heads one run builds. */
    public int heads() {
        return build.heads();
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
        return download(0);
    }

    /**
     * Clusters the {@code shape().tokens()} vectors of {@code keys} (and {@code values}) from element
     * {@code firstElement} on: a head's positions past the sinks, or a steady zone's oldest generated ones.
     */
    public Clustering clusterAt(HalfPrecisionArray keys, HalfPrecisionArray values, long firstElement) {
        runAt(keys, values, firstElement, 0, 1);
        return download(0);
    }

    /**
     * The clustering of {@code count} heads (at most {@link #heads()}), head h's {@code shape().tokens()} vectors
     * from element {@code firstElement + h·headStride}, left on the device ({@link #results}, head h's at its place)
     * for kernels that write them into an index there; nothing is downloaded.
     */
    public void runAt(HalfPrecisionArray keys, HalfPrecisionArray values, long firstElement, long headStride, int count) {
        if (firstElement < 0 || firstElement % HEAD_DIM != 0 || headStride % HEAD_DIM != 0
                || firstElement + (count - 1) * headStride + (long) build.shape().tokens() * HEAD_DIM > keys.length()) {
            throw new IllegalArgumentException(count + " heads from element " + firstElement + ", " + headStride
                    + " apart, are not " + build.shape().tokens() + " whole vectors each of an array of " + keys.length()
                    + " elements");
        }
        build.run(keys, values, firstElement, headStride, count);
    }

    /** The last run's arrays on the device: members in cluster order, centroids, value sums, sizes, starts. */
    public KMeansBuild results() {
        return build;
    }

    /** Every KV head of {@code slot}, head h's clustering at index h, {@link #heads()} heads at a time. */
    public Clustering[] clusterHeads(HalfPrecisionArray keys, HalfPrecisionArray values, int slot, int kvHeads, long capacity) {
        if (capacity < build.shape().tokens()) {
            throw new IllegalArgumentException("a head of capacity " + capacity + " holds fewer than " + build.shape().tokens()
                    + " positions");
        }
        Clustering[] out = new Clustering[kvHeads];
        for (int first = 0; first < kvHeads; first += build.heads()) {
            int count = Math.min(build.heads(), kvHeads - first);
            runAt(keys, values, ((long) slot * kvHeads + first) * capacity * HEAD_DIM, capacity * HEAD_DIM, count);
            for (int h = 0; h < count; h++) {
                out[first + h] = download(h);
            }
        }
        return out;
    }

    /** Head {@code head}'s clustering of the last run. */
    private Clustering download(int head) {
        KMeansShape shape = build.shape();
        int[] assignment = new int[shape.tokens()];
        int[] members = new int[shape.tokens()];
        int[] sizes = new int[shape.clusters()];
        int[] starts = new int[shape.clusters()];
        float[] centroids = new float[shape.clusters() * HEAD_DIM];
        float[] valueSums = new float[shape.clusters() * HEAD_DIM];
        float[] mean = new float[HEAD_DIM];
        long n = shape.tokens(), c = shape.clusters(), e = shape.centroidElements();
        device.download(build.assignment().slice(head * n, n), MemorySegment.ofArray(assignment));
        device.download(build.members().slice(head * n, n), MemorySegment.ofArray(members));
        device.download(build.sizes().slice(head * c, c), MemorySegment.ofArray(sizes));
        device.download(build.starts().slice(head * c, c), MemorySegment.ofArray(starts));
        device.download(build.centroids().slice(head * e, e), MemorySegment.ofArray(centroids));
        device.download(build.valueSums().slice(head * e, e), MemorySegment.ofArray(valueSums));
        device.download(build.mean().slice((long) head * HEAD_DIM, HEAD_DIM), MemorySegment.ofArray(mean));
        return new Clustering(assignment, centroids, sizes, starts, members, valueSums, mean);
    }

    @Override
    public void close() {
        build.close();
    }
}
