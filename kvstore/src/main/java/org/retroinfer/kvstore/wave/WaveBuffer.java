package org.retroinfer.kvstore.wave;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.gpu.CacheAdmission;
import org.retroinfer.kernels.gpu.DecodeAttentionShape;
import org.retroinfer.kernels.gpu.ExecutionBufferGather;
import org.retroinfer.kernels.gpu.StoreDecode;

/**
 * The wave buffer of one layer (spec §3.1-3.3): for each group (a sequence's KV head) its non-steady keys and values
 * in cluster order in host memory the GPU reads directly (mapped, zero-copy) or, for a layer whose store fits there,
 * in device memory (the GPU tier), a GPU block cache of whole clusters (for a host store only: a device store is read
 * as fast as the cache, so there every cluster is read from the store and nothing is admitted), a
 * {@link ClusterMappingTable}, and the execution buffer that exact attention reads. {@link #assemble} turns each
 * group's ranked retrieval clusters into {@code [steady zone | misses | hits]} in the execution buffer, in one gather
 * launch; {@link #admit} then runs the tables' LRU updates and copies the admitted misses into the cache. A store in
 * device memory can instead be attended in place ({@link #launchInPlacePartials}), with no execution buffer. Vectors
 * are 128 16-bit values moved as 64 ints ({@code VectorChunks}), so BF16 and F16 stores are alike here.
 *
 * <p>The descriptors go through mapped host memory, as in the reference, so nothing but the two launches is enqueued;
 * the LRU update between them is host work that the caller may overlap with the attention on the GPU.
 */
public final class WaveBuffer implements AutoCloseable {
    /** Ints per vector. */
    public static final int INTS = 64;
    /**
     * Clusters looked up (over all groups) from which lookups and LRU updates are shared out over threads, a group to a
     * task: fewer cost less than the hand-off (16 groups of 9 at 8K do; a 1M-token sequence's 8 groups of 1152, which
     * took 1.7 ms a layer in turn on the H100 machine, do too).
     */
    private static final int PARALLEL_CLUSTERS = 128;
    /** The gather's blocks a SM where other work shares the GPU ({@link #gatherGrid}). */
    private static final int SHARED_GATHER_BLOCKS_PER_SM = 2;
    private static final KernelMethod ADMIT = KernelMethod.of(CacheAdmission.class, "admit");

    private final Device device;
    private final int groups, steadyStride, listStride, cacheBlocks, maxUnits, execStride;
    private final ExecutionBuffer exec;
    /** Whether this buffer allocated {@link #exec} and frees it. */
    private final boolean ownsExec;
    private final boolean storeOnDevice;
    /** Whether the block cache holds clusters: only for a store in host memory, whose misses cross PCIe. */
    private final boolean cached;
    /** The host's tables, one per group, or null where the tables are on the device. */
    private final ClusterMappingTable[] tables;
    /** The tables on the device, or null where they are on the host. */
    private final DeviceMappingTables deviceTables;
    /** Whether each group's table has an access whose LRU update is still to run. */
    private final boolean[] pending;
    /** Each group's ranked clusters of the last lookup from ids, reused (a group is one thread's at a time). */
    private final int[][] rankedScratch;
    /** Clusters the last assembly looked up, over all groups: what its lookups and LRU update have to do. */
    private long clustersInFlight;
    /** The LRU update started and not yet joined (its host nanoseconds), or null. */
    private java.util.concurrent.CompletableFuture<Long> update;
    private final StoreFormat format;
    private final KernelMethod gather, inPlacePartials;
    /** A quantised store's scales ({@code [groups][listStride][format.scaleInts()]}), beside it; null for a 16-bit store. */
    private final I32Array scalesK, scalesV;
    private final I32Array listK, listV, steadyK, steadyV, steadyLengths, cacheK, cacheV, execK, execV, validLengths;
    /** Whether {@link #steadyLengths} is this buffer's mapped array, written by its setters, or its owner's device array. */
    private final boolean ownsSteadyLengths;
    private final I32Array missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts;
    private final I32Array admitOffsets, admitSizes, admitBlocks, admitCounts;

