package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.KMeansShape.RANK_THREADS;
import static org.retroinfer.kernels.gpu.KMeansShape.SCAN_THREADS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The update step of the k-means (spec §1.2) and the index's per-cluster metadata (§1.3), without float atomics:
 * a stable counting sort of the assignment gives each cluster its members as one run, in token order
 * ({@link #rank}, {@link #tileOffsets}, {@link #clusterStarts}, {@link #scatter}), and one block per cluster then
 * sums its members' keys ({@link #means}) or values ({@link #valueSums}) dimension by dimension in token
 * order, as the CPU's {@code SphericalKMeans} and {@code IndexBuilder} do, so a sum is a pure function of the
 * assignment and matches the CPU's bit for bit on equal keys. The sort's member list is also the cluster order
 * of the index's stored keys and values ({@code ClusterBatch}), so the last iteration's list is kept.
 *
 * <p>The counting sort works on the first {@code sorted} keys (the segmented iterations leave out the tail past
 * {@code segments · perSegment}), in tiles of {@link KMeansShape#tileTokens()} keys: a key's place is its
 * cluster's start + the cluster's members in earlier tiles + its rank among the cluster's members before it in
 * its tile. Layout and grids: {@link KMeansShape}.
 *
 * <p>Several heads build at once along the grid's y dimension ({@link KMeansShape#stacked}): head h's arrays follow
 * head h − 1's, each {@code tokens} keys (or {@code clusters} clusters, or a tile-count matrix of
 * {@link KMeansShape#tiles}{@code (tokens)} rows) long; a kernel finds its head's by {@code tokens} and
 * {@code clusters}.
 */
public final class KMeansUpdate {
    private static final int WARPS = HEAD_DIM / KernelContext.WARP_SIZE;
    /** torch.nn.functional.normalize's eps: a zero mean stays zero rather than becoming NaN. */
    private static final float NORM_EPS = 1e-12f;

    private KMeansUpdate() {}

    /**
     * {@code centroids[c] = keys[ids[c]]} for {@code clusters} centroids: the positional initialisation, with the
     * ids from {@link KMeansShape#initialTokens()}. Any grid (grid-stride over the centroids' floats).
     */
    @Kernel
    public static void seedCentroids(KernelContext ctx, F32Array keys, I32Array ids, int tokens, int clusters,
            F32Array centroids) {
        long total = (long) clusters * HEAD_DIM;
        long keyBase = (long) ctx.groupIdy * tokens * HEAD_DIM;
        long centroidBase = ctx.groupIdy * total;
        for (long i = ctx.globalIdx; i < total; i += ctx.globalGroupSizeX) {
            long c = i / HEAD_DIM;
            centroids.set(centroidBase + i, keys.get(keyBase + (long) ids.get(c) * HEAD_DIM + (i - c * HEAD_DIM)));
        }
    }

    /**
     * For tile b (block b) of {@code tileTokens} keys among the first {@code sorted}: {@code ranks[t]} = members of
     * t's cluster before t in the tile, and {@code tileCounts[b][c]} = members of cluster c in the tile (0 for the
     * clusters it lacks). The block ranks 512 keys at a time by comparing each with all others of the pass in
     * shared memory; the tile's running counts live in its own row of {@code tileCounts}, which no other block
     * touches. Launch on {@link KMeansShape#rankGrid}.
     */
    @Kernel
    public static void rank(KernelContext ctx, I32Array assignment, int tokens, int sorted, int tileTokens, int clusters,
            I32Array tileCounts, I32Array ranks) {
        int[] pass = ctx.allocateIntLocalArray(RANK_THREADS);
        long keyBase = (long) ctx.groupIdy * tokens;
        long row = tileCountBase(ctx.groupIdy, tokens, tileTokens, clusters) + (long) ctx.groupIdx * clusters;
        for (int c = ctx.localIdx; c < clusters; c += RANK_THREADS) {
            tileCounts.set(row + c, 0);
        }
        int tileEnd = Math.min(sorted, ctx.groupIdx * tileTokens + tileTokens);
        for (int first = ctx.groupIdx * tileTokens; first < tileEnd; first += RANK_THREADS) {
            int t = first + ctx.localIdx;
            int cluster = t < tileEnd ? assignment.get(keyBase + t) : -1;
            pass[ctx.localIdx] = cluster;
            ctx.localBarrier(); // also orders the zeroing and the previous pass's count updates before the reads below
            int before = 0;
            boolean last = true;
            for (int j = 0; j < RANK_THREADS; j++) {
                if (pass[j] == cluster) {
                    if (j < ctx.localIdx) {
                        before++;
                    } else if (j > ctx.localIdx) {
                        last = false;
                    }
                }
            }
            int earlier = cluster >= 0 ? tileCounts.get(row + cluster) : 0;
            ctx.localBarrier(); // every read of the running counts and of the pass before any update
            if (cluster >= 0) {
                ranks.set(keyBase + t, earlier + before);
                if (last) {
                    tileCounts.set(row + cluster, earlier + before + 1);
                }
            }
        }
    }

    /**
     * Thread c turns column c of {@code tileCounts} into members of cluster c in earlier tiles (an exclusive scan
     * in tile order) and writes the total to {@code sizes[c]}. Launch on {@link KMeansShape#clusterThreadsGrid()}.
     */
    @Kernel
    public static void tileOffsets(KernelContext ctx, I32Array tileCounts, int tokens, int tileTokens, int tiles, int clusters,
            I32Array sizes) {
        int c = ctx.globalIdx;
        if (c < clusters) {
            long first = tileCountBase(ctx.groupIdy, tokens, tileTokens, clusters) + c;
            int running = 0;
            int tile = 0;
            for (; tile + 3 < tiles; tile += 4) { // four loads in flight before the stores, which could alias them
                long at = first + (long) tile * clusters;
                int n0 = tileCounts.get(at);
                int n1 = tileCounts.get(at + clusters);
                int n2 = tileCounts.get(at + 2L * clusters);
                int n3 = tileCounts.get(at + 3L * clusters);
                tileCounts.set(at, running);
                tileCounts.set(at + clusters, running + n0);
                tileCounts.set(at + 2L * clusters, running + n0 + n1);
                tileCounts.set(at + 3L * clusters, running + n0 + n1 + n2);
                running += n0 + n1 + n2 + n3;
            }
            for (; tile < tiles; tile++) {
                long at = first + (long) tile * clusters;
                int count = tileCounts.get(at);
                tileCounts.set(at, running);
                running += count;
            }
            sizes.set((long) ctx.groupIdy * clusters + c, running);
        }
    }

    /**
     * {@code starts[c]} = Σ of {@code sizes} below c (an exclusive scan), by one block of 1024 threads: each sums
     * a run of consecutive clusters, the block scans the run totals (shuffles within warps, then the 32 warp totals),
     * then each thread writes its run. Launch on one block of {@link KMeansShape#SCAN_THREADS} threads a head.
     */
    @Kernel
    public static void clusterStarts(KernelContext ctx, I32Array sizes, int clusters, I32Array starts) {
        int[] warpTotals = ctx.allocateIntLocalArray(SCAN_THREADS / KernelContext.WARP_SIZE);
        long head = (long) ctx.groupIdy * clusters;
        int run = (clusters + SCAN_THREADS - 1) / SCAN_THREADS;
        int from = Math.min(clusters, ctx.localIdx * run);
        int to = Math.min(clusters, from + run);
        int own = 0;
        for (int c = from; c < to; c++) {
            own += sizes.get(head + c);
        }
        // inclusive scan of the run totals: within each warp by shuffles, then over the warps' totals by warp 0
        int inclusive = WarpScan.inclusiveSum(ctx, own);
        if (ctx.laneId == KernelContext.WARP_SIZE - 1) {
            warpTotals[ctx.warpId] = inclusive;
        }
        ctx.localBarrier();
        if (ctx.warpId == 0) {
            warpTotals[ctx.laneId] = WarpScan.inclusiveSum(ctx, warpTotals[ctx.laneId]);
        }
        ctx.localBarrier();
        int running = inclusive - own + (ctx.warpId > 0 ? warpTotals[ctx.warpId - 1] : 0);
        for (int c = from; c < to; c++) {
            starts.set(head + c, running);
            running += sizes.get(head + c);
        }
    }

    /**
     * {@code members[starts[c] + earlier-tile members + rank] = t} for each of the first {@code sorted} keys t:
     * every cluster's members as one run in token order. Launch on {@link KMeansShape#tokenThreadsGrid}.
     */
    @Kernel
    public static void scatter(KernelContext ctx, I32Array assignment, I32Array ranks, I32Array tileCounts, I32Array starts,
            int tokens, int sorted, int tileTokens, int clusters, I32Array members) {
        int t = ctx.globalIdx;
        if (t < sorted) {
            long keyBase = (long) ctx.groupIdy * tokens;
            int cluster = assignment.get(keyBase + t);
            long tile = t / tileTokens;
            long counts = tileCountBase(ctx.groupIdy, tokens, tileTokens, clusters);
            members.set(keyBase + starts.get((long) ctx.groupIdy * clusters + cluster)
                    + tileCounts.get(counts + tile * clusters + cluster) + ranks.get(keyBase + t), t);
        }
    }

    /**
     * Each non-empty cluster's centroid becomes its members' mean key (F32 sum in token order times 1/size, as the
     * CPU), L2-normalised with eps 1e-12 when {@code normalise} is 1; an empty cluster keeps its centroid. Block c
     * serves cluster c, a thread per dimension. Launch on {@link KMeansShape#clusterBlocksGrid()}.
     */
    @Kernel
    public static void means(KernelContext ctx, F32Array keys, I32Array members, I32Array starts, I32Array sizes,
            F32Array centroids, int tokens, int clusters, int normalise) {
        float[] squares = ctx.allocateFloatLocalArray(WARPS);
        long cluster = (long) ctx.groupIdy * clusters + ctx.groupIdx;
        int size = sizes.get(cluster);
        if (size > 0) { // the same for the whole block, so its barrier below is reached by all threads or none
            long keyBase = (long) ctx.groupIdy * tokens;
            int start = starts.get(cluster);
            int d = ctx.localIdx;
            float sum = sumRows(keys, keyBase * HEAD_DIM, members, keyBase + start, size, d);
            float mean = sum * (1f / size);
            float scale = 1f;
            if (normalise != 0) {
                float warp = ctx.warpSum(mean * mean);
                if (ctx.laneId == 0) {
                    squares[ctx.warpId] = warp;
                }
                ctx.localBarrier();
                float total = 0f;
                for (int w = 0; w < WARPS; w++) {
                    total += squares[w];
                }
                scale = 1f / Math.max((float) Math.sqrt(total), NORM_EPS);
            }
            centroids.set(cluster * HEAD_DIM + d, mean * scale);
        }
    }

    /**
     * {@code valueSums[c][d]} = Σ of dimension d of cluster c's members' values, in F32 and token order (0 for an
     * empty cluster), from an F16 or BF16 cache laid out as the keys. Launch on {@link KMeansShape#clusterBlocksGrid()}.
     */
    @Kernel
    public static void valueSums(KernelContext ctx, HalfPrecisionArray values, long base, long headStride, I32Array members,
            I32Array starts, I32Array sizes, F32Array valueSums, int tokens, int clusters) {
        long cluster = (long) ctx.groupIdy * clusters + ctx.groupIdx;
        int start = starts.get(cluster);
        int size = sizes.get(cluster);
        float sum = sumRows(values, base + ctx.groupIdy * headStride, members, (long) ctx.groupIdy * tokens + start, size,
                ctx.localIdx);
        valueSums.set(cluster * HEAD_DIM + ctx.localIdx, sum);
    }

    /**
     * Adds the mean key back to every centroid (empty ones too, as the CPU's IndexBuilder), so a final centroid is
     * its members' mean original key. Any grid (grid-stride).
     */
    @Kernel
    public static void uncentre(KernelContext ctx, F32Array centroids, F32Array mean, int clusters) {
        long total = (long) clusters * HEAD_DIM;
        long head = ctx.groupIdy * total;
        long meanBase = (long) ctx.groupIdy * HEAD_DIM;
        for (long i = ctx.globalIdx; i < total; i += ctx.globalGroupSizeX) {
            centroids.set(head + i, centroids.get(head + i) + mean.get(meanBase + i % HEAD_DIM));
        }
    }

    /** The first element of head {@code head}'s tile-count matrix: each head's has tiles(tokens) rows. */
    private static long tileCountBase(int head, int tokens, int tileTokens, int clusters) {
        return (long) head * ((tokens + tileTokens - 1) / tileTokens) * clusters;
    }

    /**
     * Σ over members {@code [start, start + size)} of dimension {@code d} of their rows ({@code base + t·HEAD_DIM}),
     * added one by one in member order. A crowded cluster has thousands of members and each needs an id load and
     * then a row load, so four of each are issued before the four adds, which keep the order.
     */
    private static float sumRows(F32Array rows, long base, I32Array members, long start, int size, int d) {
        float sum = 0f;
        int m = 0;
        for (; m + 3 < size; m += 4) {
            int t0 = members.get(start + m);
            int t1 = members.get(start + m + 1);
            int t2 = members.get(start + m + 2);
            int t3 = members.get(start + m + 3);
            float x0 = rows.get(base + (long) t0 * HEAD_DIM + d);
            float x1 = rows.get(base + (long) t1 * HEAD_DIM + d);
            float x2 = rows.get(base + (long) t2 * HEAD_DIM + d);
            float x3 = rows.get(base + (long) t3 * HEAD_DIM + d);
            sum = sum + x0 + x1 + x2 + x3;
        }
        for (; m < size; m++) {
            sum += rows.get(base + (long) members.get(start + m) * HEAD_DIM + d);
        }
        return sum;
    }

    /** {@link #sumRows(F32Array, long, I32Array, long, int, int)} over a 16-bit array. */
    private static float sumRows(HalfPrecisionArray rows, long base, I32Array members, long start, int size, int d) {
        float sum = 0f;
        int m = 0;
        for (; m + 3 < size; m += 4) {
            int t0 = members.get(start + m);
            int t1 = members.get(start + m + 1);
            int t2 = members.get(start + m + 2);
            int t3 = members.get(start + m + 3);
            float x0 = rows.get(base + (long) t0 * HEAD_DIM + d);
            float x1 = rows.get(base + (long) t1 * HEAD_DIM + d);
            float x2 = rows.get(base + (long) t2 * HEAD_DIM + d);
            float x3 = rows.get(base + (long) t3 * HEAD_DIM + d);
            sum = sum + x0 + x1 + x2 + x3;
        }
        for (; m < size; m++) {
            sum += rows.get(base + (long) members.get(start + m) * HEAD_DIM + d);
        }
        return sum;
    }
}
