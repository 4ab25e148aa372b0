package org.retroinfer.kvstore.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;
import org.retroinfer.accel.Switch;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.MemoryRegion;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.gpu.CentroidScoring;
import org.retroinfer.kernels.gpu.ClusterScoringShape;
import org.retroinfer.kernels.gpu.ClusterTopK;
import org.retroinfer.kernels.gpu.DecodeAttentionShape;
import org.retroinfer.kernels.gpu.DecodeLayerShape;
import org.retroinfer.kernels.gpu.EmbeddingLookup;
import org.retroinfer.kernels.gpu.IndexStore;
import org.retroinfer.kernels.gpu.Int8Centroids;
import org.retroinfer.kernels.gpu.Int8Vectors;
import org.retroinfer.kernels.gpu.KMeansBuild;
import org.retroinfer.kernels.gpu.KvAppend;
import org.retroinfer.kernels.gpu.SplitKvDecode;
import org.retroinfer.kernels.gpu.SplitKvMerge;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.OpenSequences;
import org.retroinfer.kvstore.retro.ClusterSizing;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.ZoneBudget;
import org.retroinfer.kvstore.wave.DeviceMappingTables;
import org.retroinfer.kvstore.wave.ExecutionBuffer;
import org.retroinfer.kvstore.wave.StoreFormat;
import org.retroinfer.kvstore.wave.WaveBuffer;

/**
 * RetroInfer attention on a {@link Device} (spec §1-§3): the CPU {@code RetroKvCache}'s zones and rules, with the
 * prompt prefilled densely on the device, the wave index built there ({@link GpuKMeans}), every non-steady key and
 * value in host memory in cluster order that the gather kernel reads directly, and a GPU block cache of whole
 * clusters ({@link WaveBuffer}, one per layer, sharing one {@link ExecutionBuffer}).
 *
 * <p>A sequence holds one of {@code slots} slots; a group is one (slot, KV head). Its prompt goes into a dense {@link
 * GpuKvCache} slot (full causal attention, as the reference's prefill); {@link #endOfPrefill} then keeps the sinks and
 * the last {@code window} positions in the steady zone and clusters the rest, or keeps a prompt too short for an index
 * whole in the steady zone, as the CPU does. Each decode step appends the new position to the steady zone and, per
 * layer: gathers the step's queries into slot order, scores every centroid ({@link CentroidScoring}) and selects the
 * retrieval and estimation zones ({@link ClusterTopK}), gathers and attends the estimation zone (weighted partials),
 * and meanwhile the host waits for the selected ids, looks them up in the mapping tables and assembles the execution
 * buffer ({@code [steady | misses | hits]}); the exact attention over it merges the estimation partial ({@link
 * SplitKvMerge#mergeWithPrevious}); the host's LRU update then runs while the GPU attends, and the admission copies the
 * misses into the cache. A layer whose store is in GPU memory (the GPU tier: no block cache) skips the execution buffer
 * where the lookups run on the device: its exact attention reads the steady zone and the looked-up units from the store
 * in place ({@link WaveBuffer#launchInPlacePartials}). With {@link Lookups#DEVICE} the mapping tables live on the
 * device and two kernels make the lookups and the LRU updates ({@link DeviceMappingTables}): a decode step is then
 * launches only, and one that updates no index can be captured as a CUDA graph (the host writes each step's zone sizes
 * and steady lengths in {@link #prepare}, before the launches). A steady zone that fills ({@code sinks + window +
 * updateSegment} positions) has its oldest {@code updateSegment} generated positions clustered into the index right
 * after that layer's append (spec §1.4), as on the CPU.
 *
 * <p>Every kernel runs over all slots' groups, with empty counts and lengths for the slots outside the step, so the
 * launch shapes are fixed; only the host lookups depend on the step. Centroids are kept in the storage type, as the
 * reference keeps them and the CPU index rounds them (the same values, so the same ranking up to summation order), for
 * scoring and for the estimation zone's weighted attention alike.
 * The selection kernel's order within the retrieval zone is arbitrary; the ids are taken in ascending order.
 *
 * <p>Not thread-safe: one step at a time, like the device's stream.
 */
public final class GpuRetroKvCache implements DeviceKvCache {
    private static final KernelMethod GATHER_ROWS = KernelMethod.of(EmbeddingLookup.class, "fromF32");
    private static final KernelMethod SCORE = KernelMethod.of(CentroidScoring.class, "logitsHalf");
    private static final KernelMethod SCORE_INT8 = KernelMethod.of(CentroidScoring.class, "logitsInt8");
    private static final KernelMethod MERGE_PREVIOUS = KernelMethod.of(SplitKvMerge.class, "mergeWithPrevious");
    private static final KernelMethod GATHER_VECTORS = KernelMethod.of(IndexStore.class, "gatherVectors");
    private static final KernelMethod TO_F32 = KernelMethod.of(IndexStore.class, "toF32");
    private static final KernelMethod TO_INT8 = KernelMethod.of(IndexStore.class, "toInt8");
    private static final KernelMethod TO_INT8_CENTROIDS = KernelMethod.of(IndexStore.class, "toInt8Centroids");

    private final Device device;
    private final AttentionShape shape;
    private final RetroConfig config;
    private final DType storage;
    private final TierFormats formats;
    private final int slots, groups, maxRows, steadyStride, clusterCapacity, maxRetrieval, maxEstimation;
    private final GpuRetroPlacement.Sizes fixed;
    private final long capacity;
    private final int group, queryWidth;
    /** The dense slots of prompts being prefilled, or null in a cache that is only filled. */
    private final GpuKvCache prefill;
    private final ExecutionBuffer exec;
    private final Layer[] layers;
    /** Whether every layer looks up on the device: then a decode step that updates no index is all launches. */
    private final boolean allDeviceLookups;
    private final KernelMethod partials, append, toHalf;
    private final ClusterScoringShape scoring;
    private final DecodeAttentionShape execShape;
    private final EstimationZone estimation;
    /** Step arrays shared by the layers (each layer's kernels are done with them before the next layer's run). */
    private final StepRowArrays stepRows;
    /** Every layer's zone sizes and the step's row of each slot, staged by the host and copied with the step's rows. */
    private final ZoneArrays zones;
    /** {@link #prepare}'s row of each slot, before it is staged. */
    private final int[] stepRowOfSlot;
    private final F32Array qSlots, outSlots, logits, partialMax, partialSum, headMax, headSum, scores;
    /**
     * The selected retrieval ids: in device memory for the layers that look up on the device, in mapped host memory,
     * where the selection kernel writes them for the host to read, for the others; null where no layer needs them.
     */
    private final I32Array deviceRetrievalIds, mappedRetrievalIds;
    private final I32Array estimationIds, zoneSizes, selectionWork;
    private final F32Array execPartialOut, execPartialLse, outLse;
    private final GpuKMeans updateBuild;
    private final Deque<Integer> freeSlots = new ArrayDeque<>();
    private final OpenSequences<Sequence> open = new OpenSequences<>();
    /** The kind of the step last prepared. */
    private StepKind stepKind;
    /** The decode step's sequences, in row order (null for a prefill step). */
    private Sequence[] stepSequences;
    /** The prefill step's layout in the dense cache's sequence ids. */
    private BatchLayout prefillLayout;
    /** Host-array calls ({@link #append(int, BatchLayout, float[], float[])}): the step they are in. */
    private StepRows hostStep;
    private final F32Array scratchIn, scratchOut;
    /** How {@link #commit} writes a quantised (INT8 or INT4) GPU tier and host tier, or null where there is none. */
    private final QuantisedStoreWriter deviceWriter, hostWriter;
    private long indexNanos, builds, updates;
    /** Where decode layers record their phases, or null. */
    private RetroLayerProfile profile;
    /** The layer whose admission waits to be launched before the next layer's gather, or null. */
    private WaveBuffer pendingAdmission;

    private enum StepKind { PREFILL, DECODE }