    /**
     * @param steadyStride vectors of each group's steady zone
     * @param listStride   vectors of each group's host store
     * @param cacheBlocks  cache blocks of 8 vectors per group
     * @param maxUnits     blocks one assembly gathers per group at most
     */
    public WaveBuffer(Device device, int groups, int steadyStride, int listStride, int cacheBlocks, int maxUnits) {
        this(device, groups, steadyStride, listStride, cacheBlocks, maxUnits, ExecutionBuffer.allocate(device, groups, steadyStride,
                maxUnits), true, false, StoreFormat.HALF, DType.BF16);
    }

    /**
     * A layer's wave buffer that assembles into {@code exec}, shared with the other layers (it must have been allocated
     * for these groups, steady stride and units). {@code storeOnDevice}: the store of cluster-ordered keys and values
     * lives in device memory instead of mapped host memory (the GPU tier, for layers whose store fits there): the
     * gather reads its "misses" at device speed, and it must be filled by uploads.
     */
    public WaveBuffer(Device device, int groups, int steadyStride, int listStride, int cacheBlocks, int maxUnits,
            ExecutionBuffer exec, boolean storeOnDevice) {
        this(device, groups, steadyStride, listStride, cacheBlocks, maxUnits, exec, false, storeOnDevice, StoreFormat.HALF,
                DType.BF16);
    }

    /**
     * As {@link #WaveBuffer(Device, int, int, int, int, int, ExecutionBuffer, boolean)}, with the store in
     * {@code format}; an {@link StoreFormat#INT8} or {@link StoreFormat#INT4} store is dequantised into the execution
     * buffer's {@code storage} type (BF16 or F16).
     */
    public WaveBuffer(Device device, int groups, int steadyStride, int listStride, int cacheBlocks, int maxUnits,
            ExecutionBuffer exec, boolean storeOnDevice, StoreFormat format, DType storage) {
        this(device, groups, steadyStride, listStride, cacheBlocks, maxUnits, exec, false, storeOnDevice, format, storage);
    }

    /**
     * Where the mapping tables live on the device ({@link DeviceMappingTables}) instead of the host: at most
     * {@code clusters} clusters per group's table, at most {@code ranked} clusters looked up per group and step.
     */
    public record DeviceLookups(int clusters, int ranked) {}

    /**
     * As {@link #WaveBuffer(Device, int, int, int, int, int, ExecutionBuffer, boolean, StoreFormat, DType)}, with the
     * mapping tables on the device ({@code lookups}; null keeps them on the host): {@link #lookUpOnDevice} and
     * {@link #admitOnDevice} then replace the host's lookups and LRU updates, and the unit lists live in device memory;
     * and with the steady zones' lengths in {@code steadyLengths}, one per group, which its owner writes (device memory,
     * filled by copies enqueued in the steps), or null for mapped host memory that {@link #steadyLengths} writes.
     */
    public WaveBuffer(Device device, int groups, int steadyStride, int listStride, int cacheBlocks, int maxUnits,
            ExecutionBuffer exec, boolean storeOnDevice, StoreFormat format, DType storage, DeviceLookups lookups,
            I32Array steadyLengths) {
        this(device, groups, steadyStride, listStride, cacheBlocks, maxUnits, exec, false, storeOnDevice, format, storage, lookups,
                steadyLengths);
    }

    private WaveBuffer(Device device, int groups, int steadyStride, int listStride, int cacheBlocks, int maxUnits,
            ExecutionBuffer exec, boolean ownsExec, boolean storeOnDevice, StoreFormat format, DType storage) {
        this(device, groups, steadyStride, listStride, cacheBlocks, maxUnits, exec, ownsExec, storeOnDevice, format, storage,
                null, null);
    }

