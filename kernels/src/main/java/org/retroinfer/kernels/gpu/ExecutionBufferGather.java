package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;

import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
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
 *
 * <p>{@link #gatherInt8Bf16} and {@link #gatherInt8F16} read an INT8 host list ({@link Int8Vectors}: half the
 * host memory and PCIe bytes) and dequantise the misses into the 16-bit buffer; {@link #gatherInt4Bf16} and
 * {@link #gatherInt4F16} an INT4 one ({@link Int4Vectors}: 72 bytes a vector against INT8's 132).
 */
public final class ExecutionBufferGather {
    /** Blocks per group: the spec's 16, so a group's chunks spread over several SMs. */
    public static final int BLOCKS_PER_GROUP = 16;
    public static final int THREADS = 128;
    private static final int WARPS = THREADS / KernelContext.WARP_SIZE;
    /** Where a chunk comes from. */
    private static final int STEADY = 0, MISS = 1, HIT = 2;
    /** Warps per group: a warp takes every {@code STRIDE}-th chunk of its group. */
    private static final int STRIDE = BLOCKS_PER_GROUP * WARPS;

    private ExecutionBufferGather() {}

    /** The launch grid for {@code groups} groups: {@link #BLOCKS_PER_GROUP} blocks each. */
    public static Grid grid(int groups) {
        return Grid.of(Math.multiplyExact(groups, BLOCKS_PER_GROUP), THREADS);
    }

    /**
     * At most {@code maxBlocks} blocks for {@code groups} groups, each block taking every so many of the
     * {@link #grid} blocks' work in turn: a gather bound by PCIe keeps the link busy with a fraction of the SMs, and
     * leaves the rest to work queued beside it (another micro-batch's).
     */
    public static Grid grid(int groups, int maxBlocks) {
        return Grid.of(Math.min(Math.multiplyExact(groups, BLOCKS_PER_GROUP), Math.max(1, maxBlocks)), THREADS);
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
            int execStride, I32Array validLengths, int groups) {
        for (int job = ctx.groupIdx; job < groups * BLOCKS_PER_GROUP; job += ctx.numGroupsX) {
            int group = job / BLOCKS_PER_GROUP;
            long units = (long) group * maxUnits;
            Int4 g = counts(group, units, steadyLengths, missCounts, missSizes, missOffsets, hitCounts);
            int chunks = g.w();
            long exec = (long) group * execStride;
            for (int first = firstChunk(ctx, job, group); first < chunks; first += STRIDE * KernelContext.WARP_SIZE) {
                Int4 d = chunk(first + ctx.laneId * STRIDE, g, units, missStarts, missSizes, missOffsets, hitBlocks, hitSizes,
                        hitOffsets);
                for (int j = 0; j < KernelContext.WARP_SIZE && first + j * STRIDE < chunks; j++) {
                    Int4 c = broadcast(ctx, d, j);
                    long to = exec + c.z();
                    if (c.x() == STEADY) {
                        VectorChunks.copy(ctx, steadyK, steadyV, (long) group * steadyStride + c.y(), execK, execV, to, c.w());
                    } else if (c.x() == MISS) {
                        VectorChunks.copy(ctx, listK, listV, (long) group * listStride + c.y(), execK, execV, to, c.w());
                    } else {
                        VectorChunks.copy(ctx, cacheK, cacheV, (long) group * cacheBlocks * CHUNK + c.y(), execK, execV, to,
                                c.w());
                    }
                }
            }
            countValid(ctx, job, group, g, hitSizes, hitOffsets, units, hitCounts, validLengths);
        }
    }

    /**
     * {@link #gather} from an INT8 host list ({@link Int8Vectors}) into a BF16 execution buffer: {@code listK} and
     * {@code listV} hold {@code [groups][listStride]} vectors of 32 ints, {@code listScalesK} and {@code listScalesV}
     * their {@code [groups][listStride]} scales (F32 bits); misses are dequantised and rounded to BF16 (nearest even), the
     * steady zone and hits copied as they are. Launch on {@link #grid}.
     */
    @Kernel
    public static void gatherInt8Bf16(KernelContext ctx, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array listScalesK, I32Array listScalesV, int listStride,
            I32Array cacheK, I32Array cacheV, int cacheBlocks, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits,
            I32Array execK, I32Array execV, int execStride, I32Array validLengths, int groups) {
        gatherQuantised(ctx, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, listScalesK, listScalesV, listStride,
                cacheK, cacheV, cacheBlocks, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                hitCounts, maxUnits, execK, execV, execStride, validLengths, groups, false, true);
    }

    /** {@link #gatherInt8Bf16} into an F16 execution buffer. Launch on {@link #grid}. */
    @Kernel
    public static void gatherInt8F16(KernelContext ctx, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array listScalesK, I32Array listScalesV, int listStride,
            I32Array cacheK, I32Array cacheV, int cacheBlocks, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits,
            I32Array execK, I32Array execV, int execStride, I32Array validLengths, int groups) {
        gatherQuantised(ctx, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, listScalesK, listScalesV, listStride,
                cacheK, cacheV, cacheBlocks, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                hitCounts, maxUnits, execK, execV, execStride, validLengths, groups, false, false);
    }

    /**
     * {@link #gather} from an INT4 host list ({@link Int4Vectors}) into a BF16 execution buffer: {@code listK} and
     * {@code listV} hold {@code [groups][listStride]} vectors of 16 ints, {@code listScalesK} and {@code listScalesV}
     * their {@code [groups][listStride][2]} BF16 group-scale pairs; misses are dequantised and rounded to BF16 (nearest even),
     * the steady zone and hits copied as they are. Launch on {@link #grid}.
     */
    @Kernel
    public static void gatherInt4Bf16(KernelContext ctx, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array listScalesK, I32Array listScalesV, int listStride,
            I32Array cacheK, I32Array cacheV, int cacheBlocks, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits,
            I32Array execK, I32Array execV, int execStride, I32Array validLengths, int groups) {
        gatherQuantised(ctx, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, listScalesK, listScalesV, listStride,
                cacheK, cacheV, cacheBlocks, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                hitCounts, maxUnits, execK, execV, execStride, validLengths, groups, true, true);
    }

    /** {@link #gatherInt4Bf16} into an F16 execution buffer. Launch on {@link #grid}. */
    @Kernel
    public static void gatherInt4F16(KernelContext ctx, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array listScalesK, I32Array listScalesV, int listStride,
            I32Array cacheK, I32Array cacheV, int cacheBlocks, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits,
            I32Array execK, I32Array execV, int execStride, I32Array validLengths, int groups) {
        gatherQuantised(ctx, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, listScalesK, listScalesV, listStride,
                cacheK, cacheV, cacheBlocks, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                hitCounts, maxUnits, execK, execV, execStride, validLengths, groups, true, false);
    }

    /** The INT8 ({@code int4} false) and INT4 gathers. */
    private static void gatherQuantised(KernelContext ctx, I32Array steadyK, I32Array steadyV, I32Array steadyLengths,
            int steadyStride, I32Array listK, I32Array listV, I32Array listScalesK, I32Array listScalesV, int listStride,
            I32Array cacheK, I32Array cacheV, int cacheBlocks, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, int maxUnits,
            I32Array execK, I32Array execV, int execStride, I32Array validLengths, int groups, boolean int4, boolean bf16) {
        for (int job = ctx.groupIdx; job < groups * BLOCKS_PER_GROUP; job += ctx.numGroupsX) {
            int group = job / BLOCKS_PER_GROUP;
            long units = (long) group * maxUnits;
            Int4 g = counts(group, units, steadyLengths, missCounts, missSizes, missOffsets, hitCounts);
            int chunks = g.w();
            long exec = (long) group * execStride;
            long list = (long) group * listStride;
            for (int first = firstChunk(ctx, job, group); first < chunks; first += STRIDE * KernelContext.WARP_SIZE) {
                Int4 d = chunk(first + ctx.laneId * STRIDE, g, units, missStarts, missSizes, missOffsets, hitBlocks, hitSizes,
                        hitOffsets);
                for (int j = 0; j < KernelContext.WARP_SIZE && first + j * STRIDE < chunks; j++) {
                    Int4 c = broadcast(ctx, d, j);
                    long to = exec + c.z();
                    if (c.x() == STEADY) {
                        VectorChunks.copy(ctx, steadyK, steadyV, (long) group * steadyStride + c.y(), execK, execV, to, c.w());
                    } else if (c.x() == MISS) {
                        // A quantised chunk is a fraction of a 16-bit one: the warp takes the next chunk too if it is a
                        // miss (chunks are in kind order, and a chunk past the end is a steady one of no rows), to keep
                        // more bytes in flight (4 KiB for INT8, 2 KiB for INT4).
                        Int4 c2 = broadcast(ctx, d, Math.min(j + 1, KernelContext.WARP_SIZE - 1));
                        boolean pair = j + 1 < KernelContext.WARP_SIZE && c2.x() == MISS;
                        if (int4) {
                            Int4Chunks.dequantise(ctx, listK, listV, listScalesK, listScalesV, list + c.y(), to, c.w(),
                                    list + c2.y(), exec + c2.z(), pair ? c2.w() : 0, execK, execV, bf16);
                        } else {
                            Int8Chunks.dequantise(ctx, listK, listV, listScalesK, listScalesV, list + c.y(), to, c.w(),
                                    list + c2.y(), exec + c2.z(), pair ? c2.w() : 0, execK, execV, bf16);
                        }
                        if (pair) {
                            j++;
                        }
                    } else {
                        VectorChunks.copy(ctx, cacheK, cacheV, (long) group * cacheBlocks * CHUNK + c.y(), execK, execV, to,
                                c.w());
                    }
                }
            }
            countValid(ctx, job, group, g, hitSizes, hitOffsets, units, hitCounts, validLengths);
        }
    }

    /**
     * A group's (steady vectors, misses, miss vectors, chunks): its steady zone in chunks of {@link VectorChunks#CHUNK}
     * vectors, then a chunk per miss unit and per hit unit.
     */
    private static Int4 counts(int group, long units, I32Array steadyLengths, I32Array missCounts, I32Array missSizes,
            I32Array missOffsets, I32Array hitCounts) {
        int steady = steadyLengths.get(group);
        int misses = missCounts.get(group);
        return new Int4(steady, misses, regionLength(missSizes, missOffsets, units, misses),
                (steady + CHUNK - 1) / CHUNK + misses + hitCounts.get(group));
    }

    /** The first chunk of job {@code job}'s group the calling warp copies: its place among the group's warps. */
    private static int firstChunk(KernelContext ctx, int job, int group) {
        return (job - group * BLOCKS_PER_GROUP) * WARPS + ctx.warpId;
    }

    /** Lane {@code lane}'s chunk descriptor, to every lane of the warp. */
    private static Int4 broadcast(KernelContext ctx, Int4 d, int lane) {
        return new Int4(ctx.shuffleIdx(d.x(), lane), ctx.shuffleIdx(d.y(), lane), ctx.shuffleIdx(d.z(), lane),
                ctx.shuffleIdx(d.w(), lane));
    }

    /**
     * Lane {@code laneId}'s chunk {@code c} of the group counted by {@code g} ({@link #counts}) as (kind, source row
     * within the group's store, target row within its buffer, vector count); a chunk past the end is a steady one of no
     * rows. The unit lists may sit in pinned host memory, a PCIe round trip per read: each lane reads the descriptor of
     * one of the warp's next 32 chunks, and the warp walks them by shuffles ({@link #broadcast}).
     */
    private static Int4 chunk(int c, Int4 g, long units, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets) {
        int steady = g.x(), misses = g.y(), missTotal = g.z(), chunks = g.w();
        int steadyChunks = (steady + CHUNK - 1) / CHUNK;
        if (c >= chunks) {
            return new Int4(STEADY, 0, 0, 0);
        }
        if (c >= steadyChunks + misses) {
            long u = units + c - steadyChunks - misses;
            return new Int4(HIT, hitBlocks.get(u) * CHUNK, steady + missTotal + hitOffsets.get(u), hitSizes.get(u));
        }
        if (c >= steadyChunks) {
            long u = units + c - steadyChunks;
            return new Int4(MISS, missStarts.get(u), steady + missOffsets.get(u), missSizes.get(u));
        }
        return new Int4(STEADY, c * CHUNK, c * CHUNK, Math.min(CHUNK, steady - c * CHUNK));
    }

    /** The group's first thread writes its valid length. */
    private static void countValid(KernelContext ctx, int job, int group, Int4 g, I32Array hitSizes, I32Array hitOffsets,
            long units, I32Array hitCounts, I32Array validLengths) {
        if (job == group * BLOCKS_PER_GROUP && ctx.localIdx == 0) {
            validLengths.set(group, g.x() + g.z() + regionLength(hitSizes, hitOffsets, units, hitCounts.get(group)));
        }
    }

    /** Vectors in a region: the last unit's offset plus its size (offsets are prefix sums in unit order). */
    private static int regionLength(I32Array sizes, I32Array offsets, long units, int count) {
        return count == 0 ? 0 : offsets.get(units + count - 1) + sizes.get(units + count - 1);
    }
}