    /**
     * Where the wave buffer's mapping tables live and its lookups and LRU updates run: on the host between each layer's
     * launches (the spec's design, §3.3: the lookup overlaps the estimation, the update the attention), or on the device
     * ({@link DeviceMappingTables}: two kernels a layer, no host work in it, so a decode step that updates no index can be
     * captured as a CUDA graph), or on the device for the layers whose store is in GPU memory and on the host for the
     * others ({@link #DEVICE_STORES}).
     */
    public enum Lookups {
        HOST("host"),
        DEVICE("gpu"),
        /**
         * A GPU-tier layer (its store in GPU memory, no block cache) looks up on the device, where a lookup maps the
         * retrieved clusters to store units and has no LRU list to walk; a host-tier layer on the host. At 1M tokens every
         * layer waited for the host's lookups (0.29 ms a layer on an H200, docs/results/gpu-retro/h200/s13-call-2) where 29
         * of the 32 layers' stores were in GPU memory.
         */
        DEVICE_STORES("gpu-stores");

        private final String flag;

        Lookups(String flag) {
            this.flag = flag;
        }

        /** The lookups the command line's name {@code flag} means (host, gpu or gpu-stores), or null for another name. */
        public static Lookups named(String flag) {
            for (Lookups l : values()) {
                if (l.flag.equals(flag)) {
                    return l;
                }
            }
            return null;
        }

        /** Where a layer whose store is in GPU memory ({@code storeOnDevice}) or host memory looks up: on the device? */
        public boolean onDevice(boolean storeOnDevice) {
            return this == DEVICE || this == DEVICE_STORES && storeOnDevice;
        }

        /** The place as reports name it. */
        public String describe() {
            return switch (this) {
                case HOST -> "host";
                case DEVICE -> "gpu";
                case DEVICE_STORES -> "gpu for GPU-tier layers, host for host-tier ones";
            };
        }
    }

    /**
     * The largest retrieval zone per group (clusters, at a sequence's capacity) whose lookups {@link #fasterLookups}
     * puts on the device. On an H100 at Llama 3 8B's shape the device's lookups won at 147 clusters (128K contexts: 1, 2,
     * 4 and 14 sequences, +7% to +18%; 32K: 2 and 55 sequences) and lost at 1,152 (one 1M-token sequence: 9.1 against
     * 13.8 tok/s, a warp per group walking its LRU list against the host's threads); the bound sits between the two
     * (docs/results/gpu-retro).
     */
    public static final int DEVICE_LOOKUP_CLUSTERS = 512;
    /**
     * Whether a decode layer runs its estimation zone, and with the lookups on the device its LRU update, on a second
     * stream beside the lookups, the gather and the attention ({@link Device#branch}; the spec's overlap of estimation
     * and lookup, §3.3); {@code -Dretroinfer.decode.branches=off} runs them in line, to compare.
     */
    private static final boolean BRANCHES = Switch.on("retroinfer.decode.branches");
    /**
     * Whether a decode layer whose store is in GPU memory (no block cache) and whose lookups run on the device attends
     * its retrieval zone read in place from the store ({@link WaveBuffer#launchInPlacePartials}) rather than gathered
     * into the execution buffer first: {@code -Dretroinfer.decode.exactInPlace=off} gathers, to compare.
     */
    private static final boolean EXACT_IN_PLACE = Switch.on("retroinfer.decode.exactInPlace");

    /** Whether decode layers run the estimation zone beside the gather (see {@code -Dretroinfer.decode.branches}). */
    public static boolean branches() {
        return BRANCHES;
    }

    /**
     * Where the wave buffer's lookups decode fastest for sequences of up to {@code capacity} positions: on the device
     * unless a group's retrieval zone at that length exceeds {@link #DEVICE_LOOKUP_CLUSTERS} clusters, and then on the
     * device for the GPU tier's layers only ({@link Lookups#DEVICE_STORES}).
     */
    public static Lookups fasterLookups(RetroConfig config, long capacity) {
        int nprobe = ZoneBudget.initial(ClusterSizing.forPrompt(capacity, config).clusters(), config).retrieval();
        return nprobe <= DEVICE_LOOKUP_CLUSTERS ? Lookups.DEVICE : Lookups.DEVICE_STORES;
    }

    private final Lookups lookups;
    /** {@link #writeZones}' per-group values of one layer, before they are staged. */
    private final int[] zoneCounts, zoneBudgets, zoneEstimation, zoneRetrieved, zoneSteady;
    /** Whether a sequence of the decode step being run fills its steady zone and updates its index (host work). */
    private boolean stepUpdatesIndex;

    /** One layer's wave buffer and meta index, and its slices of the zone arrays its kernels read. */
    private final class Layer {
        final WaveBuffer wave;
        /** Whether its lookups run on the device ({@link Lookups#onDevice}). */
        final boolean deviceLookups;
        /**
         * Centroids and value sums {@code [groups][clusterCapacity][128]}, 16-bit (as ints), or INT8 with their scales' bits
         * in {@code centroidScales} and {@code valueSumScales} (one a cluster; a single unused int for 16-bit ones), the
         * centroids then in {@link Int8Centroids}' interleaved layout.
         */
        final I32Array centroids, centroidScales, valueSums, valueSumScales;
        final F32Array sizes;
        /**
         * Per group, in device memory ({@link ZoneArrays}): clusters to score (0 outside the step), the two budgets, the
         * estimation zone's length and the retrieval zone's (the clusters to look up), staged by the host before the step's
         * launches.
         */
        final I32Array counts, budgets, estimationLengths, retrieved;

        Layer(int index, boolean storeOnDevice) {
            deviceLookups = lookups.onDevice(storeOnDevice);
            wave = new WaveBuffer(device, groups, steadyStride, Math.toIntExact(capacity), fixed.cacheBlocks(), fixed.maxUnits(),
                    exec, storeOnDevice, formats.of(storeOnDevice), storage,
                    deviceLookups ? new WaveBuffer.DeviceLookups(clusterCapacity, maxRetrieval) : null,
                    zones.steadyLengths(index));
            long vectors = (long) groups * clusterCapacity;
            centroids = device.i32(vectors * formats.centroids().ints());
            centroidScales = device.i32(Math.max(1, vectors * formats.centroids().scaleInts()));
            valueSums = device.i32(vectors * formats.valueSums().ints());
            valueSumScales = device.i32(Math.max(1, vectors * formats.valueSums().scaleInts()));
            sizes = device.f32(vectors);
            counts = zones.counts(index);
            budgets = zones.budgets(index);
            estimationLengths = zones.estimationLengths(index);
            retrieved = zones.retrieved(index);
        }

        /** The meta index and estimation lengths as the estimation zone reads them. */
        EstimationZone.Index estimationIndex() {
            return new EstimationZone.Index(centroids, valueSums, valueSumScales, sizes, estimationLengths);
        }

        /** The meta index's arrays. */
        java.util.List<TypedArray> meta() {
            return java.util.List.of(centroids, centroidScales, valueSums, valueSumScales, sizes);
        }

        void free() {
            wave.close();
            for (TypedArray a : meta()) {
                device.free(a);
            }
        }
    }

    /** One sequence: its slot, its dense prefill sequence while it has one, and per layer its index and steady zone. */
    private final class Sequence {
        final int slot;
        int prefillId = -1;
        boolean decoding;
        /** Per layer: positions held in all, in the steady zone, and indexed (in the host store, per group). */
        final long[] lengths = new long[shape.layers()];
        final int[] steady = new int[shape.layers()];
        final long[] indexed = new long[shape.layers()];
        /** Per layer: clusters of each group's index, non-empty ones per group, the zone budgets. */
        final int[] clusters = new int[shape.layers()];
        final int[][] candidates = new int[shape.layers()][shape.kvHeads()];
        final ZoneBudget[] budgets = new ZoneBudget[shape.layers()];

        Sequence(int slot) {
            this.slot = slot;
            java.util.Arrays.fill(budgets, ZoneBudget.NONE);
        }
    }