    private WaveBuffer(Device device, int groups, int steadyStride, int listStride, int cacheBlocks, int maxUnits,
            ExecutionBuffer exec, boolean ownsExec, boolean storeOnDevice, StoreFormat format, DType storage,
            DeviceLookups lookups, I32Array steadyLengths) {
        if (steadyLengths != null && steadyLengths.length() != groups) {
            throw new IllegalArgumentException("steady lengths are one per group, " + groups + ", got " + steadyLengths.length());
        }
        if (storage != DType.BF16 && storage != DType.F16) {
            throw new IllegalArgumentException("a wave buffer holds BF16 or F16 vectors, not " + storage);
        }
        if (exec.groups() != groups || exec.stride() != steadyStride + ClusterMappingTable.BLOCK * maxUnits) {
            throw new IllegalArgumentException("an execution buffer of " + exec.groups() + " groups x " + exec.stride()
                    + " vectors does not fit " + groups + " groups of a " + steadyStride + "-vector steady zone and " + maxUnits
                    + " units");
        }
        this.device = device;
        this.groups = groups;
        this.steadyStride = steadyStride;
        this.listStride = listStride;
        // A store in device memory is read as fast as the cache would be: such a buffer caches nothing (one block keeps the
        // arrays and tables well formed), its lookups find every cluster missing and it admits none.
        this.cached = !storeOnDevice;
        this.cacheBlocks = cached ? cacheBlocks : 1;
        this.maxUnits = maxUnits;
        this.exec = exec;
        this.ownsExec = ownsExec;
        this.execStride = exec.stride();
        deviceTables = lookups == null ? null
                : new DeviceMappingTables(device, groups, lookups.clusters(), this.cacheBlocks, maxUnits, lookups.ranked());
        tables = lookups == null ? new ClusterMappingTable[groups] : null;
        pending = new boolean[groups];
        rankedScratch = new int[groups][];
        for (int g = 0; tables != null && g < groups; g++) {
            tables[g] = new ClusterMappingTable(this.cacheBlocks, maxUnits);
        }
        this.storeOnDevice = storeOnDevice;
        this.format = format;
        this.gather = format.gather(storage);
        this.inPlacePartials = format.inPlacePartials(storage);
        long storeVectors = (long) groups * listStride;
        long storeInts = storeVectors * format.ints();
        listK = storeOnDevice ? device.i32(storeInts) : mapped(storeInts);
        listV = storeOnDevice ? device.i32(storeInts) : mapped(storeInts);
        long storeScales = storeVectors * format.scaleInts();
        scalesK = format == StoreFormat.HALF ? null : storeOnDevice ? device.i32(storeScales) : mapped(storeScales);
        scalesV = format == StoreFormat.HALF ? null : storeOnDevice ? device.i32(storeScales) : mapped(storeScales);
        steadyK = device.i32((long) groups * steadyStride * INTS);
        steadyV = device.i32((long) groups * steadyStride * INTS);
        ownsSteadyLengths = steadyLengths == null;
        this.steadyLengths = ownsSteadyLengths ? mapped(groups) : steadyLengths;
        cacheK = device.i32((long) groups * this.cacheBlocks * ClusterMappingTable.BLOCK * INTS);
        cacheV = device.i32((long) groups * this.cacheBlocks * ClusterMappingTable.BLOCK * INTS);
        execK = exec.keys();
        execV = exec.values();
        validLengths = exec.lengths();
        long units = (long) groups * maxUnits;
        // the host's lookups and updates write the unit lists where the GPU reads them (mapped); the device's stay on it
        java.util.function.LongFunction<I32Array> lists = lookups == null ? this::mapped : device::i32;
        missStarts = lists.apply(units);
        missSizes = lists.apply(units);
        missOffsets = lists.apply(units);
        missCounts = lists.apply(groups);
        hitBlocks = lists.apply(units);
        hitSizes = lists.apply(units);
        hitOffsets = lists.apply(units);
        hitCounts = lists.apply(groups);
        admitOffsets = lists.apply(units);
        admitSizes = lists.apply(units);
        admitBlocks = lists.apply(units);
        admitCounts = lists.apply(groups);
    }

    private I32Array mapped(long n) {
        return (I32Array) device.mapped(ElementType.I32, n);
    }

    /**
     * The store's keys and values ({@code [groups][listStride][format.ints()]} ints: 64 a vector, 32 for an INT8 store,
     * 16 for an INT4 one): fill them in cluster order, through the host segment where the store is in mapped host memory, by
     * uploads or kernels where it is on the device.
     */
    public I32Array storeKeys() {
        return listK;
    }

