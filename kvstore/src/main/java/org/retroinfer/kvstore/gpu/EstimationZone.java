package org.retroinfer.kvstore.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.util.List;
import org.retroinfer.accel.Switch;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.gpu.DecodeAttentionShape;
import org.retroinfer.kernels.gpu.EstimationGather;
import org.retroinfer.kernels.gpu.SplitKvDecode;
import org.retroinfer.kernels.gpu.SplitKvMerge;
import org.retroinfer.kvstore.wave.WaveBuffer;

/**
 * The estimation zone of a decode layer on the GPU (retroinfer-spec.md §2.3): each group's clusters ranked after the
 * retrieval zone, attended through the meta index alone, with weight {@code size · e^(q·c/√d)} and output
 * {@code e^(q·c/√d) · value_sum}, as one weighted split-KV attention merged into {@code (out, lse)}, which the exact
 * zone's merge takes as its previous partial. The clusters are read in place by id (INT8 value sums, or 16-bit ones),
 * their scores taken from the logits cluster scoring wrote; {@code -Dretroinfer.decode.estimationScored=off} scores their
 * centroids again and {@code -Dretroinfer.decode.estimationInPlace=off} gathers 16-bit ones into a buffer first (the
 * reference's {@code gather_copy_vectors}), to compare.
 */
final class EstimationZone {
    /**
     * Whether the clusters are read in place by id ({@link SplitKvDecode#partialsWeightedIndexed}): one pass over their
     * bytes, where gathering them first ({@link EstimationGather}) makes three.
     */
    static final boolean IN_PLACE = Switch.on("retroinfer.decode.estimationInPlace");
    /**
     * Whether the clusters read in place take their scores from the logits cluster scoring wrote
     * ({@link SplitKvDecode#partialsScoredIndexed}: 16 bytes a cluster for four query heads) instead of scoring their
     * centroids again (256 bytes a cluster).
     */
    private static final boolean SCORED = Switch.on("retroinfer.decode.estimationScored");
    private static final KernelMethod GATHER = KernelMethod.of(EstimationGather.class, "gather");
    private static final KernelMethod WEIGHTED = KernelMethod.of(SplitKvDecode.class, "partialsWeighted");
    private static final KernelMethod WEIGHTED_INDEXED = KernelMethod.of(SplitKvDecode.class, "partialsWeightedIndexed");
    private static final KernelMethod WEIGHTED_INDEXED_INT8 = KernelMethod.of(SplitKvDecode.class, "partialsWeightedIndexedInt8");
    private static final KernelMethod SCORED_INDEXED = KernelMethod.of(SplitKvDecode.class, "partialsScoredIndexed");
    private static final KernelMethod SCORED_INDEXED_INT8 = KernelMethod.of(SplitKvDecode.class, "partialsScoredIndexedInt8");
    private static final KernelMethod MERGE = KernelMethod.of(SplitKvMerge.class, "merge");

    /**
     * A layer's meta index as the zone reads it: centroids and value sums (16-bit, as ints; INT8 value sums with their
     * scales; INT8 centroids are not read), cluster sizes, and each group's estimation length this step.
     */
    record Index(I32Array centroids, I32Array valueSums, I32Array valueSumScales, F32Array sizes, I32Array lengths) {}

    /** A kernel and the arguments to launch it with. */
    private record Launch(KernelMethod kernel, Object... arguments) {}

    private final Device device;
    private final DType storage;
    private final boolean int8ValueSums;
    private final int groups, group, clusterCapacity, maxIds, stride;
    private final float scale;
    /** The step's queries, the layer's logits and the zone's cluster ids: the cache's arrays, read here. */
    private final F32Array queries, logits;
    private final I32Array ids;
    /** The gathered copy, only where it is gathered (one vector otherwise, so that the arrays exist). */
    private final I32Array gatheredKeys, gatheredValues;
    private final F32Array gatheredSizes;
    private final DecodeAttentionShape shape;
    private final F32Array partialOut, partialLse, out, lse;

    /**
     * The zone of {@code groups} groups of {@code group} query heads, up to {@code maxIds} clusters each (ids
     * {@code [groups][maxIds]}), over indexes of {@code clusterCapacity} clusters; {@code first} sizes its splits (the
     * occupancy of the kernel it launches, asked with a real layer's arrays). Its owner calls {@link #checkFormats} before
     * allocating anything.
     */
    EstimationZone(Device device, DType storage, boolean int8ValueSums, int groups, int group, int clusterCapacity, int maxIds,
            float scale, F32Array queries, F32Array logits, I32Array ids, Index first) {
        this.device = device;
        this.storage = storage;
        this.int8ValueSums = int8ValueSums;
        this.groups = groups;
        this.group = group;
        this.clusterCapacity = clusterCapacity;
        this.maxIds = maxIds;
        this.stride = Math.max(1, maxIds);
        this.scale = scale;
        this.queries = queries;
        this.logits = logits;
        this.ids = ids;
        long gathered = IN_PLACE ? 1 : (long) groups * stride;
        gatheredKeys = device.i32(gathered * WaveBuffer.INTS);
        gatheredValues = device.i32(gathered * WaveBuffer.INTS);
        gatheredSizes = device.f32(gathered);
        // the occupancy of the kernel enqueue() launches, asked with its arguments (the queries for the outputs, one split)
        Launch weighted = weightedAttention(first, queries, queries, 1);
        int resident = device.residentBlocks(weighted.kernel(), DecodeAttentionShape.PARTIAL_THREADS, weighted.arguments());
        shape = new DecodeAttentionShape(groups, 1, group, stride, DecodeAttentionShape.splitsFor(groups, 1, group, stride, resident));
        partialOut = device.f32(shape.partialRows() * HEAD_DIM);
        partialLse = device.f32(shape.partialRows());
        out = device.f32((long) groups * group * HEAD_DIM);
        lse = device.f32((long) groups * group);
    }