    /**
     * @param slots         sequences open at once
     * @param capacity      positions per sequence (prompt and generated)
     * @param maxRows       the most rows one step may have (prefill chunk or decode batch)
     * @param prefillSlots  sequences that may be in their prompt at once (each holds a dense slot of {@code capacity}); 0
     *                      for a cache whose contexts are only filled ({@link #fillRandom}), never prefilled
     */
    public GpuRetroKvCache(Device device, AttentionShape shape, RetroConfig config, int slots, long capacity, int maxRows,
            int prefillSlots) {
        this(device, shape, config, slots, capacity, maxRows, prefillSlots, 0);
    }

    /**
     * @param deviceStoreLayers the first this many layers keep their cluster-ordered keys and values in device memory
     *                          (the GPU tier), the others in mapped host memory
     */
    public GpuRetroKvCache(Device device, AttentionShape shape, RetroConfig config, int slots, long capacity, int maxRows,
            int prefillSlots, int deviceStoreLayers) {
        this(device, shape, config, slots, capacity, maxRows, prefillSlots, deviceStoreLayers, StoreFormat.HALF);
    }

    /**
     * @param hostFormat how the layers whose store is in host memory keep it: in the storage type, or INT8 (half the
     *                   host memory and PCIe bytes; the GPU tier's stores stay in the storage type)
     */
    public GpuRetroKvCache(Device device, AttentionShape shape, RetroConfig config, int slots, long capacity, int maxRows,
            int prefillSlots, int deviceStoreLayers, StoreFormat hostFormat) {
        this(device, shape, config, slots, capacity, maxRows, prefillSlots, deviceStoreLayers, hostFormat, Lookups.HOST);
    }

    /** @param lookups where the mapping tables live and the lookups and LRU updates run */
    public GpuRetroKvCache(Device device, AttentionShape shape, RetroConfig config, int slots, long capacity, int maxRows,
            int prefillSlots, int deviceStoreLayers, StoreFormat hostFormat, Lookups lookups) {
        this(device, shape, config, slots, capacity, maxRows, prefillSlots, deviceStoreLayers, TierFormats.host(hostFormat),
                lookups);
    }

    /** @param formats how each tier keeps its stores: in the storage type, or quantised (INT8, INT4) */
    public GpuRetroKvCache(Device device, AttentionShape shape, RetroConfig config, int slots, long capacity, int maxRows,
            int prefillSlots, int deviceStoreLayers, TierFormats formats, Lookups lookups) {
        GpuKvCache.checkShape(shape);
        if (slots < 1 || capacity < 1 || maxRows < 1 || prefillSlots < 0) {
            throw new IllegalArgumentException("slots, capacity and maxRows must be positive and prefillSlots not negative, got "
                    + slots + ", " + capacity + ", " + maxRows + ", " + prefillSlots);
        }
        if (capacity > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("a sequence of " + capacity + " positions is beyond the GPU index's int offsets");
        }
        if (deviceStoreLayers < 0 || deviceStoreLayers > shape.layers()) {
            throw new IllegalArgumentException("deviceStoreLayers must be in [0, " + shape.layers() + "], got " + deviceStoreLayers);
        }
        if (config.updateSegment() < config.window()) {
            throw new IllegalArgumentException("the GPU steady zone slides its window down by the update segment, which must"
                    + " be at least the window: " + config.updateSegment() + " < " + config.window());
        }
        this.device = device;
        this.shape = shape;
        this.config = config;
        this.storage = config.storage();
        this.formats = formats;
        EstimationZone.checkFormats(int8ValueSums(), int8Centroids());
        this.lookups = lookups;
        this.slots = slots;
        this.groups = Math.multiplyExact(slots, shape.kvHeads());
        zoneCounts = new int[groups];
        zoneBudgets = new int[2 * groups];
        zoneEstimation = new int[groups];
        zoneRetrieved = new int[groups];
        zoneSteady = new int[groups];
        this.capacity = capacity;
        this.maxRows = maxRows;
        this.group = shape.groupSize();
        this.queryWidth = shape.queryWidth();
        this.fixed = GpuRetroPlacement.Sizes.of(config, capacity);
        this.steadyStride = fixed.steadyStride();
        this.clusterCapacity = fixed.clusterCapacity();
        this.maxRetrieval = fixed.maxRetrieval();
        this.maxEstimation = fixed.maxEstimation();
        this.prefill = prefillSlots == 0 ? null : new GpuKvCache(device, shape, storage, prefillSlots, capacity, maxRows);
        this.exec = ExecutionBuffer.allocate(device, groups, steadyStride, fixed.maxUnits());
        partials = KernelMethod.of(SplitKvDecode.class, "partials");
        append = KernelMethod.of(KvAppend.class, "into");
        toHalf = KernelMethod.of(IndexStore.class, "toHalf");
        deviceWriter = deviceStoreLayers > 0 ? writer(formats.device(), null) : null;
        hostWriter = deviceStoreLayers < shape.layers() ? writer(formats.host(), deviceWriter) : null;
        zones = new ZoneArrays(device, shape.layers(), groups, slots);
        stepRowOfSlot = new int[slots];
        layers = new Layer[shape.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(l, l < deviceStoreLayers);
        }
        stepRows = new StepRowArrays(device, maxRows);
        qSlots = device.f32((long) slots * queryWidth);
        outSlots = device.f32((long) slots * queryWidth);
        outLse = device.f32((long) groups * group);
        int scoringResident = device.residentBlocks(int8Centroids() ? SCORE_INT8 : SCORE, DecodeAttentionShape.PARTIAL_THREADS,
                scoringArguments(layers[0], qSlots, qSlots, qSlots, 1));
        int scoringSplits = ClusterScoringShape.splitsFor(groups, group, clusterCapacity, scoringResident);
        scoring = new ClusterScoringShape(slots, shape.kvHeads(), group, clusterCapacity, scoringSplits, maxRetrieval, maxEstimation);
        logits = device.f32(scoring.logitElements());
        partialMax = device.f32(scoring.partialElements());
        partialSum = device.f32(scoring.partialElements());
        headMax = device.f32(scoring.headElements());
        headSum = device.f32(scoring.headElements());
        scores = device.f32(scoring.clusterElements());
        // the host's lookups read the selected ids where the selection kernel writes them; the device's read them on it
        allDeviceLookups = java.util.Arrays.stream(layers).allMatch(l -> l.deviceLookups);
        boolean anyDeviceLookups = java.util.Arrays.stream(layers).anyMatch(l -> l.deviceLookups);
        deviceRetrievalIds = anyDeviceLookups ? device.i32(scoring.retrievalElements()) : null;
        mappedRetrievalIds = allDeviceLookups ? null : (I32Array) device.mapped(ElementType.I32, scoring.retrievalElements());
        estimationIds = device.i32(Math.max(1, scoring.estimationElements()));
        zoneSizes = device.i32(2L * groups);
        selectionWork = device.i32(scoring.selectionWorkElements());
        device.fill(selectionWork, (byte) 0); // the chunked selection leaves its work area as it finds it: zero
        estimation = new EstimationZone(device, storage, int8ValueSums(), groups, group, clusterCapacity, maxEstimation, shape.scale(),
                qSlots, logits, estimationIds, layers[0].estimationIndex());
        int execResident = device.residentBlocks(partials, DecodeAttentionShape.PARTIAL_THREADS, qSlots, half(exec.keys()),
                half(exec.values()), exec.lengths(), qSlots, qSlots, 1, (long) exec.stride(), 1, shape.scale(), group);
        execShape = new DecodeAttentionShape(groups, 1, group, exec.stride(),
                DecodeAttentionShape.splitsFor(groups, 1, group, exec.stride(), execResident));
        execPartialOut = device.f32(execShape.partialRows() * HEAD_DIM);
        execPartialLse = device.f32(execShape.partialRows());
        scratchIn = device.f32((long) maxRows * queryWidth);
        scratchOut = device.f32((long) maxRows * queryWidth);
        updateBuild = new GpuKMeans(device, config.updateSegment(), ClusterSizing.forUpdate(config), config.iterations(),
                shape.kvHeads());
        for (int s = slots - 1; s >= 0; s--) {
            freeSlots.push(s);
        }
    }

