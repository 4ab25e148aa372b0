package org.retroinfer.kernels.gpu;

import java.lang.foreign.MemorySegment;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * One head's index build on a {@link Device} (spec §1.1–§1.3, as the CPU's {@code IndexBuilder}): centre the
 * head's keys, seed the centroids positionally, run {@code iterations − 1} segmented iterations (assign, counting
 * sort, normalised means), then the global one (plain means), sum each cluster's values and add the mean key back
 * to the centroids. Everything stays in device memory; the results are this object's arrays, valid until the
 * next {@link #run} or {@link #close}. Scratch is allocated once per shape, so a build per (layer, head) after a
 * prefill reuses it. Every launch goes to the device's one stream, in order.
 */
public final class KMeansBuild implements AutoCloseable {
    private static final KernelMethod KEY_SUMS = KernelMethod.of(KMeansCentring.class, "keySums");
    private static final KernelMethod CENTRE = KernelMethod.of(KMeansCentring.class, "centre");
    private static final KernelMethod SEED = KernelMethod.of(KMeansUpdate.class, "seedCentroids");
    private static final KernelMethod NEAREST = KernelMethod.of(KMeansAssign.class, "nearest");
    private static final KernelMethod RANK = KernelMethod.of(KMeansUpdate.class, "rank");
    private static final KernelMethod TILE_OFFSETS = KernelMethod.of(KMeansUpdate.class, "tileOffsets");
    private static final KernelMethod STARTS = KernelMethod.of(KMeansUpdate.class, "clusterStarts");
    private static final KernelMethod SCATTER = KernelMethod.of(KMeansUpdate.class, "scatter");
    private static final KernelMethod MEANS = KernelMethod.of(KMeansUpdate.class, "means");
    private static final KernelMethod VALUE_SUMS = KernelMethod.of(KMeansUpdate.class, "valueSums");
    private static final KernelMethod UNCENTRE = KernelMethod.of(KMeansUpdate.class, "uncentre");

    private final Device device;
    private final KMeansShape shape;
    private final F32Array partials, mean, centred, centroids, valueSums;
    private final I32Array ids, assignment, ranks, members, tileCounts, sizes, starts;
    private final TypedArray[] owned;

    public KMeansBuild(Device device, KMeansShape shape) {
        this.device = device;
        this.shape = shape;
        partials = device.f32((long) shape.centreChunks() * DecodeAttentionShape.HEAD_DIM);
        mean = device.f32(DecodeAttentionShape.HEAD_DIM);
        centred = device.f32(shape.keyElements());
        centroids = device.f32(shape.centroidElements());
        valueSums = device.f32(shape.centroidElements());
        ids = device.i32(shape.clusters());
        assignment = device.i32(shape.tokens());
        ranks = device.i32(shape.tokens());
        members = device.i32(shape.tokens());
        tileCounts = device.i32(shape.tileCountElements());
        sizes = device.i32(shape.clusters());
        starts = device.i32(shape.clusters());
        owned = new TypedArray[] {partials, mean, centred, centroids, valueSums, ids, assignment, ranks, members, tileCounts,
                sizes, starts};
        device.upload(MemorySegment.ofArray(shape.initialTokens()), ids);
    }

    public KMeansShape shape() {
        return shape;
    }

    /**
     * Builds the index of the head whose keys and values start at element {@code base} of {@code keys} and
     * {@code values} (BF16 or F16, both the same type; key t at {@code base + t·HEAD_DIM}).
     */
    public void run(HalfPrecisionArray keys, HalfPrecisionArray values, long base) {
        if (keys.elementType() != values.elementType()) {
            throw new IllegalArgumentException("keys and values must have one type, got " + keys.describe() + " and "
                    + values.describe());
        }
        centre(keys, base);
        for (int i = 1; i < shape.iterations(); i++) {
            segmentedIteration();
        }
        globalIteration();
        finish(values, base);
    }

    /** Centred F32 keys and the mean key, and the positional initial centroids. */
    void centre(HalfPrecisionArray keys, long base) {
        device.launch(KEY_SUMS, shape.centreGrid(), keys, base, shape.tokens(), partials);
        device.launch(CENTRE, shape.centreGrid(), keys, base, shape.tokens(), partials,
                shape.centreChunks(), mean, centred);
        device.launch(SEED, shape.centroidFloatsGrid(), centred, ids, shape.clusters(), centroids);
    }

    /** One of iterations 1 … I−1: each segment against its centroid block, normalised means. */
    void segmentedIteration() {
        iterate(shape.segments(), shape.perSegment(), shape.clustersPerSegment(), true);
    }

    /** Iteration I: every key against every centroid, plain means; leaves the index's member order. */
    void globalIteration() {
        iterate(1, shape.tokens(), shape.clusters(), false);
    }

    /** Value sums over the final clusters, and the mean key added back to the centroids. */
    void finish(HalfPrecisionArray values, long base) {
        device.launch(VALUE_SUMS, shape.clusterBlocksGrid(), values, base,
                members, starts, sizes, valueSums);
        device.launch(UNCENTRE, shape.centroidFloatsGrid(), centroids, mean, shape.clusters());
    }

    /** Only the assignment step of an iteration over {@code segments} segments (for timing it alone). */
    void assign(int segments, int perSegment, int cps) {
        device.launch(NEAREST, KMeansShape.assignGrid(segments, perSegment), centred, centroids, assignment, perSegment, cps);
    }

    /** One assign + update over {@code segments} segments of {@code perSegment} keys and {@code cps} centroids each. */
    private void iterate(int segments, int perSegment, int cps, boolean normalise) {
        int sorted = segments * perSegment;
        int tileTokens = shape.tileTokens();
        int clusters = shape.clusters();
        assign(segments, perSegment, cps);
        device.launch(RANK, shape.rankGrid(sorted), assignment, sorted, tileTokens, clusters, tileCounts, ranks);
        device.launch(TILE_OFFSETS, shape.clusterThreadsGrid(), tileCounts, shape.tiles(sorted), clusters, sizes);
        device.launch(STARTS, Grid.of(1, KMeansShape.SCAN_THREADS), sizes, clusters, starts);
        device.launch(SCATTER, KMeansShape.tokenThreadsGrid(sorted), assignment, ranks, tileCounts, starts, sorted, tileTokens,
                clusters, members);
        device.launch(MEANS, shape.clusterBlocksGrid(), centred, members, starts, sizes, centroids, normalise ? 1 : 0);
    }

    /** Cluster of each key (the global iteration's). */
    public I32Array assignment() {
        return assignment;
    }

    /** F32 {@code [clusters][HEAD_DIM]}: each cluster's mean key (the original keys', mean added back). */
    public F32Array centroids() {
        return centroids;
    }

    /** Members per cluster. */
    public I32Array sizes() {
        return sizes;
    }

    /** Index in {@link #members()} of each cluster's first member. */
    public I32Array starts() {
        return starts;
    }

    /** Key ids in cluster order, token order within a cluster: the stored order of the index's keys and values. */
    public I32Array members() {
        return members;
    }

    /** F32 {@code [clusters][HEAD_DIM]}: Σ of each cluster's values. */
    public F32Array valueSums() {
        return valueSums;
    }

    /** F32 {@code [tokens][HEAD_DIM]}: the keys less their mean, as the k-means saw them. */
    public F32Array centredKeys() {
        return centred;
    }

    /** F32 {@code [HEAD_DIM]}: the mean key subtracted before clustering. */
    public F32Array mean() {
        return mean;
    }

    /** Device bytes of this build's arrays. */
    public long bytes() {
        long total = 0;
        for (TypedArray a : owned) total += a.byteSize();
        return total;
    }

    @Override
    public void close() {
        for (TypedArray a : owned) device.free(a);
    }
}
