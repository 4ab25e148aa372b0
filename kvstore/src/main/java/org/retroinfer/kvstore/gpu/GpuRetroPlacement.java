package org.retroinfer.kvstore.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.kernels.gpu.Int8Centroids;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.gpu.GpuRetroKvCache.Lookups;
import org.retroinfer.kvstore.retro.ClusterSizing;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.ZoneBudget;
import org.retroinfer.kvstore.wave.ClusterMappingTable;
import org.retroinfer.kvstore.wave.DeviceMappingTables;
import org.retroinfer.kvstore.wave.StoreFormat;
import org.retroinfer.kvstore.wave.WaveBuffer;

/**
 * The memory arithmetic of a {@link GpuRetroKvCache}: its fixed sizes per (sequence, KV head) group, the GPU and host
 * bytes a sequence takes in each configuration, and how many sequences, and how many layers' stores on the GPU, fit
 * given amounts of GPU and host memory. The cache allocates by the same sizes ({@code GpuRetroKvCacheTest} pins the
 * bytes it counts against these).
 */
public final class GpuRetroPlacement {
    private GpuRetroPlacement() {}

    /**
     * The fixed sizes of a cache for sequences of {@code capacity} positions, per group: the steady zone
     * ({@code sinks + window + updateSegment}); the index's clusters (a prompt's ≈ L/16 rounded to a multiple of
     * lcm(8, S), and 64 per 1024 generated positions, so at most this many); the zone ids a selection may write; the
     * block cache (spec §3.1's default, three retrieval zones of two-block clusters at a prompt of {@code capacity},
     * ≈5% of the keys and values) and the units one assembly gathers at most ({@code max(32, 4·nprobe)·2}).
     */
    record Sizes(int steadyStride, int clusterCapacity, int maxRetrieval, int maxEstimation, int cacheBlocks, int maxUnits) {
        static Sizes of(RetroConfig config, long capacity) {
            ClusterSizing atCapacity = ClusterSizing.forPrompt(capacity, config);
            int updateClusters = ClusterSizing.forUpdate(config).clusters();
            // a multiple of four: INT8 centroids interleave blocks of four, and each group's row must start one
            int clusters = Math.toIntExact(Math.ceilDiv(capacity / config.clusterSize() + 8L * atCapacity.segments()
                    + 2L * updateClusters, Int8Centroids.BLOCK) * Int8Centroids.BLOCK);
            long maxUpdates = capacity / config.updateSegment() + 1;
            int retrieval = (int) Math.min(clusters, Math.rint(clusters * config.retrievalBudget()) + maxUpdates + 1);
            int estimation = (int) Math.min(clusters, Math.rint(clusters * config.estimationBudget())
                    + maxUpdates * Math.max(1, Math.rint(updateClusters * config.estimationBudget())) + 1);
            int nprobe = ZoneBudget.initial(atCapacity.clusters(), config).retrieval();
            return new Sizes(config.sinks() + config.window() + config.updateSegment(), clusters, retrieval, estimation,
                    3 * nprobe * 2, Math.max(32, 4 * nprobe) * 2);
        }
    }

    /**
     * Device bytes a sequence of {@code capacity} positions takes beyond the shared ones: every layer's meta index (16-bit
     * centroids and value sums, sizes), steady zone and block cache, and its share of the execution buffer and
     * the ranking's scratch.
     */
    public static long deviceBytesPerSequence(AttentionShape shape, RetroConfig config, long capacity) {
        return deviceBytesPerSequence(shape, config, capacity, TierFormats.HALF);
    }