    /** Whether the index keeps its value sums in INT8 ({@link TierFormats#valueSums}). */
    private boolean int8ValueSums() {
        return formats.valueSums() == StoreFormat.INT8;
    }

    /** Whether the index keeps its centroids in INT8 ({@link TierFormats#centroids}). */
    private boolean int8Centroids() {
        return formats.centroids() == StoreFormat.INT8;
    }

    /**
     * Cluster scoring's arguments over layer {@code l}'s centroids (16-bit, or INT8 levels and scales) in {@code splits}
     * splits: one place for the launch and the occupancy query.
     */
    private Object[] scoringArguments(Layer l, F32Array logits, F32Array partialMax, F32Array partialSum, int splits) {
        java.util.List<Object> args = new java.util.ArrayList<>(java.util.List.of(qSlots));
        args.addAll(int8Centroids() ? java.util.List.of(l.centroids, l.centroidScales) : java.util.List.of(half(l.centroids)));
        args.addAll(java.util.List.of(l.counts, logits, partialMax, partialSum, clusterCapacity, splits, shape.scale(), group));
        return args.toArray();
    }

    /** A 16-bit view of the storage type over an int array of vectors. */
    private HalfPrecisionArray half(I32Array ints) {
        return half(storage, ints);
    }

    /** A 16-bit view of {@code storage} (BF16 or F16) over an int array of vectors; the estimation zone's views too. */
    static HalfPrecisionArray half(DType storage, I32Array ints) {
        MemoryRegion region = ints.region();
        return storage == DType.BF16 ? BF16Array.view(region) : F16Array.view(region);
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public RetroConfig config() {
        return config;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    /** Positions each sequence may hold. */
    public long capacity() {
        return capacity;
    }

    @Override
    public int openSequence() {
        if (freeSlots.isEmpty()) {
            throw new IllegalStateException("all " + slots + " sequence slots of the GPU RetroInfer cache are in use");
        }
        Sequence s = new Sequence(freeSlots.pop());
        for (int h = 0; h < shape.kvHeads(); h++) {
            for (Layer layer : layers) {
                layer.wave.clear(s.slot * shape.kvHeads() + h);
            }
        }
        return open.open(s);
    }

    @Override
    public void closeSequence(int sequence) {
        Sequence s = open.remove(sequence);
        if (s.prefillId >= 0) {
            prefill.closeSequence(s.prefillId);
        }
        freeSlots.push(s.slot);
    }

    @Override
    public long length(int sequence, int layer) {
        return sequence(sequence).lengths[layer];
    }

    /** Whether {@code sequence} is past its prompt, its rows answered by RetroInfer. */
    public boolean isSparse(int sequence) {
        return sequence(sequence).decoding;
    }

    private Sequence sequence(int id) {
        return open.get(id);
    }

    /**
     * Sequence {@code sequence}'s centroids of KV head {@code kvHead} in layer {@code layer}, {@code [clusters][128]}, as
     * cluster scoring reads them (INT8 ones as level × scale): for tests that compare the index across formats.
     */
    float[] centroids(int sequence, int layer, int kvHead) {
        Sequence s = sequence(sequence);
        Layer l = layers[layer];
        int count = s.clusters[layer];
        long first = ((long) s.slot * shape.kvHeads() + kvHead) * clusterCapacity; // a multiple of Int8Centroids.BLOCK
        int ints = formats.centroids().ints();
        int[] levels = new int[Math.toIntExact((long) Math.ceilDiv(count, Int8Centroids.BLOCK) * Int8Centroids.BLOCK * ints)];
        device.download(l.centroids.slice(first * ints, levels.length), MemorySegment.ofArray(levels));
        int[] scales = new int[int8Centroids() ? count : 0];
        if (int8Centroids()) device.download(l.centroidScales.slice(first, count), MemorySegment.ofArray(scales));
        float[] out = new float[count * HEAD_DIM];
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            I32Array hostLevels = I32Array.of(arena, levels);
            I32Array hostScales = I32Array.of(arena, scales.length == 0 ? new int[1] : scales);
            HalfPrecisionArray halves = half(hostLevels);
            for (int c = 0; c < count; c++) {
                for (int j = 0; j < HEAD_DIM; j++) {
                    out[c * HEAD_DIM + j] = int8Centroids() ? Int8Centroids.value(hostLevels, hostScales, c, j)
                            : halves.get((long) c * HEAD_DIM + j);
                }
            }
        }
        return out;
    }

    /**
     * The logits cluster scoring wrote last (the last layer attended) for query head {@code head} of KV head {@code kvHead}'s
     * group of sequence {@code sequence}, one per cluster: for tests.
     */
    float[] lastLogits(int sequence, int layer, int kvHead, int head) {
        Sequence s = sequence(sequence);
        float[] out = new float[s.clusters[layer]];
        int row = s.slot * shape.kvHeads() + kvHead;
        device.download(logits.slice(scoring.logitOffset(row, head, 0), out.length), MemorySegment.ofArray(out));
        return out;
    }

    /**
     * A step is either prompt rows of sequences still in their prompt (dense attention over the prefill slots) or one
     * row of each of some decoding sequences (RetroInfer); a step that mixes them is refused.
     */
    @Override
    public StepRows prepare(BatchLayout batch, int layer) {
        int decoding = 0;
        for (int i = 0; i < batch.size(); i++) {
            if (sequence(batch.sequence(i)).decoding) decoding++;
        }
        if (decoding == 0) {
            if (prefill == null) {
                throw new IllegalStateException("this GPU RetroInfer cache has no dense prefill slot (made with prefillSlots 0):"
                        + " its contexts are filled (fillRandom), not prefilled");
            }
            int[] ids = new int[batch.size()];
            for (int i = 0; i < batch.size(); i++) {
                Sequence s = sequence(batch.sequence(i));
                if (s.prefillId < 0) {
                    s.prefillId = prefill.openSequence();
                }
                ids[i] = s.prefillId;
            }
            stepKind = StepKind.PREFILL;
            stepSequences = null;
            prefillLayout = new BatchLayout(ids, batch.counts());
            return prefill.prepare(prefillLayout, layer);
        }
        if (decoding < batch.size()) {
            throw new IllegalArgumentException("a step of the GPU RetroInfer cache is either prompt rows or decode rows; this one"
                    + " mixes " + decoding + " decoding sequences with " + (batch.size() - decoding) + " in their prompt");
        }
        if (batch.rows() > maxRows) {
            throw new IllegalArgumentException("a step of " + batch.rows() + " rows exceeds the GPU RetroInfer cache's " + maxRows);
        }
        stepKind = StepKind.DECODE;
        stepSequences = new Sequence[batch.size()];
        java.util.Arrays.fill(stepRowOfSlot, 0);
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = sequence(batch.sequence(i));
            if (batch.count(i) != 1) {
                throw new IllegalArgumentException("sequence " + batch.sequence(i) + " is decoding and takes one row a step, got "
                        + batch.count(i));
            }
            if (s.lengths[layer] + 1 > capacity) {
                throw new IllegalArgumentException("sequence " + batch.sequence(i) + " would hold " + (s.lengths[layer] + 1)
                        + " positions; the GPU RetroInfer cache holds " + capacity + " per sequence");
            }
            stepSequences[i] = s;
            stepRows.set(i, s.slot, s.steady[layer], s.steady[layer] + 1); // the new position goes in the steady zone
            stepRowOfSlot[s.slot] = i;
        }
        // The step's positions are counted now, before its launches, and every layer's zone arrays written: a captured
        // step replays its launches without the host code that enqueued them.
        stepUpdatesIndex = false;
        for (Sequence s : stepSequences) {
            for (int l = 0; l < shape.layers(); l++) {
                s.steady[l]++;
                s.lengths[l]++;
                stepUpdatesIndex |= s.steady[l] == steadyStride;
            }
        }
        zones.stageRows(stepRowOfSlot);
        for (int l = 0; l < shape.layers(); l++) {
            writeZones(l);
        }
        return stepRows.step(batch.rows(), 1, 1, 0);
    }

