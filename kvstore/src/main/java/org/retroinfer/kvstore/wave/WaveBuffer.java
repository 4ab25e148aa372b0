package org.retroinfer.kvstore.wave;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.CacheAdmission;
import org.retroinfer.kernels.gpu.ExecutionBufferGather;

/**
 * The wave buffer of one layer (spec §3.1-3.3): for each group (a sequence's KV head) its non-steady keys and values
 * in cluster order in host memory the GPU reads directly (mapped, zero-copy), a GPU block cache of whole clusters, a
 * {@link ClusterMappingTable}, and the execution buffer that exact attention reads. {@link #assemble} turns each
 * group's ranked retrieval clusters into {@code [steady zone | misses | hits]} in the execution buffer, in one gather
 * launch; {@link #admit} then runs the tables' LRU updates and copies the admitted misses into the cache. Vectors
 * are 128 16-bit values moved as 64 ints ({@code VectorChunks}), so BF16 and F16 stores are alike here.
 *
 * <p>The descriptors go through mapped host memory, as in the reference, so nothing but the two launches is enqueued;
 * the LRU update between them is host work that the caller may overlap with the attention on the GPU.
 */
public final class WaveBuffer implements AutoCloseable {
    /** Ints per vector. */
    public static final int INTS = 64;
    private static final KernelMethod GATHER = KernelMethod.of(ExecutionBufferGather.class, "gather");
    private static final KernelMethod ADMIT = KernelMethod.of(CacheAdmission.class, "admit");

    private final Device device;
    private final int groups, steadyStride, listStride, cacheBlocks, maxUnits, execStride;
    private final ClusterMappingTable[] tables;
    private final ClusterMappingTable.Access[] pending;
    private final I32Array listK, listV, steadyK, steadyV, steadyLengths, cacheK, cacheV, execK, execV, validLengths;
    private final I32Array missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts;
    private final I32Array admitOffsets, admitSizes, admitBlocks, admitCounts;

    /**
     * @param steadyStride vectors of each group's steady zone
     * @param listStride   vectors of each group's host store
     * @param cacheBlocks  cache blocks of 8 vectors per group
     * @param maxUnits     blocks one assembly gathers per group at most
     */
    public WaveBuffer(Device device, int groups, int steadyStride, int listStride, int cacheBlocks, int maxUnits) {
        this.device = device;
        this.groups = groups;
        this.steadyStride = steadyStride;
        this.listStride = listStride;
        this.cacheBlocks = cacheBlocks;
        this.maxUnits = maxUnits;
        this.execStride = steadyStride + ClusterMappingTable.BLOCK * maxUnits;
        tables = new ClusterMappingTable[groups];
        pending = new ClusterMappingTable.Access[groups];
        for (int g = 0; g < groups; g++) {
            tables[g] = new ClusterMappingTable(cacheBlocks, maxUnits);
        }
        listK = mapped((long) groups * listStride * INTS);
        listV = mapped((long) groups * listStride * INTS);
        steadyK = device.i32((long) groups * steadyStride * INTS);
        steadyV = device.i32((long) groups * steadyStride * INTS);
        steadyLengths = mapped(groups);
        cacheK = device.i32((long) groups * cacheBlocks * ClusterMappingTable.BLOCK * INTS);
        cacheV = device.i32((long) groups * cacheBlocks * ClusterMappingTable.BLOCK * INTS);
        execK = device.i32((long) groups * execStride * INTS);
        execV = device.i32((long) groups * execStride * INTS);
        validLengths = device.i32(groups);
        long units = (long) groups * maxUnits;
        missStarts = mapped(units);
        missSizes = mapped(units);
        missOffsets = mapped(units);
        missCounts = mapped(groups);
        hitBlocks = mapped(units);
        hitSizes = mapped(units);
        hitOffsets = mapped(units);
        hitCounts = mapped(groups);
        admitOffsets = mapped(units);
        admitSizes = mapped(units);
        admitBlocks = mapped(units);
        admitCounts = mapped(groups);
    }

    private I32Array mapped(long n) {
        return (I32Array) device.mapped(ElementType.I32, n);
    }

    /** The host store's keys and values ({@code [groups][listStride][64]} ints): fill them in cluster order. */
    public I32Array hostKeys() {
        return listK;
    }

    public I32Array hostValues() {
        return listV;
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
        if (vectors < 0 || vectors > steadyStride) {
            throw new IllegalArgumentException("a steady zone holds 0 to " + steadyStride + " vectors, got " + vectors);
        }
        steadyLengths.set(group, vectors);
    }

    /** Group {@code g}'s mapping table: add its clusters (their place in the host store) here. */
    public ClusterMappingTable table(int group) {
        return tables[group];
    }

    /**
     * Looks up each group's ranked clusters ({@code ranked[g]}, the first {@code counts[g]}) and enqueues the gather
     * of the execution buffer. Host work, then one launch.
     */
    public void assemble(int[][] ranked, int[] counts) {
        for (int g = 0; g < groups; g++) {
            pending[g] = tables[g].access(ranked[g], counts[g]);
            tables[g].writeAccess(pending[g], g, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                    hitCounts);
        }
        device.launch(GATHER, ExecutionBufferGather.grid(groups), steadyK, steadyV, steadyLengths, steadyStride, listK, listV,
                listStride, cacheK, cacheV, cacheBlocks, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes,
                hitOffsets, hitCounts, maxUnits, execK, execV, execStride, validLengths);
    }

    /**
     * The LRU updates of the last {@link #assemble} (host work), then the launch that copies the admitted misses from the
     * execution buffer into the cache. The attention over the buffer must be enqueued before this (it reads the buffer,
     * which this does not change).
     */
    public void admit() {
        for (int g = 0; g < groups; g++) {
            if (pending[g] == null) {
                throw new IllegalStateException("admit() needs an assemble() first");
            }
            tables[g].writeAdmission(tables[g].update(pending[g]), g, admitOffsets, admitSizes, admitBlocks, admitCounts);
            pending[g] = null;
        }
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

    /** The mean over groups of the fraction of accessed clusters found cached. */
    public double hitRatio() {
        double sum = 0;
        for (ClusterMappingTable t : tables) sum += t.hitRatio();
        return sum / groups;
    }

    @Override
    public void close() {
        for (I32Array a : new I32Array[] {listK, listV, steadyK, steadyV, steadyLengths, cacheK, cacheV, execK, execV, validLengths,
                missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, admitOffsets, admitSizes,
                admitBlocks, admitCounts}) {
            device.free(a);
        }
    }
}