    /**
     * {@link #deviceBytesPerSequence(AttentionShape, RetroConfig, long)} with the meta index's value sums and centroids in
     * their formats of {@code formats}.
     */
    public static long deviceBytesPerSequence(AttentionShape shape, RetroConfig config, long capacity, TierFormats formats) {
        Sizes z = Sizes.of(config, capacity);
        long vector = 2L * HEAD_DIM;
        long perGroupLayer = (long) z.clusterCapacity() * (formats.centroids().vectorBytes() + formats.valueSums().vectorBytes() + 4)
                + 2L * z.steadyStride() * vector + 2L * z.cacheBlocks() * ClusterMappingTable.BLOCK * vector;
        long perGroupShared = 2L * (z.steadyStride() + (long) ClusterMappingTable.BLOCK * z.maxUnits()) * vector
                + (long) shape.groupSize() * z.clusterCapacity() * 4 + 4L * z.clusterCapacity()
                + (long) z.maxEstimation() * (2 * vector + 4);
        return (long) shape.kvHeads() * (shape.layers() * perGroupLayer + perGroupShared);
    }

    /**
     * {@link #deviceBytesPerSequence(AttentionShape, RetroConfig, long)} with the mapping tables and unit lists on the
     * device where {@code lookups} puts them there.
     */
    public static long deviceBytesPerSequence(AttentionShape shape, RetroConfig config, long capacity, Lookups lookups) {
        return deviceBytesPerSequence(shape, config, capacity, lookups, TierFormats.HALF);
    }

    /**
     * {@link #deviceBytesPerSequence(AttentionShape, RetroConfig, long, Lookups)} with the meta index in its formats of
     * {@code formats}.
     */
    public static long deviceBytesPerSequence(AttentionShape shape, RetroConfig config, long capacity, Lookups lookups,
            TierFormats formats) {
        long bytes = deviceBytesPerSequence(shape, config, capacity, formats);
        if (lookups == Lookups.DEVICE) {
            bytes += shape.layers() * tableBytesPerLayer(shape, config, capacity);
        }
        return bytes;
    }

    /** A sequence's device bytes of one layer's mapping tables and unit lists, where its lookups run on the device. */
    static long tableBytesPerLayer(AttentionShape shape, RetroConfig config, long capacity) {
        Sizes z = Sizes.of(config, capacity);
        long perGroupLayer = DeviceMappingTables.bytesPerGroup(z.clusterCapacity(), z.cacheBlocks(), z.maxRetrieval())
                + 4L * (9L * z.maxUnits() + 3);
        return (long) shape.kvHeads() * perGroupLayer;
    }

    /** The device bytes a layer's store adds, less the block cache it does without, and its tables where they go with it. */
    private static long storeOnDeviceBytes(AttentionShape shape, RetroConfig config, long capacity, Lookups lookups,
            TierFormats formats) {
        return storeBytesPerLayer(shape, capacity, formats.device()) - cacheBytesPerLayer(shape, config, capacity)
                + (lookups == Lookups.DEVICE_STORES ? tableBytesPerLayer(shape, config, capacity) : 0);
    }

    /**
     * {@link #deviceBytesPerSequence(AttentionShape, RetroConfig, long, Lookups)} with {@code deviceStoreLayers} layers'
     * stores in GPU memory, in the GPU tier's format of {@code formats}, and the meta index in its: those layers keep
     * no block cache ({@link WaveBuffer}).
     */
    public static long deviceBytesPerSequence(AttentionShape shape, RetroConfig config, long capacity, Lookups lookups,
            int deviceStoreLayers, TierFormats formats) {
        return deviceBytesPerSequence(shape, config, capacity, lookups, formats) + deviceStoreLayers
                * storeOnDeviceBytes(shape, config, capacity, lookups, formats);
    }

    /** A sequence's device bytes of one layer's block cache, which a layer whose store is in GPU memory does without. */
    static long cacheBytesPerLayer(AttentionShape shape, RetroConfig config, long capacity) {
        Sizes z = Sizes.of(config, capacity);
        return (long) shape.kvHeads() * 2L * z.cacheBlocks() * ClusterMappingTable.BLOCK * 2L * HEAD_DIM;
    }

    /** How many sequences a cache holds and how many layers keep their store on the device. */
    public record Placement(int sequences, int deviceStoreLayers) {}