    @Override
    public void enqueueRows(StepRows step) {
        if (stepKind == StepKind.PREFILL) {
            prefill.enqueueRows(step);
            return;
        }
        stepRows.enqueue(step);
        zones.enqueue();
    }

    /** A step is prompt rows or decode rows, never both ({@link #prepare}). */
    @Override
    public boolean takesMixedSteps() {
        return false;
    }

    /** A whole slot: its meta index, steady zone, block cache and stores, on the GPU and on the host. */
    @Override
    public long sequenceBytesBound(long promptTokens, long generatedTokens) {
        return deviceBytesPerSlot() + hostBytesPerSlot();
    }

    @Override
    public java.util.Map<String, Long> memoryBytesByTier() {
        return java.util.Map.of("gpu", deviceBytes(), "host", hostBytes());
    }

    /**
     * Prefill steps are dense device work. Decode steps are too where the lookups run on the device and no sequence
     * updates its index in the step (host work between launches); with the host's lookups they wait for each layer's
     * selection on the host.
     */
    @Override
    public boolean capturable(StepRows step) {
        return stepKind == StepKind.PREFILL
                || allDeviceLookups && !stepUpdatesIndex && profile == null;
    }

    @Override
    public void append(int layer, StepRows step, F32Array k, F32Array v) {
        if (stepKind == StepKind.PREFILL) {
            prefill.append(layer, step, k, v);
            return;
        }
        WaveBuffer wave = layers[layer].wave;
        DecodeLayerShape rows = new DecodeLayerShape(step.rows(), 8, shape.kvHeads(), shape.kvHeads(), 8);
        device.launch(append, rows.kvAppendGrid(), k, v, half(wave.steadyKeys()), half(wave.steadyValues()), step.slots(),
                step.positions(), step.rows(), shape.kvHeads(), (long) steadyStride);
        boolean updated = false;
        for (Sequence s : stepSequences) {
            if (s.steady[layer] == steadyStride) {
                flush(s, layer);
                updated = true;
            }
        }
        if (updated) {
            writeZones(layer); // the index update changed this layer's clusters, budgets and steady lengths
            zones.enqueueLayer(layer);
        }
    }

    @Override
    public void attend(int layer, StepRows step, F32Array q, F32Array out) {
        if (stepKind == StepKind.PREFILL) {
            prefill.attend(layer, step, q, out);
            return;
        }
        Layer l = layers[layer];
        Device.Mark started = mark();
        device.launch(GATHER_ROWS, Grid.covering((long) slots * queryWidth / 8, DecodeLayerShape.ELEMENTWISE_THREADS), zones.rowOfSlot(), q,
                qSlots, slots, queryWidth);
        device.launch(int8Centroids() ? SCORE_INT8 : SCORE, scoring.scoringGrid(),
                scoringArguments(l, logits, partialMax, partialSum, scoring.splits()));
        Device.Mark scored = mark();
        I32Array retrievalIds = l.deviceLookups ? deviceRetrievalIds : mappedRetrievalIds;
        ClusterTopK.launch(device, device.multiprocessors(), scoring, logits, partialMax, partialSum, l.counts, l.sizes, l.budgets, headMax, headSum, scores,
                selectionWork, retrievalIds, estimationIds, zoneSizes);
        Device.Mark selected = l.deviceLookups ? mark() : device.mark();
        // Profiled layers run their phases one after another, for the marks between them to time each.
        boolean beside = BRANCHES && profile == null;
        if (beside) {
            // beside the lookups and the gather, which wait on PCIe more than on SMs
            device.branch(() -> estimation.enqueue(l.estimationIndex()));
        } else {
            estimation.enqueue(l.estimationIndex());
        }
        Device.Mark estimated = mark();
        boolean inPlace = EXACT_IN_PLACE && l.wave.readsInPlace();
        long lookup = 0;
        long[] lru = new long[2];
        Device.Mark looked = null, admittedPrevious = null;
        if (l.deviceLookups) {
            // the lookups and the gather, then (after the attention) the admission: all enqueued; the LRU update needs only
            // the lookups, so it runs beside the gather and the attention where it can. A host-tier layer's admission left
            // pending (DEVICE_STORES) goes first: it reads the shared execution buffer.
            if (pendingAdmission != null) {
                admit(pendingAdmission, lru);
                pendingAdmission = null;
            }
            l.wave.lookUpOnDevice(retrievalIds, maxRetrieval, l.retrieved);
            if (beside) {
                device.branch(l.wave::updateOnDevice);
            }
            if (!inPlace) {
                l.wave.launchGather();
            }
        } else {
            // the host looks the retrieval zone up while the GPU estimates
            selected.await();
            lookup = System.nanoTime();
            l.wave.lookUp(retrievalIds, maxRetrieval, zones.stagedRetrieved(layer)); // the host reads the staged lengths
            lookup = System.nanoTime() - lookup;
            looked = mark();
            // The previous layer's admission reads the shared execution buffer, so it goes before this layer's gather.
            // (Launched before the lookup instead, for the GPU to copy while the host looks up, it did not make steps faster
            // on the H100: docs/results/gpu-retro/tried-early-admission.)
            if (pendingAdmission != null) {
                admit(pendingAdmission, lru);
                pendingAdmission = null;
            }
            admittedPrevious = mark();
            if (!inPlace) {
                l.wave.launchGather();
            }
        }
        Device.Mark gathered = mark();
        if (inPlace) {
            l.wave.launchInPlacePartials(execShape, qSlots, execPartialOut, execPartialLse, shape.scale());
        } else {
            device.launch(partials, execShape.partialsGrid(), qSlots, half(exec.keys()), half(exec.values()), exec.lengths(),
                    execPartialOut, execPartialLse, 1, (long) exec.stride(), execShape.splits(), shape.scale(), group);
        }
        if (beside) {
            device.join();
        }
        device.launch(MERGE_PREVIOUS, execShape.mergeGrid(), execPartialOut, execPartialLse, estimation.out(), estimation.lse(), outSlots, outLse,
                execShape.splits(), group);
        Device.Mark attended = mark();
        if (l.deviceLookups) {
            if (!beside) {
                l.wave.updateOnDevice();
            }
            l.wave.admitOnDevice();
        } else {
            // the LRU update runs on other threads while the GPU attends and the host goes on to the next layer, up to its
            // gather; the last layer's admission is launched now, so that a step leaves nothing pending
            l.wave.startUpdate();
        }
        device.launch(GATHER_ROWS, Grid.covering((long) step.rows() * queryWidth / 8, DecodeLayerShape.ELEMENTWISE_THREADS),
                step.slots(), outSlots, out, step.rows(), queryWidth);
        if (!l.deviceLookups) {
            if (layer == shape.layers() - 1) {
                admit(l.wave, lru);
            } else {
                pendingAdmission = l.wave;
            }
        }
        if (profile != null) {
            Device.Mark done = device.mark();
            done.await();
            profile.device(RetroLayerProfile.Phase.SCORING, started, scored);
            profile.device(RetroLayerProfile.Phase.SELECTION, scored, selected);
            profile.device(RetroLayerProfile.Phase.ESTIMATION, selected, estimated);
            if (!l.deviceLookups) {
                profile.device(RetroLayerProfile.Phase.LOOKUP_WAIT, estimated, looked);
                profile.device(RetroLayerProfile.Phase.ADMISSION, looked, admittedPrevious);
                profile.device(RetroLayerProfile.Phase.GATHER, admittedPrevious, gathered);
            } else {
                profile.device(RetroLayerProfile.Phase.GATHER, estimated, gathered);
            }
            profile.device(RetroLayerProfile.Phase.ATTENTION, gathered, attended);
            profile.device(RetroLayerProfile.Phase.ADMISSION, attended, done);
            profile.host(RetroLayerProfile.Phase.HOST_LOOKUP, lookup);
            profile.host(RetroLayerProfile.Phase.HOST_LRU, lru[0]);
            profile.host(RetroLayerProfile.Phase.HOST_LRU_WAIT, lru[1]);
            profile.layerDone();
            for (Device.Mark m : new Device.Mark[] {started, scored, estimated, admittedPrevious, looked, gathered, attended, done}) {
                if (m != null) m.close();
            }
        }
        if (selected != null) {
            selected.close();
        }
    }

