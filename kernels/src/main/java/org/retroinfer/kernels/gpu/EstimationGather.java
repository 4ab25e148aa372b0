package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Gathers the estimation zone's clusters (spec §3.3-3.4, {@code gather_copy_vectors}): their centroids,
 * value sums and sizes, chosen by cluster id from the GPU-resident meta index, into contiguous per-group
 * buffers that {@link SplitKvDecode}'s weighted kernels read as keys, values and key weights, which gives
 * the zone's {@code (out_E, lse_E)}.
 *
 * <p>Layouts: centroids and value sums {@code [groups][clusterStride]} vectors of 128 16-bit values (viewed
 * as ints, {@link VectorChunks}), sizes F32 {@code [groups][clusterStride]}; cluster ids
 * {@code [groups][idsStride]} with {@code counts[group]} of them; outputs {@code [groups][esStride]}. A
 * half-warp copies a cluster's centroid and value sum (256 bytes each), four clusters at a time.
 */
public final class EstimationGather {
    public static final int BLOCKS_PER_GROUP = 8;
    public static final int THREADS = 128;
    /** Clusters copied at once by one block: one per half-warp. */
    private static final int PER_BLOCK = THREADS / 16;
    /** Clusters a round of the group's blocks covers, and the rounds a half-warp takes at once. */
    private static final int ROUND = BLOCKS_PER_GROUP * PER_BLOCK;
    private static final int ROUNDS = 4;

    private EstimationGather() {}

    /** The launch grid for {@code groups} groups. */
    public static Grid grid(int groups) {
        return Grid.of(Math.multiplyExact(groups, BLOCKS_PER_GROUP), THREADS);
    }

    /**
     * Copies each group's estimation clusters. Launch on {@link #grid}. A half-warp takes four clusters at a time, a
     * round apart, and issues all their loads (ids, then centroids and value sums) before its first store: a lane then
     * has 128 bytes in flight instead of 32, which the H100 needs to stream a zone at more than half its bandwidth (a
     * 128K layer's zone for seven sequences took 74.5 µs copied one cluster at a time, ncu, docs/results/gpu-retro).
     */
    @Kernel
    public static void gather(KernelContext ctx, I32Array centroids, I32Array valueSums, F32Array sizes, int clusterStride,
            I32Array clusterIds, I32Array counts, int idsStride, I32Array esCentroids, I32Array esValueSums, F32Array esSizes,
            int esStride) {
        int group = ctx.groupIdx / BLOCKS_PER_GROUP;
        int first = (ctx.groupIdx - group * BLOCKS_PER_GROUP) * PER_BLOCK + ctx.localIdx / 16;
        long part = (ctx.localIdx % 16) * 4L;
        int count = counts.get(group);
        long ids = (long) group * idsStride, clusters = (long) group * clusterStride, targets = (long) group * esStride;
        for (int i0 = first; i0 < count; i0 += ROUNDS * ROUND) {
            // clusters past the count load the round's first one again (in bounds) and are not stored
            int i1 = i0 + ROUND, i2 = i0 + 2 * ROUND, i3 = i0 + 3 * ROUND;
            int id0 = clusterIds.get(ids + i0);
            int id1 = i1 < count ? clusterIds.get(ids + i1) : id0;
            int id2 = i2 < count ? clusterIds.get(ids + i2) : id0;
            int id3 = i3 < count ? clusterIds.get(ids + i3) : id0;
            long c0 = (clusters + id0) * INTS + part, c1 = (clusters + id1) * INTS + part;
            long c2 = (clusters + id2) * INTS + part, c3 = (clusters + id3) * INTS + part;
            Int4 k0 = centroids.getInt4(c0), k1 = centroids.getInt4(c1), k2 = centroids.getInt4(c2), k3 = centroids.getInt4(c3);
            Int4 v0 = valueSums.getInt4(c0), v1 = valueSums.getInt4(c1), v2 = valueSums.getInt4(c2), v3 = valueSums.getInt4(c3);
            store(esCentroids, esValueSums, esSizes, sizes, targets + i0, clusters + id0, part, k0, v0);
            if (i1 < count) {
                store(esCentroids, esValueSums, esSizes, sizes, targets + i1, clusters + id1, part, k1, v1);
            }
            if (i2 < count) {
                store(esCentroids, esValueSums, esSizes, sizes, targets + i2, clusters + id2, part, k2, v2);
            }
            if (i3 < count) {
                store(esCentroids, esValueSums, esSizes, sizes, targets + i3, clusters + id3, part, k3, v3);
            }
        }
    }

    /** One lane's part of a cluster's copy; the lane with the vectors' first ints copies the size too. */
    private static void store(I32Array esCentroids, I32Array esValueSums, F32Array esSizes, F32Array sizes, long target,
            long cluster, long part, Int4 centroid, Int4 valueSum) {
        esCentroids.setInt4(target * INTS + part, centroid);
        esValueSums.setInt4(target * INTS + part, valueSum);
        if (part == 0) {
            esSizes.set(target, sizes.get(cluster));
        }
    }
}
