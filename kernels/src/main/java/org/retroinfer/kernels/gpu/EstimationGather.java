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
 * {@code [groups][idsStride]} with {@code counts[group]} of them; outputs {@code [groups][esStride]}. Each
 * half-warp copies one cluster's centroid and value sum (256 bytes each).
 */
public final class EstimationGather {
    public static final int BLOCKS_PER_GROUP = 8;
    public static final int THREADS = 128;
    /** Clusters copied at once by one block: one per half-warp. */
    private static final int PER_BLOCK = THREADS / 16;

    private EstimationGather() {}

    /** The launch grid for {@code groups} groups. */
    public static Grid grid(int groups) {
        return Grid.of(Math.multiplyExact(groups, BLOCKS_PER_GROUP), THREADS);
    }

    /** Copies each group's estimation clusters. Launch on {@link #grid}. */
    @Kernel
    public static void gather(KernelContext ctx, I32Array centroids, I32Array valueSums, F32Array sizes, int clusterStride,
            I32Array clusterIds, I32Array counts, int idsStride, I32Array esCentroids, I32Array esValueSums, F32Array esSizes,
            int esStride) {
        int group = ctx.groupIdx / BLOCKS_PER_GROUP;
        int first = (ctx.groupIdx - group * BLOCKS_PER_GROUP) * PER_BLOCK + ctx.localIdx / 16;
        long part = (ctx.localIdx % 16) * 4L;
        for (int i = first; i < counts.get(group); i += BLOCKS_PER_GROUP * PER_BLOCK) {
            long cluster = (long) group * clusterStride + clusterIds.get((long) group * idsStride + i);
            long target = (long) group * esStride + i;
            Int4 c = centroids.getInt4(cluster * INTS + part);
            Int4 v = valueSums.getInt4(cluster * INTS + part);
            esCentroids.setInt4(target * INTS + part, c);
            esValueSums.setInt4(target * INTS + part, v);
            if (part == 0) {
                esSizes.set(target, sizes.get(cluster));
            }
        }
    }
}