    /**
     * Refuses INT8 value sums where the zone gathers ({@link #IN_PLACE} off): the gather copies 16-bit ones only; and INT8
     * centroids unless the zone takes its scores from the logits ({@link #IN_PLACE} and {@link #SCORED}): the zone's other
     * kernels read 16-bit centroids.
     */
    static void checkFormats(boolean int8ValueSums, boolean int8Centroids) {
        if (int8ValueSums && !IN_PLACE) {
            throw new IllegalArgumentException("INT8 value sums are read in place; -Dretroinfer.decode.estimationInPlace=off"
                    + " gathers 16-bit ones only");
        }
        if (int8Centroids && !(IN_PLACE && SCORED)) {
            throw new IllegalArgumentException("INT8 centroids are read by cluster scoring alone; -Dretroinfer.decode"
                    + ".estimationScored=off and -Dretroinfer.decode.estimationInPlace=off read 16-bit ones");
        }
    }

    /**
     * Enqueues the zone's weighted attention over {@code index} (and, unless it reads in place, its gather), merged into
     * {@link #out()} and {@link #lse()}.
     */
    void enqueue(Index index) {
        if (!int8ValueSums && !IN_PLACE) {
            device.launch(GATHER, EstimationGather.grid(groups), index.centroids(), index.valueSums(), index.sizes(), clusterCapacity,
                    ids, index.lengths(), maxIds, gatheredKeys, gatheredValues, gatheredSizes, stride);
        }
        Launch weighted = weightedAttention(index, partialOut, partialLse, shape.splits());
        device.launch(weighted.kernel(), shape.partialsGrid(), weighted.arguments());
        device.launch(MERGE, shape.mergeGrid(), partialOut, partialLse, out, lse, shape.splits(), group);
    }

    /** The zone's attention output per query row ({@code [groups][group][HEAD_DIM]}), after {@link #enqueue}. */
    F32Array out() {
        return out;
    }

    /** The zone's log-sum-exp per query row, after {@link #enqueue}. */
    F32Array lse() {
        return lse;
    }

    /** The arrays it allocated. */
    List<TypedArray> arrays() {
        return List.of(gatheredKeys, gatheredValues, gatheredSizes, partialOut, partialLse, out, lse);
    }

    void free() {
        for (TypedArray a : arrays()) {
            device.free(a);
        }
    }

    /**
     * The weighted attention over {@code index} in {@code splits} splits to {@code (partialOut, partialLse)}: in place,
     * scored from the logits or from the centroids, or over the gathered copy. One place for the arguments that the
     * launch and the occupancy query both pass.
     */
    private Launch weightedAttention(Index index, F32Array partialOut, F32Array partialLse, int splits) {
        if (int8ValueSums) {
            return SCORED
                    ? new Launch(SCORED_INDEXED_INT8, logits, half(index.centroids()), index.valueSums(), index.valueSumScales(),
                            index.sizes(), ids, maxIds, index.lengths(), partialOut, partialLse, 1, (long) clusterCapacity, splits, group)
                    : new Launch(WEIGHTED_INDEXED_INT8, queries, half(index.centroids()), index.valueSums(), index.valueSumScales(),
                            index.sizes(), ids, maxIds, index.lengths(), partialOut, partialLse, 1, (long) clusterCapacity, splits,
                            scale, group);
        }
        if (IN_PLACE) {
            return SCORED
                    ? new Launch(SCORED_INDEXED, logits, half(index.valueSums()), index.sizes(), ids, maxIds, index.lengths(),
                            partialOut, partialLse, 1, (long) clusterCapacity, splits, group)
                    : new Launch(WEIGHTED_INDEXED, queries, half(index.centroids()), half(index.valueSums()), index.sizes(), ids,
                            maxIds, index.lengths(), partialOut, partialLse, 1, (long) clusterCapacity, splits, scale, group);
        }
        return new Launch(WEIGHTED, queries, half(gatheredKeys), half(gatheredValues), gatheredSizes, index.lengths(), partialOut,
                partialLse, 1, (long) stride, splits, scale, group);
    }

    private HalfPrecisionArray half(I32Array ints) {
        return GpuRetroKvCache.half(storage, ints);
    }
}
