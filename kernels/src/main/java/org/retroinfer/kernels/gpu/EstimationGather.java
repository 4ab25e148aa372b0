package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Gathers the estimation zone's clusters (spec §3.3-3.4, {@code gather_copy_vectors}): their centroids,
 * value sums and sizes, chosen by cluster id from the GPU-resident meta index, into contiguous per-group
 * buffers that {@link SplitKvDecode}'s weighted kernels read as keys, values and key weights, which gives
 * the zone's {@code (out_E, lse_E)}.
 *
 * <p>Layouts: centroids F32 {@code [groups][clusterStride][128]} (the meta index keeps them in F32 for scoring, as
 * the CPU index does, and only that copy: they are rounded to the 16-bit storage type here, on the way into the zone's
 * buffer, rather than kept twice); value sums {@code [groups][clusterStride]} vectors of 128 16-bit values (viewed as
 * ints, {@link VectorChunks}), sizes F32 {@code [groups][clusterStride]}; cluster ids {@code [groups][idsStride]} with
 * {@code counts[group]} of them; outputs {@code [groups][esStride]}, centroids as 16-bit vectors like the value sums.
 * A half-warp copies a cluster's centroid (512 bytes read, 256 written) and value sum (256 bytes), four clusters at a
 * time.
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
     * Copies each group's estimation clusters, the centroids rounded to BF16 (nearest even). Launch on {@link #grid}. A
     * half-warp takes four clusters at a time, a round apart, and issues all their loads (ids, then centroids and value
     * sums) before its first store: a lane then has 192 bytes in flight instead of 48, which the H100 needs to stream a
     * zone at more than half its bandwidth (a 128K layer's zone for seven sequences took 74.5 µs copied one cluster at a
     * time, ncu, docs/results/gpu-retro).
     */
    @Kernel
    public static void gatherBf16(KernelContext ctx, F32Array centroids, I32Array valueSums, F32Array sizes, int clusterStride,
            I32Array clusterIds, I32Array counts, int idsStride, I32Array esCentroids, I32Array esValueSums, F32Array esSizes,
            int esStride) {
        gather(ctx, centroids, valueSums, sizes, clusterStride, clusterIds, counts, idsStride, esCentroids, esValueSums, esSizes,
                esStride, true);
    }

    /** {@link #gatherBf16} with the centroids rounded to F16. Launch on {@link #grid}. */
    @Kernel
    public static void gatherF16(KernelContext ctx, F32Array centroids, I32Array valueSums, F32Array sizes, int clusterStride,
            I32Array clusterIds, I32Array counts, int idsStride, I32Array esCentroids, I32Array esValueSums, F32Array esSizes,
            int esStride) {
        gather(ctx, centroids, valueSums, sizes, clusterStride, clusterIds, counts, idsStride, esCentroids, esValueSums, esSizes,
                esStride, false);
    }

    private static void gather(KernelContext ctx, F32Array centroids, I32Array valueSums, F32Array sizes, int clusterStride,
            I32Array clusterIds, I32Array counts, int idsStride, I32Array esCentroids, I32Array esValueSums, F32Array esSizes,
            int esStride, boolean bf16) {
        int group = ctx.groupIdx / BLOCKS_PER_GROUP;
        int first = (ctx.groupIdx - group * BLOCKS_PER_GROUP) * PER_BLOCK + ctx.localIdx / 16;
        // lane l of the half-warp: elements 8l .. 8l + 7, ints 4l .. 4l + 3 of a 16-bit vector
        long lane = ctx.localIdx % 16;
        long part = lane * 4, elements = lane * 8;
        int count = counts.get(group);
        long ids = (long) group * idsStride, clusters = (long) group * clusterStride, targets = (long) group * esStride;
        for (int i0 = first; i0 < count; i0 += ROUNDS * ROUND) {
            // clusters past the count load the round's first one again (in bounds) and are not stored
            int i1 = i0 + ROUND, i2 = i0 + 2 * ROUND, i3 = i0 + 3 * ROUND;
            int id0 = clusterIds.get(ids + i0);
            int id1 = i1 < count ? clusterIds.get(ids + i1) : id0;
            int id2 = i2 < count ? clusterIds.get(ids + i2) : id0;
            int id3 = i3 < count ? clusterIds.get(ids + i3) : id0;
            long f0 = (clusters + id0) * HEAD_DIM + elements, f1 = (clusters + id1) * HEAD_DIM + elements;
            long f2 = (clusters + id2) * HEAD_DIM + elements, f3 = (clusters + id3) * HEAD_DIM + elements;
            Float4 a0 = centroids.getFloat4(f0), b0 = centroids.getFloat4(f0 + 4), a1 = centroids.getFloat4(f1),
                    b1 = centroids.getFloat4(f1 + 4);
            Float4 a2 = centroids.getFloat4(f2), b2 = centroids.getFloat4(f2 + 4), a3 = centroids.getFloat4(f3),
                    b3 = centroids.getFloat4(f3 + 4);
            long c0 = (clusters + id0) * INTS + part, c1 = (clusters + id1) * INTS + part;
            long c2 = (clusters + id2) * INTS + part, c3 = (clusters + id3) * INTS + part;
            Int4 v0 = valueSums.getInt4(c0), v1 = valueSums.getInt4(c1), v2 = valueSums.getInt4(c2), v3 = valueSums.getInt4(c3);
            store(esCentroids, esValueSums, esSizes, sizes, targets + i0, clusters + id0, part, half(a0, b0, bf16), v0);
            if (i1 < count) {
                store(esCentroids, esValueSums, esSizes, sizes, targets + i1, clusters + id1, part, half(a1, b1, bf16), v1);
            }
            if (i2 < count) {
                store(esCentroids, esValueSums, esSizes, sizes, targets + i2, clusters + id2, part, half(a2, b2, bf16), v2);
            }
            if (i3 < count) {
                store(esCentroids, esValueSums, esSizes, sizes, targets + i3, clusters + id3, part, half(a3, b3, bf16), v3);
            }
        }
    }

    /** Eight F32 values rounded to 16 bits (nearest even) and packed two an int, low half first. */
    private static Int4 half(Float4 a, Float4 b, boolean bf16) {
        return new Int4(pair(a.x(), a.y(), bf16), pair(a.z(), a.w(), bf16), pair(b.x(), b.y(), bf16), pair(b.z(), b.w(), bf16));
    }

    private static int pair(float low, float high, boolean bf16) {
        return bf16 ? (KMath.floatToBf16(low) & 0xFFFF) | KMath.floatToBf16(high) << 16
                : (KMath.floatToF16(low) & 0xFFFF) | KMath.floatToF16(high) << 16;
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