    public I32Array storeValues() {
        return listV;
    }

    public StoreFormat storeFormat() {
        return format;
    }

    /**
     * A quantised store's scales of keys and of values ({@code [groups][listStride][format.scaleInts()]}); null for a
     * 16-bit store.
     */
    public I32Array storeKeyScales() {
        return scalesK;
    }

    public I32Array storeValueScales() {
        return scalesV;
    }

    /** Whether the store lives in device memory (the GPU tier) rather than mapped host memory. */
    public boolean storeOnDevice() {
        return storeOnDevice;
    }

    /** The steady zones on the device ({@code [groups][steadyStride][64]} ints). */
    public I32Array steadyKeys() {
        return steadyK;
    }

    public I32Array steadyValues() {
        return steadyV;
    }

    /** Sets group {@code g}'s steady zone length. */
    public void steadyLength(int group, int vectors) {
        checkOwnsSteadyLengths();
        checkSteadyLength(vectors);
        steadyLengths.set(group, vectors);
    }

    /** Every group's steady-zone length at once, {@code vectors[g]} for group {@code g}: {@link #steadyLength} in one copy. */
    public void steadyLengths(int[] vectors) {
        if (vectors.length != groups) {
            throw new IllegalArgumentException("steady lengths are one per group, " + groups + ", got " + vectors.length);
        }
        checkOwnsSteadyLengths();
        for (int v : vectors) {
            checkSteadyLength(v);
        }
        steadyLengths.copyFrom(vectors);
    }

    private void checkOwnsSteadyLengths() {
        if (!ownsSteadyLengths) {
            throw new IllegalStateException("this wave buffer's steady lengths are written by the owner of their device array");
        }
    }

    private void checkSteadyLength(int vectors) {
        if (vectors < 0 || vectors > steadyStride) {
            throw new IllegalArgumentException("a steady zone holds 0 to " + steadyStride + " vectors, got " + vectors);
        }
    }

    /** Group {@code g}'s mapping table on the host (where the tables are there): its clusters and cache, for tests. */
    public ClusterMappingTable table(int group) {
        return hostTables()[group];
    }

    private ClusterMappingTable[] hostTables() {
        if (tables == null) {
            throw new IllegalStateException("this wave buffer's mapping tables are on the device");
        }
        return tables;
    }

    /** Forgets group {@code g}'s clusters and frees its cache blocks (a slot's next sequence). */
    public void clear(int group) {
        if (tables != null) {
            tables[group].clear();
        } else {
            deviceTables.clear(group);
        }
    }

    /**
     * Adds clusters to group {@code g}'s table, after those it has ({@code first} of them): each one's first vector in
     * the group's store and its size.
     */
    public void addClusters(int group, int first, int[] starts, int[] sizes) {
        if (tables != null) {
            if (tables[group].clusters() != first) {
                throw new IllegalArgumentException("group " + group + " has " + tables[group].clusters() + " clusters, not " + first);
            }
            for (int c = 0; c < starts.length; c++) {
                tables[group].addCluster(starts[c], sizes[c]);
            }
        } else {
            deviceTables.addClusters(group, first, starts, sizes);
        }
    }

    /**
     * Enqueues the device's lookups of each group's first {@code counts[g]} ids of {@code ids} ({@code [groups][idsStride]},
     * e.g. the retrieval zone the selection kernel wrote; taken in ascending order as the host's lookups take them): the
     * unit lists that {@link #launchGather} follows next. No host work: a layer so assembled can be captured in a CUDA
     * graph.
     */
    public void lookUpOnDevice(I32Array ids, int idsStride, I32Array counts) {
        deviceTables().lookUp(ids, idsStride, counts, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes,
                hitOffsets, hitCounts);
    }

    /**
     * Enqueues the device's LRU updates after {@link #lookUpOnDevice}: the tables' new recency and blocks, and the lists
     * of admission copies. They read only what the lookups wrote and the tables, not the unit lists, the cache or the
     * execution buffer, so they may run beside the gather and the attention ({@link Device#branch}).
     */
    public void updateOnDevice() {
        if (!cached) {
            deviceTables();
            return;
        }
        deviceTables().update(admitOffsets, admitSizes, admitBlocks, admitCounts);
    }

