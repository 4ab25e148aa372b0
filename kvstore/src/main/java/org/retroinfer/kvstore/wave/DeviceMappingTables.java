package org.retroinfer.kvstore.wave;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.ClusterLookup;

/**
 * One layer's cluster mapping tables, one per group, in device memory ({@link ClusterLookup}'s layout): the same
 * lookups and LRU updates as the host's {@link ClusterMappingTable}s, made by two launches, so that a decode layer can go
 * from its selection to its gather without the host. The host only adds clusters (when an index is built or grows) and
 * clears a group (a slot's next sequence).
 *
 * <p>Not thread-safe; the device orders the launches.
 */
public final class DeviceMappingTables implements AutoCloseable {
    private static final KernelMethod LOOK_UP = KernelMethod.of(ClusterLookup.class, "lookUp");
    private static final KernelMethod LOOK_UP_LONG = KernelMethod.of(ClusterLookup.class, "lookUpLong");
    private static final KernelMethod UPDATE = KernelMethod.of(ClusterLookup.class, "update");

    private final Device device;
    private final int groups, clusterStride, cacheBlocks, maxUnits, rankedStride, freeWords;
    private final I32Array starts, sizes, firstBlock, nextBlock, newer, older, ends, free, freeCount;
    private final I32Array ranked, hitClusters, missClusters, missClusterOffsets, accessCounts, stats;

    /**
     * @param clusterStride the most clusters a group's table holds
     * @param cacheBlocks   cache blocks of 8 vectors per group
     * @param maxUnits      blocks one lookup gathers per group at most
     * @param rankedStride  the most clusters one lookup of a group looks up
     */
    public DeviceMappingTables(Device device, int groups, int clusterStride, int cacheBlocks, int maxUnits, int rankedStride) {
        if (groups < 1 || clusterStride < 1 || cacheBlocks < 0 || maxUnits < 1 || rankedStride < 1) {
            throw new IllegalArgumentException("mapping tables need groups, clusters, units and ranks of at least 1 and blocks of"
                    + " at least 0, got " + groups + ", " + clusterStride + ", " + maxUnits + ", " + rankedStride + " and "
                    + cacheBlocks);
        }
        this.device = device;
        this.groups = groups;
        this.clusterStride = clusterStride;
        this.cacheBlocks = cacheBlocks;
        this.maxUnits = maxUnits;
        this.rankedStride = rankedStride;
        this.freeWords = Math.max(1, (cacheBlocks + 31) / 32);
        long clusters = (long) groups * clusterStride;
        starts = device.i32(clusters);
        sizes = device.i32(clusters);
        firstBlock = device.i32(clusters);
        newer = device.i32(clusters);
        older = device.i32(clusters);
        nextBlock = device.i32(Math.max(1, (long) groups * cacheBlocks));
        ends = device.i32(2L * groups);
        free = device.i32((long) groups * freeWords);
        freeCount = device.i32(groups);
        long ranks = (long) groups * rankedStride;
        ranked = device.i32(ranks);
        hitClusters = device.i32(ranks);
        missClusters = device.i32(ranks);
        missClusterOffsets = device.i32(ranks);
        accessCounts = device.i32(2L * groups);
        stats = device.i32(2L * groups);
        device.fill(stats, (byte) 0);
        for (int g = 0; g < groups; g++) {
            clear(g);
        }
    }

    /** Forgets group {@code g}'s clusters and frees its blocks (a slot's next sequence starts afresh); its counts go on. */
    public void clear(int group) {
        checkGroup(group);
        int[] none = new int[clusterStride];
        Arrays.fill(none, ClusterLookup.NONE);
        upload(none, firstBlock, (long) group * clusterStride);
        upload(new int[] {ClusterLookup.NONE, ClusterLookup.NONE}, ends, 2L * group);
        int[] words = new int[freeWords];
        for (int b = 0; b < cacheBlocks; b++) {
            words[b / 32] |= 1 << (b % 32);
        }
        upload(words, free, (long) group * freeWords);
        upload(new int[] {cacheBlocks}, freeCount, group);
    }

    /**
     * Sets clusters {@code first, first + 1, ...} of group {@code g}: their first vectors in the group's store and their
     * sizes, none of them cached (clusters are added in id order, as the host's tables add them).
     */
    public void addClusters(int group, int first, int[] clusterStarts, int[] clusterSizes) {
        checkGroup(group);
        int n = clusterStarts.length;
        if (clusterSizes.length != n || first < 0 || first + n > clusterStride) {
            throw new IllegalArgumentException(n + " starts and " + clusterSizes.length + " sizes from cluster " + first
                    + " do not fit a table of " + clusterStride + " clusters");
        }
        long at = (long) group * clusterStride + first;
        upload(clusterStarts, starts, at);
        upload(clusterSizes, sizes, at);
    }