    /**
     * Stages layer {@code layer}'s per-group arrays for the step's sequences (zeros for the other groups): clusters to
     * score, zone budgets and sizes, and the steady zone's length after the step's append. The host stages them before
     * the step's launches ({@link #prepare}), and the step's copy of its rows takes them to the device, so that a captured
     * step's replay reads this step's values; and again after an index update in the layer's append.
     */
    private void writeZones(int layer) {
        // Built in Java arrays and staged in bulk: set one element at a time, the six arrays of every layer (then in
        // mapped memory) made ~2.5 ms of host work a step at 72 sequences (H200, s5-call-4), in which the GPU idled.
        java.util.Arrays.fill(zoneCounts, 0);
        java.util.Arrays.fill(zoneBudgets, 0);
        java.util.Arrays.fill(zoneEstimation, 0);
        java.util.Arrays.fill(zoneRetrieved, 0);
        java.util.Arrays.fill(zoneSteady, 0);
        for (Sequence s : stepSequences) {
            ZoneBudget budget = s.budgets[layer];
            for (int h = 0; h < shape.kvHeads(); h++) {
                int g = s.slot * shape.kvHeads() + h;
                // the selection kernel's zone sizes, as ClusterTopK computes them
                int candidates = s.candidates[layer][h];
                int r = Math.min(Math.min(budget.retrieval(), maxRetrieval), candidates);
                int e = Math.min(Math.min(budget.estimation(), maxEstimation), candidates - r);
                zoneCounts[g] = s.clusters[layer];
                zoneBudgets[2 * g] = budget.retrieval();
                zoneBudgets[2 * g + 1] = budget.estimation();
                zoneEstimation[g] = e;
                zoneRetrieved[g] = r;
                zoneSteady[g] = s.steady[layer];
            }
        }
        zones.stage(layer, zoneCounts, zoneBudgets, zoneEstimation, zoneRetrieved, zoneSteady);
    }

    /** Launches {@code wave}'s admission; adds its LRU update's host time and the wait for it to {@code lru}. */
    private static void admit(WaveBuffer wave, long[] lru) {
        long waited = System.nanoTime();
        lru[0] += wave.launchAdmission();
        lru[1] += System.nanoTime() - waited;
    }

    /** A mark where layers are profiled, else null. */
    private Device.Mark mark() {
        return profile == null ? null : device.mark();
    }

    /** Profiles the following decode layers into {@code profile} (null: stop); profiled layers wait for their last mark. */
    public GpuRetroKvCache withProfile(RetroLayerProfile profile) {
        this.profile = profile;
        return this;
    }

    @Override
    public void advanceAll(BatchLayout batch) {
        if (stepKind == StepKind.PREFILL) {
            prefill.advanceAll(prefillLayout);
            for (int i = 0; i < batch.size(); i++) {
                Sequence s = sequence(batch.sequence(i));
                for (int l = 0; l < shape.layers(); l++) {
                    s.lengths[l] += batch.count(i);
                }
            }
        }
        // decode steps counted their positions when they were prepared
    }

    /**
     * Makes {@code sequence}, still empty, hold a prompt of {@code tokens} random keys and values in every layer and
     * indexes it as {@link #endOfPrefill} indexes a prefilled one: decode benchmarks at long contexts start from it.
     * The values are {@link GpuKvCache#fillRandom}'s for the same seed (per layer and KV head, keys then values, one
     * seed each), but made a few heads at a time ({@link GpuKMeans#headsAtOnce}: a layer's 8 at 32K, one at 1M) in a
     * scratch of those heads' length, indexed from there and dropped, so no dense slot of the whole context is needed: a
     * 1M-token context (128 GiB of BF16 keys and values at Llama 3 8B's shape) needs 512 MiB of scratch for its keys and
     * values on the GPU besides the tiers it ends up in, a 32K one 128 MiB.
     */
    public void fillRandom(int sequence, long tokens, long seed) {
        Sequence s = sequence(sequence);
        if (s.decoding || s.lengths[0] != 0 || s.prefillId >= 0) {
            throw new IllegalStateException("sequence " + sequence + " holds positions already");
        }
        if (tokens < 1 || tokens > capacity) {
            throw new IllegalArgumentException("a filled context holds 1 to " + capacity + " positions, got " + tokens);
        }
        long start = System.nanoTime();
        PromptSplit split = PromptSplit.of(tokens, config);
        KernelMethod fill = KernelMethod.of(org.retroinfer.kernels.gpu.RandomFill.class, "half");
        int atOnce = GpuKMeans.headsAtOnce(tokens, shape.kvHeads());
        long elements = tokens * HEAD_DIM;
        I32Array keyScratch = device.i32(atOnce * elements / 2), valueScratch = device.i32(atOnce * elements / 2);
        HalfPrecisionArray keys = half(keyScratch), values = half(valueScratch);
        try (GpuKMeans build = split.index() ? new GpuKMeans(device, split.clustered(), split.sizing(), config.iterations(),
                atOnce) : null) {
            java.util.Arrays.fill(s.lengths, tokens);
            for (int l = 0; l < shape.layers(); l++) {
                for (int first = 0; first < shape.kvHeads(); first += atOnce) {
                    int count = Math.min(atOnce, shape.kvHeads() - first);
                    for (int h = 0; h < count; h++) { // head by head, so the values do not depend on how many build at once
                        device.launch(fill, Grid.of(1024, 256), keys.slice(h * elements, elements), elements, seed++, 1f);
                        device.launch(fill, Grid.of(1024, 256), values.slice(h * elements, elements), elements, seed++, 1f);
                    }
                    indexHeads(s, l, first, count, keys, values, 0, tokens, split, build);
                }
                finishPrompt(s, l, split);
            }
            device.synchronize(); // the scratch is read until the last head's kernels finish
        } finally {
            device.free(keyScratch);
            device.free(valueScratch);
        }
        startDecoding(s, split, start);
    }

    /**
     * Builds every layer's index over the prompt just prefilled (spec §1.1): the first {@code sinks} positions and the
     * last {@code window} go to the steady zone, the rest are clustered on the device and stored in cluster order in
     * host memory; a prompt with fewer than {@code window + updateSegment} positions past the sinks goes to the steady
     * zone whole. Frees the sequence's dense prefill slot and switches it to decoding.
     */
    @Override
    public void endOfPrefill(int sequence) {
        Sequence s = sequence(sequence);
        if (s.decoding) {
            return;
        }
        long start = System.nanoTime();
        PromptSplit split = PromptSplit.of(s.lengths[0], config);
        if (s.prefillId >= 0) {
            int dense = prefill.slotOf(s.prefillId);
            int atOnce = GpuKMeans.headsAtOnce(split.clustered(), shape.kvHeads());
            try (GpuKMeans build = split.index() ? new GpuKMeans(device, split.clustered(), split.sizing(), config.iterations(),
                    atOnce) : null) {
                for (int l = 0; l < shape.layers(); l++) {
                    for (int first = 0; first < shape.kvHeads(); first += atOnce) {
                        indexHeads(s, l, first, Math.min(atOnce, shape.kvHeads() - first), prefill.keys(l), prefill.values(l),
                                ((long) dense * shape.kvHeads() + first) * capacity, capacity, split, build);
                    }
                    finishPrompt(s, l, split);
                }
            }
            prefill.closeSequence(s.prefillId);
            s.prefillId = -1;
        }
        startDecoding(s, split, start);
    }

