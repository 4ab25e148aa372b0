package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;
import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The CPU twins of the wave buffer's copy kernels ({@link ExecutionBufferGather}, {@link CacheAdmission},
 * {@link EstimationGather}): the same copies as plain loops over host arrays, one vector at a time, with the
 * kernels' arguments.
 */
public final class WaveBufferCopyTwin {
    private WaveBufferCopyTwin() {}

    /** {@link ExecutionBufferGather#gather} for {@code groups} groups. */
    public static void gather(int groups, I32Array steadyK, I32Array steadyV, I32Array steadyLengths, int steadyStride,
            I32Array listK, I32Array listV, int listStride, I32Array cacheK, I32Array cacheV, int cacheBlocks,
            I32Array missStarts, I32Array missSizes, I32Array missOffsets, I32Array missCounts, I32Array hitBlocks,
            I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits, I32Array execK, I32Array execV,
            int execStride, I32Array validLengths) {
        for (int g = 0; g < groups; g++) {
            long exec = (long) g * execStride;
            int steady = steadyLengths.get(g);
            copy(steadyK, steadyV, (long) g * steadyStride, execK, execV, exec, steady);
            int at = steady;
            for (int i = 0; i < missCounts.get(g); i++) {
                long u = (long) g * maxUnits + i;
                copy(listK, listV, (long) g * listStride + missStarts.get(u), execK, execV, exec + steady + missOffsets.get(u),
                        missSizes.get(u));
                at = Math.max(at, steady + missOffsets.get(u) + missSizes.get(u));
            }
            int hitsStart = at;
            for (int i = 0; i < hitCounts.get(g); i++) {
                long u = (long) g * maxUnits + i;
                copy(cacheK, cacheV, ((long) g * cacheBlocks + hitBlocks.get(u)) * CHUNK, execK, execV,
                        exec + hitsStart + hitOffsets.get(u), hitSizes.get(u));
                at = Math.max(at, hitsStart + hitOffsets.get(u) + hitSizes.get(u));
            }
            validLengths.set(g, at);
        }
    }

    /** {@link CacheAdmission#admit} for {@code groups} groups. */
    public static void admit(int groups, I32Array execK, I32Array execV, int execStride, I32Array steadyLengths,
            I32Array sourceOffsets, I32Array sizes, I32Array targetBlocks, I32Array counts, int maxUnits, I32Array cacheK,
            I32Array cacheV, int cacheBlocks) {
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < counts.get(g); i++) {
                long u = (long) g * maxUnits + i;
                copy(execK, execV, (long) g * execStride + steadyLengths.get(g) + sourceOffsets.get(u), cacheK, cacheV,
                        ((long) g * cacheBlocks + targetBlocks.get(u)) * CHUNK, sizes.get(u));
            }
        }
    }

    /** {@link EstimationGather#gather} for {@code groups} groups. */
    public static void gatherEstimation(int groups, I32Array centroids, I32Array valueSums, F32Array sizes, int clusterStride,
            I32Array clusterIds, I32Array counts, int idsStride, I32Array esCentroids, I32Array esValueSums, F32Array esSizes,
            int esStride) {
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < counts.get(g); i++) {
                long cluster = (long) g * clusterStride + clusterIds.get((long) g * idsStride + i);
                long target = (long) g * esStride + i;
                copy(centroids, valueSums, cluster, esCentroids, esValueSums, target, 1);
                esSizes.set(target, sizes.get(cluster));
            }
        }
    }

    private static void copy(I32Array srcK, I32Array srcV, long srcRow, I32Array dstK, I32Array dstV, long dstRow, int rows) {
        for (long i = 0; i < (long) rows * INTS; i++) {
            dstK.set(dstRow * INTS + i, srcK.get(srcRow * INTS + i));
            dstV.set(dstRow * INTS + i, srcV.get(srcRow * INTS + i));
        }
    }
}