    /**
     * Enqueues the copies of the admitted misses into the cache, after {@link #updateOnDevice} and the attention over the
     * buffer, before the buffer's next gather (of any layer sharing it).
     */
    public void admitOnDevice() {
        deviceTables(); // refuses a buffer whose tables are on the host: its copies wait for the host's update instead
        if (cached) {
            launchAdmissionCopies();
        }
    }

    private DeviceMappingTables deviceTables() {
        if (deviceTables == null) {
            throw new IllegalStateException("this wave buffer's mapping tables are on the host");
        }
        return deviceTables;
    }

    /**
     * Looks up each group's ranked clusters ({@code ranked[g]}, the first {@code counts[g]}) and enqueues the gather
     * of the execution buffer. Host work, then one launch.
     */
    public void assemble(int[][] ranked, int[] counts) {
        checkNoUpdate();
        clustersInFlight = java.util.Arrays.stream(counts).asLongStream().sum();
        eachGroup(g -> lookUp(g, ranked[g], counts[g]));
        launchGather();
    }

    /** Group {@code g}'s lookup of its first {@code count} ranked clusters, written into the gather's unit lists. */
    private void lookUp(int g, int[] ranked, int count) {
        tables[g].accessInto(ranked, count, g, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                hitCounts);
        pending[g] = true;
    }

    /**
     * {@link #assemble} with each group's ranked clusters read from {@code ids} ({@code [groups][idsStride]}, e.g. the
     * retrieval zone a selection kernel wrote into mapped memory), the first {@code counts[g]} of group g; a group
     * with a count of 0 gathers its steady zone only. The ids are taken in ascending order: the selection kernel's
     * order within a zone is arbitrary, and a fixed one makes the cache's contents, and so the buffer's layout,
     * reproducible.
     */
    public void assemble(I32Array ids, int idsStride, I32Array counts) {
        lookUp(ids, idsStride, counts);
        launchGather();
    }

    /**
     * The host half of {@link #assemble(I32Array, int, I32Array)}: the lookups, without the gather's launch, so that a
     * caller can enqueue other work (an earlier layer's admission) before it.
     */
    public void lookUp(I32Array ids, int idsStride, I32Array counts) {
        checkNoUpdate();
        clustersInFlight = 0;
        for (int g = 0; g < groups; g++) {
            clustersInFlight += counts.get(g);
        }
        eachGroup(g -> {
            int n = counts.get(g);
            if (rankedScratch[g] == null || rankedScratch[g].length < n) {
                rankedScratch[g] = new int[Math.max(n, idsStride)];
            }
            int[] ranked = rankedScratch[g];
            MemorySegment.copy(ids.segment(), ValueLayout.JAVA_INT, (long) g * idsStride * Integer.BYTES, ranked, 0, n);
            Arrays.sort(ranked, 0, n);
            lookUp(g, ranked, n);
        });
    }

    /** A lookup reads the tables that a pending LRU update writes; the host's lookups need the host's tables. */
    private void checkNoUpdate() {
        hostTables();
        if (update != null) {
            throw new IllegalStateException("the LRU update of the last assembly is pending: launchAdmission() first");
        }
    }

    /**
     * The gather's grid. Alone on the GPU: {@link ExecutionBufferGather#BLOCKS_PER_GROUP} blocks a group. Beside
     * another device's work (micro-batches, {@link Device#sharesGpu}): {@link #SHARED_GATHER_BLOCKS_PER_SM} blocks a
     * SM, each taking many groups' chunks in turn. Its misses come over PCIe, which that many keep busy, and the room
     * left on the SMs runs the other micro-batch's linear layers and attention: at 32K in two micro-batches on the H100
     * machine, 719.9 decode tokens/s against 690.7 with the full grid (docs/results/gpu-retro/micro-batches).
     */
    private Grid gatherGrid() {
        return device.sharesGpu() ? ExecutionBufferGather.grid(groups, SHARED_GATHER_BLOCKS_PER_SM * device.multiprocessors())
                : ExecutionBufferGather.grid(groups);
    }