    /**
     * How a prompt of {@code length} positions is kept (spec §1.1): {@code sinks}, then either {@code clustered}
     * positions indexed and the last {@code kept} (the window) in the steady zone, or, for a prompt too short for an
     * index, all {@code kept} past the sinks in the steady zone.
     */
    private record PromptSplit(long length, int sinks, int kept, int clustered, ClusterSizing sizing) {
        static PromptSplit of(long length, RetroConfig config) {
            int sinks = (int) Math.min(config.sinks(), length);
            long pending = length - sinks;
            boolean index = pending >= (long) config.window() + config.updateSegment();
            return index ? new PromptSplit(length, sinks, config.window(), Math.toIntExact(pending - config.window()),
                    ClusterSizing.forPrompt(length, config))
                    : new PromptSplit(length, sinks, (int) pending, 0, null);
        }

        boolean index() {
            return sizing != null;
        }
    }

    /**
     * KV heads {@code firstHead … firstHead + count − 1} of a layer of a prompt whose vectors start at vector
     * {@code head} of {@code keys}/{@code values}, {@code headStride} vectors a head: the sinks and the window to the
     * steady zone, the rest clustered (the heads at once) and committed to the index.
     */
    private void indexHeads(Sequence s, int layer, int firstHead, int count, HalfPrecisionArray keys, HalfPrecisionArray values,
            long head, long headStride, PromptSplit split, GpuKMeans build) {
        WaveBuffer wave = layers[layer].wave;
        for (int h = 0; h < count; h++) {
            long at = head + h * headStride;
            long steady = ((long) s.slot * shape.kvHeads() + firstHead + h) * steadyStride;
            copyVectors(keys, values, at, half(wave.steadyKeys()), half(wave.steadyValues()), steady, split.sinks());
            copyVectors(keys, values, at + split.length() - split.kept(), half(wave.steadyKeys()), half(wave.steadyValues()),
                    steady + split.sinks(), split.kept());
        }
        if (split.index()) {
            build.runAt(keys, values, (head + split.sinks()) * HEAD_DIM, headStride * HEAD_DIM, count);
            commit(s, layer, firstHead, count, build, keys, values, head + split.sinks(), headStride);
        }
    }

    /** Records a layer's prompt as kept: the steady zone's length and, where indexed, the new clusters. */
    private void finishPrompt(Sequence s, int layer, PromptSplit split) {
        s.steady[layer] = split.sinks() + split.kept();
        if (split.index()) {
            finishCommit(s, layer, split.sizing().clusters(), split.clustered());
        }
    }

    private void startDecoding(Sequence s, PromptSplit split, long startNanos) {
        s.decoding = true;
        if (split.index()) {
            builds++;
            indexNanos += System.nanoTime() - startNanos;
        }
    }

    private void copyVectors(HalfPrecisionArray fromK, HalfPrecisionArray fromV, long fromVector, HalfPrecisionArray toK,
            HalfPrecisionArray toV, long toVector, int vectors) {
        if (vectors == 0) return;
        device.copy(fromK.slice(fromVector * HEAD_DIM, (long) vectors * HEAD_DIM), toK.slice(toVector * HEAD_DIM,
                (long) vectors * HEAD_DIM));
        device.copy(fromV.slice(fromVector * HEAD_DIM, (long) vectors * HEAD_DIM), toV.slice(toVector * HEAD_DIM,
                (long) vectors * HEAD_DIM));
    }

    /**
     * The oldest {@code updateSegment} generated positions of each group's full steady zone in {@code layer}, clustered
     * into the index (spec §1.4); the newest {@code window} slide down behind the sinks.
     */
    private void flush(Sequence s, int layer) {
        long start = System.nanoTime();
        WaveBuffer wave = layers[layer].wave;
        HalfPrecisionArray keys = half(wave.steadyKeys()), values = half(wave.steadyValues());
        long oldest = (long) s.slot * shape.kvHeads() * steadyStride + config.sinks(); // head 0's, the others steadyStride on
        updateBuild.runAt(keys, values, oldest * HEAD_DIM, (long) steadyStride * HEAD_DIM, shape.kvHeads());
        commit(s, layer, 0, shape.kvHeads(), updateBuild, keys, values, oldest, steadyStride);
        for (int h = 0; h < shape.kvHeads(); h++) { // after the commit's gathers have read the segment
            long first = oldest + (long) h * steadyStride;
            copyVectors(keys, values, first + config.updateSegment(), keys, values, first, config.window());
        }
        finishCommit(s, layer, ClusterSizing.forUpdate(config).clusters(), config.updateSegment());
        s.steady[layer] -= config.updateSegment();
        updates++;
        indexNanos += System.nanoTime() - start;
    }

    /**
     * Adds the new clusters of KV heads {@code firstHead … firstHead + count − 1}, from {@code kmeans}'s last run of
     * those heads on the device, to their groups' indexes: each head's members' keys and values (vectors from
     * {@code firstVector + h·headStride} of {@code keys}/{@code values}) gathered in cluster order to the end of its
     * store, and centroids, value sums and sizes after its existing ones, all by kernels; only the sizes and starts come
     * to the host, all heads' in one download each, for the mapping tables.
     */
    private void commit(Sequence s, int layer, int firstHead, int count, GpuKMeans kmeans, HalfPrecisionArray keys,
            HalfPrecisionArray values, long firstVector, long headStride) {
        KMeansBuild r = kmeans.results();
        Layer l = layers[layer];
        int n = r.shape().tokens(), added = r.shape().clusters();
        int base = s.clusters[layer];
        if (base + added > clusterCapacity) {
            throw new IllegalStateException("the index of sequence slot " + s.slot + " would hold " + (base + added)
                    + " clusters a group; the GPU RetroInfer cache sized it for " + clusterCapacity);
        }
        long elements = (long) added * HEAD_DIM;
        for (int h = 0; h < count; h++) {
            int g = s.slot * shape.kvHeads() + firstHead + h;
            long storeVector = (long) g * capacity + s.indexed[layer];
            long vector = firstVector + h * headStride;
            HalfPrecisionArray memberKeys = keys.slice(vector * HEAD_DIM, (long) n * HEAD_DIM);
            HalfPrecisionArray memberValues = values.slice(vector * HEAD_DIM, (long) n * HEAD_DIM);
            I32Array members = r.members().slice((long) h * n, n);
            if (l.wave.storeFormat() == StoreFormat.HALF) {
                long ints = (long) n * WaveBuffer.INTS;
                device.launch(GATHER_VECTORS, IndexStore.vectorGrid(n), I32Array.view(memberKeys.region()), members, n,
                        l.wave.storeKeys().slice(storeVector * WaveBuffer.INTS, ints));
                device.launch(GATHER_VECTORS, IndexStore.vectorGrid(n), I32Array.view(memberValues.region()), members, n,
                        l.wave.storeValues().slice(storeVector * WaveBuffer.INTS, ints));
            } else {
                QuantisedStoreWriter writer = l.wave.storeOnDevice() ? deviceWriter : hostWriter;
                writer.write(memberKeys, members, n, l.wave.storeKeys(), l.wave.storeKeyScales(), storeVector);
                writer.write(memberValues, members, n, l.wave.storeValues(), l.wave.storeValueScales(), storeVector);
            }
            long first = (long) g * clusterCapacity + base;
            if (int8Centroids()) {
                device.launch(TO_INT8_CENTROIDS, IndexStore.vectorGrid(added), r.centroids().slice(h * elements, elements), added,
                        l.centroids, l.centroidScales, first);
            } else {
                device.launch(toHalf, IndexStore.elementGrid(elements), r.centroids().slice(h * elements, elements),
                        half(l.centroids).slice(first * HEAD_DIM, elements), elements);
            }
            if (int8ValueSums()) {
                device.launch(TO_INT8, IndexStore.vectorGrid(added), r.valueSums().slice(h * elements, elements), added,
                        l.valueSums.slice(first * Int8Vectors.INTS, (long) added * Int8Vectors.INTS),
                        l.valueSumScales.slice(first, added));
            } else {
                device.launch(toHalf, IndexStore.elementGrid(elements), r.valueSums().slice(h * elements, elements),
                        half(l.valueSums).slice(first * HEAD_DIM, elements), elements);
            }
            device.launch(TO_F32, IndexStore.elementGrid(added), r.sizes().slice((long) h * added, added),
                    l.sizes.slice(first, added), added);
        }
        int[] sizes = new int[count * added], starts = new int[count * added];
        device.download(r.sizes().slice(0, (long) count * added), MemorySegment.ofArray(sizes));
        device.download(r.starts().slice(0, (long) count * added), MemorySegment.ofArray(starts));
        for (int h = 0; h < count; h++) {
            int[] headSizes = java.util.Arrays.copyOfRange(sizes, h * added, (h + 1) * added);
            int[] headStarts = new int[added];
            int candidates = 0;
            for (int cluster = 0; cluster < added; cluster++) {
                headStarts[cluster] = Math.toIntExact(s.indexed[layer] + starts[h * added + cluster]);
                candidates += headSizes[cluster] > 0 ? 1 : 0;
            }
            l.wave.addClusters(s.slot * shape.kvHeads() + firstHead + h, base, headStarts, headSizes);
            s.candidates[layer][firstHead + h] += candidates;
        }
    }

