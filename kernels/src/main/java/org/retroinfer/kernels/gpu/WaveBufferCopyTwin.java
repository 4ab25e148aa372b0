package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;
import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

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
        assemble(groups, steadyK, steadyV, steadyLengths, steadyStride, cacheK, cacheV, cacheBlocks, missStarts, missSizes,
                missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, maxUnits, execK, execV, execStride,
                validLengths, (g, row, target, rows) -> copy(listK, listV, (long) g * listStride + row, execK, execV, target, rows));
    }

    /**
     * {@link ExecutionBufferGather#gatherInt8Bf16} ({@code storage} BF16) or {@link ExecutionBufferGather#gatherInt8F16}
     * ({@code storage} F16) for {@code groups} groups, or their INT4 forms where {@code int4}: misses dequantised from the
     * quantised list, as {@link Int8Vectors} and {@link Int4Vectors} define them, and rounded to {@code storage}.
     */
    public static void gatherQuantised(boolean int4, DType storage, int groups, I32Array steadyK, I32Array steadyV,
            I32Array steadyLengths, int steadyStride, I32Array listK, I32Array listV, I32Array listScalesK, I32Array listScalesV,
            int listStride, I32Array cacheK, I32Array cacheV, int cacheBlocks, I32Array missStarts, I32Array missSizes,
            I32Array missOffsets, I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets,
            I32Array hitCounts, int maxUnits, I32Array execK, I32Array execV, int execStride, I32Array validLengths) {
        assemble(groups, steadyK, steadyV, steadyLengths, steadyStride, cacheK, cacheV, cacheBlocks, missStarts, missSizes,
                missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, maxUnits, execK, execV, execStride,
                validLengths, (g, row, target, rows) -> {
                    long from = (long) g * listStride + row;
                    dequantise(int4, storage, listK, listScalesK, from, execK, target, rows);
                    dequantise(int4, storage, listV, listScalesV, from, execV, target, rows);
                });
    }

    /** Copies {@code rows} vectors from row {@code row} of group {@code g}'s host list to buffer row {@code target}. */
    private interface MissCopy {
        void copy(int g, long row, long target, int rows);
    }

    private static void assemble(int groups, I32Array steadyK, I32Array steadyV, I32Array steadyLengths, int steadyStride,
            I32Array cacheK, I32Array cacheV, int cacheBlocks, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits,
            I32Array execK, I32Array execV, int execStride, I32Array validLengths, MissCopy misses) {
        for (int g = 0; g < groups; g++) {
            long exec = (long) g * execStride;
            int steady = steadyLengths.get(g);
            copy(steadyK, steadyV, (long) g * steadyStride, execK, execV, exec, steady);
            int at = steady;
            for (int i = 0; i < missCounts.get(g); i++) {
                long u = (long) g * maxUnits + i;
                misses.copy(g, missStarts.get(u), exec + steady + missOffsets.get(u), missSizes.get(u));
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

    /** Dequantises {@code rows} INT8 or INT4 vectors from row {@code srcRow} into 16-bit vectors from row {@code dstRow}. */
    private static void dequantise(boolean int4, DType storage, I32Array src, I32Array scales, long srcRow, I32Array dst,
            long dstRow, int rows) {
        for (long r = 0; r < rows; r++) {
            for (int j = 0; j < HEAD_DIM; j += 2) {
                int low = Half.fromFloat(storage, value(int4, src, scales, srcRow + r, j)) & 0xFFFF;
                int high = Half.fromFloat(storage, value(int4, src, scales, srcRow + r, j + 1));
                dst.set((dstRow + r) * INTS + j / 2, low | high << 16);
            }
        }
    }

    /** Element {@code j} of quantised vector {@code vector}, dequantised to F32. */
    private static float value(boolean int4, I32Array src, I32Array scales, long vector, int j) {
        return int4 ? Int4Vectors.dequantise(Int4Vectors.get(src, vector, j), Int4Vectors.scale(scales, vector, j))
                : Int8Vectors.dequantise(Int8Vectors.get(src, vector, j), Int8Vectors.scale(scales, vector));
    }

    private static void copy(I32Array srcK, I32Array srcV, long srcRow, I32Array dstK, I32Array dstV, long dstRow, int rows) {
        for (long i = 0; i < (long) rows * INTS; i++) {
            dstK.set(dstRow * INTS + i, srcK.get(srcRow * INTS + i));
            dstV.set(dstRow * INTS + i, srcV.get(srcRow * INTS + i));
        }
    }
}