    /** Enqueues the gather of the execution buffer that the last lookups described. */
    public void launchGather() {
        device.launch(gather, gatherGrid(), gatherArguments());
    }

    /**
     * Whether exact attention may read this buffer's store in place ({@link #launchInPlacePartials}) instead of a
     * gathered execution buffer: where the store is in device memory and there is no block cache, every retrieval unit
     * is a miss from the store, which the attention reads as fast as the buffer and in fewer bytes. The unit lists must
     * be in device memory too (the tables on the device): the attention reads a unit's descriptor every tile, which from
     * mapped host memory would be a PCIe round trip a tile, where the gather reads 32 descriptors per round trip.
     */
    public boolean readsInPlace() {
        return storeOnDevice && !cached && deviceTables != null;
    }

    /**
     * Enqueues exact attention's split-KV partials over each group's steady zone and the units the last lookups
     * listed, read in place from the store ({@link StoreDecode}), in place of {@link #launchGather} and attention over
     * the execution buffer: the same partial layout for a merge on {@code shape} ({@code groups} pairs of one KV head,
     * {@code q} the groups' query heads in order).
     */
    public void launchInPlacePartials(DecodeAttentionShape shape, F32Array q, F32Array partialOut, F32Array partialLse,
            float scale) {
        if (!readsInPlace()) {
            throw new IllegalStateException("only a store on the device without a block cache, looked up on the device, is read"
                    + " in place");
        }
        if (shape.batch() != groups || shape.kvHeads() != 1) {
            throw new IllegalArgumentException("in-place partials run on " + groups + " pairs of one KV head, not " + shape);
        }
        I32Array kScales = scalesK == null ? listK : scalesK, vScales = scalesV == null ? listV : scalesV; // unread for a 16-bit store
        device.launch(inPlacePartials, shape.partialsGrid(), q, steadyK, steadyV, steadyLengths, steadyStride, listK, listV,
                kScales, vScales, listStride, missStarts, missSizes, missCounts, maxUnits, partialOut, partialLse, shape.splits(),
                scale, shape.groupSize());
    }

    private Object[] gatherArguments() {
        return format == StoreFormat.HALF
                ? new Object[] {steadyK, steadyV, steadyLengths, steadyStride, listK, listV, listStride, cacheK, cacheV, cacheBlocks,
                        missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, maxUnits, execK,
                        execV, execStride, validLengths, groups}
                : new Object[] {steadyK, steadyV, steadyLengths, steadyStride, listK, listV, scalesK, scalesV, listStride, cacheK,
                        cacheV, cacheBlocks, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                        hitCounts, maxUnits, execK, execV, execStride, validLengths, groups};
    }

    /**
     * Runs {@code work} for every group, on the common fork-join pool where the last assembly looked up enough clusters
     * to share out: each group's table and its slices of the unit lists are its own (the reference's buffer manager
     * splits its thread pool over groups the same way, spec §3.2).
     */
    private void eachGroup(java.util.function.IntConsumer work) {
        java.util.stream.IntStream range = java.util.stream.IntStream.range(0, groups);
        (groups > 1 && clustersInFlight >= PARALLEL_CLUSTERS ? range.parallel() : range).forEach(work);
    }

    /**
     * The LRU updates of the last {@link #assemble} (host work), then the launch that copies the admitted misses from the
     * execution buffer into the cache. The attention over the buffer must be enqueued before this (it reads the buffer,
     * which this does not change).
     */
    public void admit() {
        startUpdate();
        launchAdmission();
    }

