package org.retroinfer.kernels.gpu;

import java.lang.foreign.MemorySegment;
import org.retroinfer.accel.Switch;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * The index build of up to {@code heads} heads at once on a {@link Device} (spec §1.1–§1.3, as the CPU's
 * {@code IndexBuilder}, each head on its own): centre each head's keys, seed the centroids positionally, run
 * {@code iterations − 1} segmented iterations (assign, counting sort, normalised means), then the global one (plain
 * means), sum each cluster's values and add the mean key back to the centroids. Every step is one launch for all the
 * heads (the grid's y dimension, {@link KMeansShape#stacked}), as the reference clusters a layer's groups as one
 * batch: a head of a 32K prompt alone fills only 256 assignment blocks, two a multiprocessor, and would pay its
 * launches eight times over. Everything stays in device memory; the results are this object's arrays, head h's after
 * head h − 1's ({@link KMeansShape}), valid until the next {@link #run} or {@link #close}. Scratch is allocated once
 * per shape, so every layer of a prefill reuses it. Every launch goes to the device's one stream, in order.
 */
public final class KMeansBuild implements AutoCloseable {
    /** The most heads a build stacks: the grid's y dimension. */
    public static final int MAX_HEADS = 65_535;
    private static final KernelMethod KEY_SUMS = KernelMethod.of(KMeansCentring.class, "keySums");
    private static final KernelMethod CENTRE = KernelMethod.of(KMeansCentring.class, "centre");
    private static final KernelMethod SEED = KernelMethod.of(KMeansUpdate.class, "seedCentroids");
    private static final KernelMethod NEAREST = KernelMethod.of(KMeansAssign.class, "nearest");
    private static final KernelMethod SPLIT = KernelMethod.of(KMeansTensorAssign.class, "split");
    private static final KernelMethod CANDIDATES = KernelMethod.of(KMeansTensorAssign.class, "candidates");
    private static final KernelMethod REFINE = KernelMethod.of(KMeansTensorAssign.class, "refine");
    /**
     * The assignment the builds use unless told: the tensor cores, 1.9× faster than the CUDA cores for a layer of a
     * 32K prompt and 2.3× at 128K on the H100 (docs/results/gpu-kmeans), with the same result bit for bit;
     * {@code -Dretroinfer.kmeans.assignment=cuda-cores} picks the CUDA cores, to compare.
     */
    public static final Assignment DEFAULT_ASSIGNMENT = Assignment.named(
            Switch.choice("retroinfer.kmeans.assignment", "tensor-cores", "cuda-cores"));

    /** How the assignment step runs; both give every key the same centroid, bit for bit. */
    public enum Assignment {
        /** {@link KMeansAssign#nearest}: F32 FMAs. */
        CUDA_CORES,
        /** {@link KMeansTensorAssign}: BF16 {@code mma} in three terms, then the candidates scored exactly. */
        TENSOR_CORES;

        /** The assignment called {@code name}: {@code cuda-cores} or {@code tensor-cores}. */
        public static Assignment named(String name) {
            return switch (name) {
                case "cuda-cores" -> CUDA_CORES;
                case "tensor-cores" -> TENSOR_CORES;
                default -> throw new IllegalArgumentException("retroinfer.kmeans.assignment: unknown assignment '" + name
                        + "'; use cuda-cores or tensor-cores");
            };
        }
    }
    private static final KernelMethod RANK = KernelMethod.of(KMeansUpdate.class, "rank");
    private static final KernelMethod TILE_OFFSETS = KernelMethod.of(KMeansUpdate.class, "tileOffsets");
    private static final KernelMethod STARTS = KernelMethod.of(KMeansUpdate.class, "clusterStarts");
    private static final KernelMethod SCATTER = KernelMethod.of(KMeansUpdate.class, "scatter");
    private static final KernelMethod MEANS = KernelMethod.of(KMeansUpdate.class, "means");
    private static final KernelMethod VALUE_SUMS = KernelMethod.of(KMeansUpdate.class, "valueSums");
    private static final KernelMethod UNCENTRE = KernelMethod.of(KMeansUpdate.class, "uncentre");

    private final Device device;
    private final KMeansShape shape;
    private final int heads;
    private final Assignment assignmentKind;
    private final F32Array partials, mean, centred, centroids, valueSums;
    private final I32Array ids, assignment, ranks, members, tileCounts, sizes, starts;
    /** The tensor cores' scratch ({@link KMeansTensorAssign}'s layout); null on CUDA cores. */
    private final I32Array keyHi, keyLo, centroidHi, centroidLo, candidates, flags;
    private final F32Array keyNorms, centroidNorms;
    private final TypedArray[] owned;

    /** A build of one head at a time. */
    public KMeansBuild(Device device, KMeansShape shape) {
        this(device, shape, 1);
    }

    /** A build of up to {@code heads} heads at once, each of {@code shape}, assigning as {@link #DEFAULT_ASSIGNMENT}. */
    public KMeansBuild(Device device, KMeansShape shape, int heads) {
        this(device, shape, heads, DEFAULT_ASSIGNMENT);
    }

    /** A build of up to {@code heads} heads at once, each of {@code shape}, assigning on {@code kind}. */
    public KMeansBuild(Device device, KMeansShape shape, int heads, Assignment kind) {
        if (heads < 1 || heads > MAX_HEADS) {
            throw new IllegalArgumentException("a build holds 1 to " + MAX_HEADS + " heads, got " + heads);
        }
        this.device = device;
        this.shape = shape;
        this.heads = heads;
        this.assignmentKind = kind;
        partials = device.f32((long) heads * shape.centreChunks() * DecodeAttentionShape.HEAD_DIM);
        mean = device.f32((long) heads * DecodeAttentionShape.HEAD_DIM);
        centred = device.f32(heads * shape.keyElements());
        centroids = device.f32(heads * shape.centroidElements());
        valueSums = device.f32(heads * shape.centroidElements());
        ids = device.i32(shape.clusters());
        assignment = device.i32((long) heads * shape.tokens());
        ranks = device.i32((long) heads * shape.tokens());
        members = device.i32((long) heads * shape.tokens());
        tileCounts = device.i32(heads * shape.tileCountElements());
        sizes = device.i32((long) heads * shape.clusters());
        starts = device.i32((long) heads * shape.clusters());
        boolean tensor = kind == Assignment.TENSOR_CORES;
        long keyWords = heads * shape.keyElements() / 2, centroidWords = heads * shape.centroidElements() / 2;
        keyHi = tensor ? device.i32(keyWords) : null;
        keyLo = tensor ? device.i32(keyWords) : null;
        centroidHi = tensor ? device.i32(centroidWords) : null;
        centroidLo = tensor ? device.i32(centroidWords) : null;
        candidates = tensor ? device.i32((long) heads * shape.tokens() * KMeansTensorAssign.CANDIDATES) : null;
        flags = tensor ? device.i32((long) heads * shape.tokens()) : null;
        keyNorms = tensor ? device.f32((long) heads * shape.tokens()) : null;
        centroidNorms = tensor ? device.f32((long) heads * shape.clusters()) : null;
        owned = java.util.stream.Stream.of(partials, mean, centred, centroids, valueSums, ids, assignment, ranks, members,
                tileCounts, sizes, starts, keyHi, keyLo, centroidHi, centroidLo, candidates, flags, keyNorms, centroidNorms)
                .filter(java.util.Objects::nonNull).toArray(TypedArray[]::new);
        device.upload(MemorySegment.ofArray(shape.initialTokens()), ids);
    }

    public KMeansShape shape() {
        return shape;
    }

    /** The most heads one {@link #run} builds. */
    public int heads() {
        return heads;
    }

    /**
     * Builds the index of the head whose keys and values start at element {@code base} of {@code keys} and
     * {@code values} (BF16 or F16, both the same type; key t at {@code base + t·HEAD_DIM}).
     */
    public void run(HalfPrecisionArray keys, HalfPrecisionArray values, long base) {
        run(keys, values, base, 0, 1);
    }

    /**
     * Builds the indexes of {@code count} heads (at most {@link #heads()}), head h's keys and values starting at
     * element {@code base + h·headStride}; head h's results are at its place in this build's arrays.
     */
    public void run(HalfPrecisionArray keys, HalfPrecisionArray values, long base, long headStride, int count) {
        if (keys.elementType() != values.elementType()) {
            throw new IllegalArgumentException("keys and values must have one type, got " + keys.describe() + " and "
                    + values.describe());
        }
        if (count < 1 || count > heads) {
            throw new IllegalArgumentException("a build of " + heads + " heads runs 1 to " + heads + " at once, got " + count);
        }
        long last = base + (count - 1) * headStride;
        if (base < 0 || headStride < 0 || last + shape.keyElements() > keys.length() || last + shape.keyElements() > values.length()) {
            throw new IllegalArgumentException(count + " heads of " + shape.tokens() + " vectors from element " + base
                    + ", " + headStride + " apart, do not fit arrays of " + keys.length() + " and " + values.length());
        }
        centre(keys, base, headStride, count);
        for (int i = 1; i < shape.iterations(); i++) {
            segmentedIteration(count);
        }
        globalIteration(count);
        finish(values, base, headStride, count);
    }

    /** Centred F32 keys and the mean key, and the positional initial centroids. */
    void centre(HalfPrecisionArray keys, long base, long headStride, int count) {
        Grid grid = KMeansShape.stacked(shape.centreGrid(), count);
        device.launch(KEY_SUMS, grid, keys, base, headStride, shape.tokens(), partials);
        device.launch(CENTRE, grid, keys, base, headStride, shape.tokens(), partials, shape.centreChunks(), mean, centred);
        device.launch(SEED, KMeansShape.stacked(shape.centroidFloatsGrid(), count), centred, ids, shape.tokens(),
                shape.clusters(), centroids);
        if (assignmentKind == Assignment.TENSOR_CORES) { // the centred keys stay as they are for the whole build
            device.launch(SPLIT, KMeansShape.stacked(KMeansTensorAssign.splitGrid(shape.tokens()), count), centred,
                    shape.tokens(), keyHi, keyLo, keyNorms);
        }
    }

    /** One of iterations 1 … I−1: each segment against its centroid block, normalised means. */
    void segmentedIteration(int count) {
        iterate(shape.segments(), shape.perSegment(), shape.clustersPerSegment(), true, count);
    }

    /** Iteration I: every key against every centroid, plain means; leaves the index's member order. */
    void globalIteration(int count) {
        iterate(1, shape.tokens(), shape.clusters(), false, count);
    }

    /** Value sums over the final clusters, and the mean key added back to the centroids. */
    void finish(HalfPrecisionArray values, long base, long headStride, int count) {
        device.launch(VALUE_SUMS, KMeansShape.stacked(shape.clusterBlocksGrid(), count), values, base, headStride,
                members, starts, sizes, valueSums, shape.tokens(), shape.clusters());
        device.launch(UNCENTRE, KMeansShape.stacked(shape.centroidFloatsGrid(), count), centroids, mean, shape.clusters());
    }

    /** Only the assignment step of an iteration over {@code segments} segments (for timing it alone). */
    void assign(int segments, int perSegment, int cps, int count) {
        int tokens = shape.tokens(), clusters = shape.clusters();
        if (assignmentKind == Assignment.CUDA_CORES) {
            device.launch(NEAREST, KMeansShape.stacked(KMeansShape.assignGrid(segments, perSegment), count), centred, centroids,
                    assignment, tokens, clusters, perSegment, cps);
            return;
        }
        device.launch(SPLIT, KMeansShape.stacked(KMeansTensorAssign.splitGrid(clusters), count), centroids, clusters,
                centroidHi, centroidLo, centroidNorms);
        device.launch(CANDIDATES, KMeansShape.stacked(KMeansTensorAssign.candidatesGrid(segments, perSegment), count), keyHi,
                keyLo, keyNorms, centroidHi, centroidLo, centroidNorms, candidates, flags, tokens, clusters, perSegment, cps);
        device.launch(REFINE, KMeansShape.stacked(KMeansTensorAssign.refineGrid(segments * perSegment), count), centred,
                centroids, candidates, flags, assignment, tokens, clusters, segments * perSegment, perSegment, cps);
    }

    /** How this build assigns keys to centroids. */
    public Assignment assignmentKind() {
        return assignmentKind;
    }

    /** One assign + update over {@code segments} segments of {@code perSegment} keys and {@code cps} centroids each. */
    private void iterate(int segments, int perSegment, int cps, boolean normalise, int count) {
        int sorted = segments * perSegment;
        int tokens = shape.tokens();
        int tileTokens = shape.tileTokens();
        int clusters = shape.clusters();
        assign(segments, perSegment, cps, count);
        device.launch(RANK, KMeansShape.stacked(shape.rankGrid(sorted), count), assignment, tokens, sorted, tileTokens,
                clusters, tileCounts, ranks);
        device.launch(TILE_OFFSETS, KMeansShape.stacked(shape.clusterThreadsGrid(), count), tileCounts, tokens, tileTokens,
                shape.tiles(sorted), clusters, sizes);
        device.launch(STARTS, KMeansShape.stacked(Grid.of(1, KMeansShape.SCAN_THREADS), count), sizes, clusters, starts);
        device.launch(SCATTER, KMeansShape.stacked(KMeansShape.tokenThreadsGrid(sorted), count), assignment, ranks,
                tileCounts, starts, tokens, sorted, tileTokens, clusters, members);
        device.launch(MEANS, KMeansShape.stacked(shape.clusterBlocksGrid(), count), centred, members, starts, sizes,
                centroids, tokens, clusters, normalise ? 1 : 0);
    }

    /** I32 {@code [heads][tokens]}: cluster of each key (the global iteration's). */
    public I32Array assignment() {
        return assignment;
    }

    /** F32 {@code [heads][clusters][HEAD_DIM]}: each cluster's mean key (the original keys', mean added back). */
    public F32Array centroids() {
        return centroids;
    }

    /** I32 {@code [heads][clusters]}: members per cluster. */
    public I32Array sizes() {
        return sizes;
    }

    /** I32 {@code [heads][clusters]}: index of each cluster's first member in its head's row of {@link #members()}. */
    public I32Array starts() {
        return starts;
    }

    /**
     * I32 {@code [heads][tokens]}: each head's key ids (0 … tokens − 1) in cluster order, token order within a cluster:
     * the stored order of the index's keys and values.
     */
    public I32Array members() {
        return members;
    }

    /** F32 {@code [heads][clusters][HEAD_DIM]}: Σ of each cluster's values. */
    public F32Array valueSums() {
        return valueSums;
    }

    /** F32 {@code [heads][tokens][HEAD_DIM]}: the keys less their mean, as the k-means saw them. */
    public F32Array centredKeys() {
        return centred;
    }

    /** F32 {@code [heads][HEAD_DIM]}: the mean key subtracted before clustering. */
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
