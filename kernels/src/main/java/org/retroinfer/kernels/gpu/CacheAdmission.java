package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;

import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Admits the retrieval zone's misses into the GPU block cache (spec §3.2-3.4, {@code gather_copy_and_scatter}):
 * after {@link ExecutionBufferGather} brought them from host memory into the execution buffer, the buffer
 * manager's LRU update names, per admitted block, where it sits in the buffer's miss region and which cache
 * block receives it; this copies GPU to GPU, so admission never reads host memory a second time.
 *
 * <p>Layouts as {@link ExecutionBufferGather}'s. A group's admissions sit at
 * {@code [group·maxUnits, group·maxUnits + counts[group])}: the offset of the block's first vector in the
 * miss region (which starts after the group's {@code steadyLengths[group]} steady vectors), its size in
 * [1, 8], and the target cache block.
 */
public final class CacheAdmission {
    /** Blocks per group, each warp copying one admitted block at a time. */
    public static final int BLOCKS_PER_GROUP = 4;
    public static final int THREADS = 128;
    private static final int WARPS = THREADS / KernelContext.WARP_SIZE;

    private CacheAdmission() {}

    /** The launch grid for {@code groups} groups. */
    public static Grid grid(int groups) {
        return Grid.of(Math.multiplyExact(groups, BLOCKS_PER_GROUP), THREADS);
    }

    /** Copies each admitted block from the execution buffer to its cache block. Launch on {@link #grid}. */
    @Kernel
    public static void admit(KernelContext ctx, I32Array execK, I32Array execV, int execStride, I32Array steadyLengths,
            I32Array sourceOffsets, I32Array sizes, I32Array targetBlocks, I32Array counts, int maxUnits, I32Array cacheK,
            I32Array cacheV, int cacheBlocks) {
        int group = ctx.groupIdx / BLOCKS_PER_GROUP;
        int warp = (ctx.groupIdx - group * BLOCKS_PER_GROUP) * WARPS + ctx.warpId;
        long missRegion = (long) group * execStride + steadyLengths.get(group);
        long units = (long) group * maxUnits;
        int count = counts.get(group);
        int stride = BLOCKS_PER_GROUP * WARPS;
        // The lists sit in pinned host memory (the CPU's LRU update writes them): one read per lane for the
        // warp's next 32 blocks, walked by shuffles, instead of three PCIe round trips per block.
        for (int first = warp; first < count; first += stride * KernelContext.WARP_SIZE) {
            int i = first + ctx.laneId * stride;
            int source = 0;
            int target = 0;
            int rows = 0;
            if (i < count) {
                source = sourceOffsets.get(units + i);
                target = targetBlocks.get(units + i) * CHUNK;
                rows = sizes.get(units + i);
            }
            for (int j = 0; j < KernelContext.WARP_SIZE && first + j * stride < count; j++) {
                VectorChunks.copy(ctx, execK, execV, missRegion + ctx.shuffleIdx(source, j), cacheK, cacheV,
                        (long) group * cacheBlocks * CHUNK + ctx.shuffleIdx(target, j), ctx.shuffleIdx(rows, j));
            }
        }
    }
}
