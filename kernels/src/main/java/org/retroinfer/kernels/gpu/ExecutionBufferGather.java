package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;

import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Assembles each group's execution buffer for exact attention (spec §3.3-3.4, {@code gather_copy_and_concat}):
 * {@code [steady zone | misses in rank order | hits in rank order]}, from three stores in one launch: the
 * steady zone on the GPU, the cluster-ordered K/V in pinned host memory for the retrieval zone's misses (read
 * directly over PCIe: the zero-copy path, no separate transfer), and the GPU block cache for its hits. A group
 * is one (sequence, KV head); {@link SplitKvDecode} then attends over the buffer with the group's valid length
 * (as a batch of groups with one KV head each, which is the same memory layout).
 *
 * <p>Layouts (K and V alike, vectors of 128 16-bit values viewed as ints, {@link VectorChunks}): steady
 * {@code [groups][steadyStride]}, host list {@code [groups][listStride]}, cache {@code [groups][cacheBlocks][8]},
 * execution buffer {@code [groups][execStride]}. A group's hit and miss units (the buffer manager's lists,
 * each unit one 8-token block or the last, shorter block of a cluster; the manager caps hits and misses
 * together at {@code maxUnits}, so an {@code execStride} of {@code steadyStride + 8·maxUnits} holds them) sit
 * at {@code [group·maxUnits, group·maxUnits + count)} of their arrays: a
 * miss names its first vector in the host list, a hit its cache block; each has a size in [1, 8] and an
 * offset in its region of the buffer (exclusive prefix sums of the sizes, in rank order).
 */
public final class ExecutionBufferGather {
    /** Blocks per group: the spec's 16, so a group's chunks spread over several SMs. */
    public static final int BLOCKS_PER_GROUP = 16;
    public static final int THREADS = 128;
    private static final int WARPS = THREADS / KernelContext.WARP_SIZE;
    /** Where a chunk comes from. */
    private static final int STEADY = 0, MISS = 1, HIT = 2;

    private ExecutionBufferGather() {}

    /** The launch grid for {@code groups} groups. */
    public static Grid grid(int groups) {
        return Grid.of(Math.multiplyExact(groups, BLOCKS_PER_GROUP), THREADS);
    }

    /**
     * Copies every group's steady zone, misses and hits into its execution buffer, one chunk per warp, and
     * writes the group's valid length (steady + misses + hits). Launch on {@link #grid}.
     */
    @Kernel
    public static void gather(KernelContext ctx, I32Array steadyK, I32Array steadyV, I32Array steadyLengths, int steadyStride,
            I32Array listK, I32Array listV, int listStride, I32Array cacheK, I32Array cacheV, int cacheBlocks,
            I32Array missStarts, I32Array missSizes, I32Array missOffsets, I32Array missCounts, I32Array hitBlocks,
            I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits, I32Array execK, I32Array execV,
            int execStride, I32Array validLengths) {
        int group = ctx.groupIdx / BLOCKS_PER_GROUP;
        int warp = (ctx.groupIdx - group * BLOCKS_PER_GROUP) * WARPS + ctx.warpId;
        int steady = steadyLengths.get(group);
        long units = (long) group * maxUnits;
        int misses = missCounts.get(group);
        int hits = hitCounts.get(group);
        int missTotal = regionLength(missSizes, missOffsets, units, misses);
        int steadyChunks = (steady + CHUNK - 1) / CHUNK;
        int chunks = steadyChunks + misses + hits;
        int stride = BLOCKS_PER_GROUP * WARPS;
        long exec = (long) group * execStride;
        // The unit lists may sit in pinned host memory, a PCIe round trip per read: each lane reads the
        // descriptor of one of the warp's next 32 chunks, and the warp walks them by shuffles.
        for (int first = warp; first < chunks; first += stride * KernelContext.WARP_SIZE) {
            int c = first + ctx.laneId * stride;
            int kind = STEADY; // and its source row within the group's store, target row, vector count
            int source = c * CHUNK;
            int target = c * CHUNK;
            int rows = Math.min(CHUNK, steady - c * CHUNK);
            if (c >= chunks) {
                rows = 0;
            } else if (c >= steadyChunks + misses) {
                long u = units + c - steadyChunks - misses;
                kind = HIT;
                source = hitBlocks.get(u) * CHUNK;
                target = steady + missTotal + hitOffsets.get(u);
                rows = hitSizes.get(u);
            } else if (c >= steadyChunks) {
                long u = units + c - steadyChunks;
                kind = MISS;
                source = missStarts.get(u);
                target = steady + missOffsets.get(u);
                rows = missSizes.get(u);
            }
            for (int j = 0; j < KernelContext.WARP_SIZE && first + j * stride < chunks; j++) {
                int k = ctx.shuffleIdx(kind, j);
                long from = ctx.shuffleIdx(source, j);
                long to = exec + ctx.shuffleIdx(target, j);
                int n = ctx.shuffleIdx(rows, j);
                if (k == STEADY) {
                    VectorChunks.copy(ctx, steadyK, steadyV, (long) group * steadyStride + from, execK, execV, to, n);
                } else if (k == MISS) {
                    VectorChunks.copy(ctx, listK, listV, (long) group * listStride + from, execK, execV, to, n);
                } else {
                    VectorChunks.copy(ctx, cacheK, cacheV, (long) group * cacheBlocks * CHUNK + from, execK, execV, to, n);
                }
            }
        }
        if (ctx.groupIdx == group * BLOCKS_PER_GROUP && ctx.localIdx == 0) {
            validLengths.set(group, steady + missTotal + regionLength(hitSizes, hitOffsets, units, hits));
        }
    }

    /** Vectors in a region: the last unit's offset plus its size (offsets are prefix sums in unit order). */
    private static int regionLength(I32Array sizes, I32Array offsets, long units, int count) {
        return count == 0 ? 0 : offsets.get(units + count - 1) + sizes.get(units + count - 1);
    }
}