    /**
     * Enqueues the lookups of each group's first {@code idCounts[g]} ids of {@code ids} ({@code [groups][idsStride]}) into
     * the gather's unit lists ({@code [groups][maxUnits]}, counts by group), as {@link ClusterMappingTable#accessInto}
     * writes them for the ids in ascending order.
     */
    public void lookUp(I32Array ids, int idsStride, I32Array idCounts, I32Array missStarts, I32Array missSizes,
            I32Array missOffsets, I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets,
            I32Array hitCounts) {
        device.launch(ClusterLookup.longZones(clusterStride, rankedStride) ? LOOK_UP_LONG : LOOK_UP, ClusterLookup.lookUpGrid(groups),
                ids, idsStride, idCounts, starts, sizes, firstBlock, nextBlock,
                clusterStride, cacheBlocks, maxUnits, ranked, rankedStride, missStarts, missSizes, missOffsets, missCounts,
                hitBlocks, hitSizes, hitOffsets, hitCounts, hitClusters, missClusters, missClusterOffsets, accessCounts, stats);
    }

    /**
     * Enqueues the LRU updates after the last {@link #lookUp} and writes the admission copies ({@code [groups][maxUnits]},
     * counts by group), as {@link ClusterMappingTable#updateInto} does.
     */
    public void update(I32Array admitOffsets, I32Array admitSizes, I32Array admitBlocks, I32Array admitCounts) {
        device.launch(UPDATE, ClusterLookup.updateGrid(groups), groups, sizes, firstBlock, nextBlock, newer, older, ends, free,
                freeCount, clusterStride, cacheBlocks, freeWords, hitClusters, missClusters, missClusterOffsets, accessCounts,
                rankedStride, maxUnits, admitOffsets, admitSizes, admitBlocks, admitCounts);
    }

    /** Clusters found cached and clusters looked up so far, over every group (waits for the device). */
    public long[] hitCounts() {
        int[] counts = download(stats, 0, 2 * groups);
        long[] sum = new long[2];
        for (int g = 0; g < groups; g++) {
            sum[0] += counts[2 * g];
            sum[1] += counts[2 * g + 1];
        }
        return sum;
    }

    /** Group {@code g}'s cached clusters, least recently used first (waits for the device). */
    public int[] recency(int group) {
        checkGroup(group);
        int[] newerOf = download(newer, (long) group * clusterStride, clusterStride);
        List<Integer> order = new ArrayList<>();
        for (int id = download(ends, 2L * group + 1, 1)[0]; id != ClusterLookup.NONE; id = newerOf[id]) {
            order.add(id);
        }
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The cache blocks of group {@code g}'s cluster {@code id}, or an empty array (waits for the device). */
    public int[] blocks(int group, int id) {
        checkGroup(group);
        int[] next = download(nextBlock, (long) group * cacheBlocks, cacheBlocks);
        List<Integer> chain = new ArrayList<>();
        for (int b = download(firstBlock, (long) group * clusterStride + id, 1)[0]; b >= 0; b = next[b]) {
            chain.add(b);
        }
        return chain.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Group {@code g}'s free cache blocks (waits for the device). */
    public int freeBlocks(int group) {
        checkGroup(group);
        return download(freeCount, group, 1)[0];
    }

    /** Device bytes of the tables and their scratch. */
    public long bytes() {
        long total = 0;
        for (I32Array a : arrays()) {
            total += a.byteSize();
        }
        return total;
    }

    private I32Array[] arrays() {
        return new I32Array[] {starts, sizes, firstBlock, nextBlock, newer, older, ends, free, freeCount, ranked, hitClusters,
                missClusters, missClusterOffsets, accessCounts, stats};
    }

    /** Device bytes of one group's tables and scratch, for tables of the given sizes. */
    public static long bytesPerGroup(int clusterStride, int cacheBlocks, int rankedStride) {
        return 4L * (5L * clusterStride + cacheBlocks + (cacheBlocks + 31) / 32 + 4L * rankedStride + 7);
    }

    private void checkGroup(int group) {
        if (group < 0 || group >= groups) {
            throw new IllegalArgumentException("group " + group + " is not one of " + groups);
        }
    }

    private void upload(int[] values, I32Array to, long at) {
        device.upload(MemorySegment.ofArray(values), to.slice(at, values.length));
    }

    private int[] download(I32Array from, long at, int n) {
        int[] values = new int[n];
        if (n > 0) {
            device.download(from.slice(at, n), MemorySegment.ofArray(values));
        }
        return values;
    }

    @Override
    public void close() {
        for (I32Array a : arrays()) {
            device.free(a);
        }
    }
}