    /**
     * Starts the LRU updates of the last {@link #assemble} on the common fork-join pool and returns at once: the
     * reference's buffer manager updates asynchronously too (spec §3.3), and the update has only to be done before this
     * buffer's admission is launched ({@link #launchAdmission}), which the execution buffer's next gather must follow.
     */
    public void startUpdate() {
        hostTables();
        for (int g = 0; g < groups; g++) {
            if (!pending[g]) {
                throw new IllegalStateException("an LRU update needs an assemble() first");
            }
        }
        if (!cached) {
            Arrays.fill(pending, false);
            update = java.util.concurrent.CompletableFuture.completedFuture(0L);
            return;
        }
        update = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            long start = System.nanoTime();
            eachGroup(g -> {
                tables[g].updateInto(g, admitOffsets, admitSizes, admitBlocks, admitCounts);
                pending[g] = false;
            });
            return System.nanoTime() - start;
        });
    }

    /**
     * Waits for {@link #startUpdate}'s work and enqueues the copies of the admitted misses from the execution buffer into
     * the cache: after the attention over the buffer, before the buffer's next gather (of any layer sharing it). Returns
     * the update's own host time in nanoseconds.
     */
    public long launchAdmission() {
        if (update == null) {
            throw new IllegalStateException("launchAdmission() needs a startUpdate() first");
        }
        long nanos;
        try {
            nanos = update.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        } finally {
            update = null;
        }
        if (cached) {
            launchAdmissionCopies();
        }
        return nanos;
    }

    private void launchAdmissionCopies() {
        device.launch(ADMIT, CacheAdmission.grid(groups), execK, execV, execStride, steadyLengths, admitOffsets, admitSizes,
                admitBlocks, admitCounts, maxUnits, cacheK, cacheV, cacheBlocks);
    }

    /** The execution buffer ({@code [groups][execStride][64]} ints) and each group's valid length after assembly. */
    public I32Array executionKeys() {
        return execK;
    }

    public I32Array executionValues() {
        return execV;
    }

    public I32Array validLengths() {
        return validLengths;
    }

    public int executionStride() {
        return execStride;
    }

    /** Device bytes of the steady zones and the block cache (the execution buffer is counted where it is allocated). */
    public long deviceBytes() {
        return steadyK.byteSize() + steadyV.byteSize() + cacheK.byteSize() + cacheV.byteSize() + storeBytes(true)
                + (deviceTables == null ? 0 : deviceTables.bytes() + listBytes());
    }

    /** Bytes of the store of cluster-ordered keys and values where it lives ({@code onDevice}), else 0. */
    public long storeBytes(boolean onDevice) {
        return onDevice != storeOnDevice ? 0
                : listK.byteSize() + listV.byteSize() + (scalesK == null ? 0 : scalesK.byteSize() + scalesV.byteSize());
    }

    /** Mapped host bytes: the store where it is on the host, the steady lengths and the unit lists where the host writes them. */
    public long hostBytes() {
        return storeBytes(false) + (ownsSteadyLengths ? steadyLengths.byteSize() : 0) + (deviceTables == null ? listBytes() : 0);
    }

    /** Bytes of the unit and admission lists. */
    private long listBytes() {
        long total = 0;
        for (I32Array a : new I32Array[] {missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                hitCounts, admitOffsets, admitSizes, admitBlocks, admitCounts}) {
            total += a.byteSize();
        }
        return total;
    }

    /**
     * Accessed clusters found cached and clusters accessed, over every group and access so far (tables on the device:
     * one download, which waits for the device).
     */
    public long[] hitCounts() {
        if (!cached) {
            return new long[2];
        }
        if (deviceTables != null) {
            return deviceTables.hitCounts();
        }
        long hits = 0, accessed = 0;
        for (ClusterMappingTable t : tables) {
            hits += t.hits();
            accessed += t.accessed();
        }
        return new long[] {hits, accessed};
    }

    /** Clusters found cached over clusters accessed ({@link #hitCounts}; 0 before any access). */
    public double hitRatio() {
        long[] counts = hitCounts();
        return counts[1] == 0 ? 0 : (double) counts[0] / counts[1];
    }

    @Override
    public void close() {
        if (update != null) {
            update.exceptionally(e -> 0L).join(); // it writes the admission arrays freed below
        }
        if (ownsExec) {
            exec.free(device);
        }
        if (ownsSteadyLengths) {
            device.free(steadyLengths);
        }
        for (I32Array a : new I32Array[] {listK, listV, steadyK, steadyV, cacheK, cacheV, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, admitOffsets, admitSizes,
                admitBlocks, admitCounts}) {
            device.free(a);
        }
        if (scalesK != null) {
            device.free(scalesK);
            device.free(scalesV);
        }
        if (deviceTables != null) {
            deviceTables.close();
        }
    }
}