    /**
     * The most sequences (up to {@code maxSequences}; exactly that many where {@code exact}) of {@code capacity}
     * positions that fit {@code deviceBytes} of GPU memory and {@code hostBytes} of host memory, with as many layers'
     * stores on the device as fit there after every sequence's meta index, steady zone and block cache and the
     * {@code prefillSlots} dense prefill slots: the GPU tier first, the host's pinned memory for the rest. Null where not
     * even one fits.
     */
    public static Placement place(AttentionShape shape, RetroConfig config, long capacity, int prefillSlots, int maxSequences,
            boolean exact, long deviceBytes, long hostBytes) {
        return place(shape, config, capacity, prefillSlots, maxSequences, exact, deviceBytes, hostBytes, StoreFormat.HALF,
                shape.layers());
    }

    /**
     * {@link #place(AttentionShape, RetroConfig, long, int, int, boolean, long, long)} with the host tier's stores in
     * {@code hostFormat} and at most {@code maxDeviceLayers} layers' stores on the device (0: every store on the host).
     */
    public static Placement place(AttentionShape shape, RetroConfig config, long capacity, int prefillSlots, int maxSequences,
            boolean exact, long deviceBytes, long hostBytes, StoreFormat hostFormat, int maxDeviceLayers) {
        return place(shape, config, capacity, prefillSlots, maxSequences, exact, deviceBytes, hostBytes, hostFormat,
                maxDeviceLayers, Lookups.HOST);
    }

    /** {@link #place(AttentionShape, RetroConfig, long, int, int, boolean, long, long, StoreFormat, int)} for {@code lookups}. */
    public static Placement place(AttentionShape shape, RetroConfig config, long capacity, int prefillSlots, int maxSequences,
            boolean exact, long deviceBytes, long hostBytes, StoreFormat hostFormat, int maxDeviceLayers, Lookups lookups) {
        return place(shape, config, capacity, prefillSlots, maxSequences, exact, deviceBytes, hostBytes,
                TierFormats.host(hostFormat), maxDeviceLayers, lookups);
    }

    /**
     * {@link #place(AttentionShape, RetroConfig, long, int, int, boolean, long, long, StoreFormat, int, Lookups)} with
     * each tier's stores in its format of {@code formats}.
     */
    public static Placement place(AttentionShape shape, RetroConfig config, long capacity, int prefillSlots, int maxSequences,
            boolean exact, long deviceBytes, long hostBytes, TierFormats formats, int maxDeviceLayers, Lookups lookups) {
        long prefillSlot = prefillSlots * GpuKvCache.bytesPerSequence(shape, config.storage(), capacity);
        long meta = deviceBytesPerSequence(shape, config, capacity, lookups, formats);
        // a layer's store moved to the device frees its block cache there (and brings its mapping tables with DEVICE_STORES)
        long store = Math.max(1, storeOnDeviceBytes(shape, config, capacity, lookups, formats));
        long hostStore = storeBytesPerLayer(shape, capacity, formats.host());
        for (int b = maxSequences; b >= (exact ? maxSequences : 1); b--) {
            long left = deviceBytes - prefillSlot - (long) b * meta;
            if (left < 0) continue;
            int onDevice = (int) Math.min(Math.min(shape.layers(), maxDeviceLayers), left / ((long) b * store));
            if ((long) (shape.layers() - onDevice) * b * hostStore <= hostBytes) {
                return new Placement(b, onDevice);
            }
        }
        return null;
    }

    /** Bytes of one layer's store of a sequence of {@code capacity} positions: its keys and values, wherever they live. */
    public static long storeBytesPerLayer(AttentionShape shape, long capacity) {
        return storeBytesPerLayer(shape, capacity, StoreFormat.HALF);
    }

    /** {@link #storeBytesPerLayer(AttentionShape, long)} for a store in {@code format}. */
    public static long storeBytesPerLayer(AttentionShape shape, long capacity, StoreFormat format) {
        return 2L * shape.kvHeads() * capacity * format.vectorBytes();
    }
}