    /** Records that every head of {@code layer} took {@code added} clusters of {@code tokens} positions. */
    private void finishCommit(Sequence s, int layer, int added, int tokens) {
        s.clusters[layer] += added;
        s.indexed[layer] += tokens;
        s.budgets[layer] = s.budgets[layer].grownBy(added, config);
    }

    /**
     * The host-array form of a step, for the CPU transformer: layer 0's append prepares the step, each layer appends
     * and attends through uploads and downloads, and the last layer's attend ends the step.
     */
    @Override
    public void append(int layer, BatchLayout batch, float[] keysIn, float[] valuesIn) {
        if (layer == 0) {
            hostStep = prepare(batch, 0);
            enqueueRows(hostStep);
        } else if (hostStep == null) {
            throw new IllegalStateException("a host-array step starts with layer 0's append, got layer " + layer);
        }
        int n = batch.rows() * shape.kvWidth();
        F32Array k = scratchIn.slice(0, n), v = scratchOut.slice(0, n);
        device.upload(MemorySegment.ofArray(keysIn).asSlice(0, 4L * n), k);
        device.upload(MemorySegment.ofArray(valuesIn).asSlice(0, 4L * n), v);
        append(layer, hostStep, k, v);
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        if (hostStep == null) {
            throw new IllegalStateException("attend(" + layer + ") without the step's append");
        }
        int n = batch.rows() * queryWidth;
        F32Array q = scratchIn.slice(0, n), o = scratchOut.slice(0, n);
        device.upload(MemorySegment.ofArray(queries).asSlice(0, 4L * n), q);
        attend(layer, hostStep, q, o);
        device.download(o, MemorySegment.ofArray(out).asSlice(0, 4L * n));
        if (layer == shape.layers() - 1) {
            advanceAll(batch);
            hostStep = null;
        }
    }

    /** Clusters found in the GPU block cache over every decode step so far, as a fraction of the clusters retrieved. */
    public double hitRatio() {
        long[] counts = hitCounts();
        return counts[1] == 0 ? 0 : (double) counts[0] / counts[1];
    }

    @Override
    public java.util.OptionalDouble cacheHitRatio() {
        return java.util.OptionalDouble.of(hitRatio());
    }

    /** Clusters found in the GPU block cache and clusters retrieved, over every decode step so far. */
    public long[] hitCounts() {
        long hits = 0, accessed = 0;
        for (Layer l : layers) {
            long[] counts = l.wave.hitCounts();
            hits += counts[0];
            accessed += counts[1];
        }
        return new long[] {hits, accessed};
    }

    /** Index builds (prompts) and updates (full steady zones) so far, and the wall time both took. */
    public record Stats(long builds, long updates, long indexNanos) {}

    public Stats stats() {
        return new Stats(builds, updates, indexNanos);
    }

    /**
     * Bytes the cache holds, device and host: dense prefill slots, meta indexes, steady zones, block caches, the host
     * stores and the step scratch (all fixed at construction).
     */
    @Override
    public long memoryBytes() {
        return deviceBytes() + hostBytes();
    }

    /** Device memory: {@link #memoryBytes} less the host stores and the small mapped arrays. */
    public long deviceBytes() {
        return bytes(true);
    }

    /** Pinned host memory: the host stores of every layer and the mapped per-step arrays. */
    public long hostBytes() {
        return bytes(false);
    }

    /** Device bytes one more slot adds (meta index, steady zone and block cache of every layer): per sequence. */
    public long deviceBytesPerSlot() {
        long total = 0;
        for (Layer l : layers) {
            for (TypedArray a : l.meta()) total += a.byteSize();
            total += l.wave.deviceBytes();
        }
        return total / slots;
    }

    /** Pinned host bytes per sequence: the host-tier layers' stores of one slot's groups. */
    public long hostBytesPerSlot() {
        long total = 0;
        for (Layer l : layers) total += l.wave.storeBytes(false);
        return total / slots;
    }

    private long bytes(boolean onDevice) {
        long total = onDevice && prefill != null ? prefill.memoryBytes() : 0;
        total += onDevice ? stepRows.deviceBytes() : 0;
        total += zones.bytes(); // in device memory and staged in as many pinned bytes
        java.util.List<TypedArray> arrays = new java.util.ArrayList<>(java.util.List.of(qSlots, outSlots, outLse, logits, partialMax, partialSum, headMax, headSum, scores,
                estimationIds, zoneSizes, selectionWork, execPartialOut, execPartialLse, scratchIn, scratchOut, exec.keys(), exec.values(),
                exec.lengths()));
        for (I32Array ids : new I32Array[] {deviceRetrievalIds, mappedRetrievalIds}) {
            if (ids != null) arrays.add(ids);
        }
        arrays.addAll(estimation.arrays());
        for (Layer l : layers) {
            arrays.addAll(l.meta());
            total += onDevice ? l.wave.deviceBytes() : l.wave.hostBytes();
        }
        for (TypedArray a : arrays) {
            boolean device = a.kind() == org.retroinfer.accel.kernel.MemoryKind.DEVICE;
            total += device == onDevice ? a.byteSize() : 0;
        }
        return total;
    }

    @Override
    public void close() {
        for (Integer id : open.ids()) {
            closeSequence(id);
        }
        updateBuild.close();
        for (Layer l : layers) {
            l.free();
        }
        exec.free(device);
        if (prefill != null) {
            prefill.close();
        }
        stepRows.free();
        zones.free();
        for (TypedArray a : new TypedArray[] {qSlots, outSlots, outLse, logits, partialMax, partialSum, headMax, headSum, scores,
                estimationIds, zoneSizes, selectionWork, execPartialOut, execPartialLse, scratchIn, scratchOut,
                deviceRetrievalIds, mappedRetrievalIds}) {
            if (a != null) device.free(a);
        }
        estimation.free();
        if (deviceWriter != null) {
            deviceWriter.free();
        }
        if (hostWriter != null && hostWriter != deviceWriter) {
            hostWriter.free();
        }
    }

    /** A writer of stores in {@code format}: {@code other} where it writes that format, null for the storage type. */
    private QuantisedStoreWriter writer(StoreFormat format, QuantisedStoreWriter other) {
        if (format == StoreFormat.HALF) {
            return null;
        }
        return other != null && other.format() == format ? other
                : new QuantisedStoreWriter(device, format, QuantisedStoreWriter.CHUNK);
    }
}
