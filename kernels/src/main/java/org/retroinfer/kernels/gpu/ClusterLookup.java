package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The wave buffer's cluster mapping tables on the GPU: the lookup of a step's retrieval zone and the LRU update after
 * it, the same decisions as the host's {@code ClusterMappingTable} (spec §3.2) made by kernels, so that a decode
 * layer needs no round trip to the host between its selection and its gather.
 *
 * <p>State, per group {@code g} (a sequence's KV head in one layer), all ints: for each cluster {@code c} of at most
 * {@code clusterStride}, at {@code g·clusterStride + c}, its first vector in the group's store ({@code starts}), its
 * size ({@code sizes}), its first cache block ({@code firstBlock}: {@link #NONE} when not cached, {@link #NO_BLOCKS}
 * when cached and empty) and its neighbours in the LRU list ({@code newer}, {@code older}); for each of the
 * {@code cacheBlocks} blocks, at {@code g·cacheBlocks + b}, the next block of its cluster ({@code nextBlock}); the
 * list's most and least recent clusters at {@code 2g} and {@code 2g + 1} of {@code ends}; the free blocks as a bit
 * set of {@code freeWords} words at {@code g·freeWords} (bit {@code b % 32} of word {@code b / 32}) and their count
 * at {@code g} of {@code freeCount}.
 *
 * <p>{@link #lookUp} writes the gather's unit lists exactly as the host's {@code accessInto} does (the ids taken in
 * ascending order, clusters past {@code maxUnits} blocks left out) and keeps, per group, the hit and missed clusters
 * for {@link #update}, which applies LRU with admit-all-misses as {@code updateInto} does and writes the admission
 * copies; blocks are taken lowest first, so both sides fill the cache identically.
 */
public final class ClusterLookup {
    /** {@code firstBlock} of a cluster that is not cached; also the end of a block chain and of the LRU list. */
    public static final int NONE = -1;
    /** {@code firstBlock} of a cached cluster with no vectors. */
    public static final int NO_BLOCKS = -2;
    /** Vectors per cache block. */
    public static final int BLOCK = 8;
    /** Warps of a {@link #lookUp} block. */
    static final int LOOKUP_WARPS = 8;
    /**
     * {@link #lookUp}'s running sums over the ranked clusters, as indices of its shared totals: blocks of all clusters,
     * then of those in: missed blocks, vectors and clusters, hit blocks, vectors and clusters.
     */
    private static final int UNITS = 0, MISS_UNITS = 1, MISS_AT = 2, MISSES = 3, HIT_UNITS = 4, HIT_AT = 5, HITS = 6, SUMS = 7;
    /**
     * Words of {@link #lookUpLong}'s bit set of a group's ids, for groups of up to 32 times as many clusters (2M-token
     * contexts).
     */
    static final int ID_WORDS = 4096;
    /**
     * The largest retrieval zone {@link #lookUp} orders by comparisons ({@link #longZones}): 1.5% slower steps at 128K x
     * 11 with the bit set's 32 KiB of shared memory a block than with 147 ids compared, 6% faster at 1M tokens (1,180 ids
     * a group) on an H200 (docs/results/gpu-retro/h200/s13-call-4 and -5).
     */
    static final int COMPARED_IDS = 512;

    private ClusterLookup() {}

    /**
     * {@link #lookUp}'s grid: a block of {@link #LOOKUP_WARPS} warps per group. One warp per group left most SMs idle
     * and walked the clusters 32 at a time, each chunk's loads waiting on the one before: 24 us a layer at 128K x 11
     * sequences on an H200 (ncu, docs/results/gpu-retro/h200/s9-call-2).
     */
    public static Grid lookUpGrid(int groups) {
        return Grid.of(groups, LOOKUP_WARPS * KernelContext.WARP_SIZE);
    }

    /** {@link #update}'s grid: one warp per group. */
    public static Grid updateGrid(int groups) {
        return Grid.of(groups, KernelContext.WARP_SIZE);
    }

    /**
     * Looks up each group's first {@code idCounts[g]} cluster ids of {@code ids} ({@code [groups][idsStride]}, distinct,
     * in any order) in ascending order: a cached cluster's blocks become hit units, another's vectors miss units of up to
     * 8 vectors ({@code [g·maxUnits, ...)} of the unit lists, offsets counted from the start of the buffer's miss and hit
     * regions, counts at {@code g}); once a cluster's blocks would pass {@code maxUnits} in all, it and the rest are left
     * out. The ids in order go to {@code ranked}, the hit clusters, the missed ones and each missed one's offset to
     * {@code [g·rankedStride, ...)} of their arrays and their numbers to {@code 2g} and {@code 2g + 1} of
     * {@code accessCounts}; {@code stats} counts hits ({@code 2g}) and clusters looked up ({@code 2g + 1}). Launch on
     * {@link #lookUpGrid}.
     */
    @Kernel
    public static void lookUp(KernelContext ctx, I32Array ids, int idsStride, I32Array idCounts, I32Array starts, I32Array sizes,
            I32Array firstBlock, I32Array nextBlock, int clusterStride, int cacheBlocks, int maxUnits, I32Array ranked,
            int rankedStride, I32Array missStarts, I32Array missSizes, I32Array missOffsets, I32Array missCounts,
            I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, I32Array hitClusters,
            I32Array missClusters, I32Array missClusterOffsets, I32Array accessCounts, I32Array stats) {
        // per warp, its chunk's totals of the SUMS running sums; after them the totals of the rounds before
        int[] totals = ctx.allocateIntLocalArray((LOOKUP_WARPS + 1) * SUMS);
        int[] none = ctx.allocateIntLocalArray(1);
        look(ctx, ids, idsStride, idCounts, starts, sizes, firstBlock, nextBlock, clusterStride, cacheBlocks, maxUnits, ranked,
                rankedStride, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, hitClusters,
                missClusters, missClusterOffsets, accessCounts, stats, false, totals, none, none);
    }

    /**
     * {@link #lookUp} for retrieval zones past {@link #COMPARED_IDS} ids ({@link #longZones}), whose ids it orders
     * through a bit set of the group's clusters in shared memory.
     */
    @Kernel
    public static void lookUpLong(KernelContext ctx, I32Array ids, int idsStride, I32Array idCounts, I32Array starts, I32Array sizes,
            I32Array firstBlock, I32Array nextBlock, int clusterStride, int cacheBlocks, int maxUnits, I32Array ranked,
            int rankedStride, I32Array missStarts, I32Array missSizes, I32Array missOffsets, I32Array missCounts,
            I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, I32Array hitClusters,
            I32Array missClusters, I32Array missClusterOffsets, I32Array accessCounts, I32Array stats) {
        int[] totals = ctx.allocateIntLocalArray((LOOKUP_WARPS + 1) * SUMS);
        // the ids' bit set and, per word, the ids below it
        int[] bits = ctx.allocateIntLocalArray(ID_WORDS);
        int[] below = ctx.allocateIntLocalArray(ID_WORDS);
        look(ctx, ids, idsStride, idCounts, starts, sizes, firstBlock, nextBlock, clusterStride, cacheBlocks, maxUnits, ranked,
                rankedStride, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, hitClusters,
                missClusters, missClusterOffsets, accessCounts, stats, true, totals, bits, below);
    }

    /**
     * Whether groups of {@code clusterStride} clusters and zones of up to {@code rankedStride} ids look up with {@link
     * #lookUpLong}.
     */
    public static boolean longZones(int clusterStride, int rankedStride) {
        return rankedStride > COMPARED_IDS && clusterStride <= ID_WORDS * KernelContext.WARP_SIZE;
    }

    private static void look(KernelContext ctx, I32Array ids, int idsStride, I32Array idCounts, I32Array starts, I32Array sizes,
            I32Array firstBlock, I32Array nextBlock, int clusterStride, int cacheBlocks, int maxUnits, I32Array ranked,
            int rankedStride, I32Array missStarts, I32Array missSizes, I32Array missOffsets, I32Array missCounts,
            I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts, I32Array hitClusters,
            I32Array missClusters, I32Array missClusterOffsets, I32Array accessCounts, I32Array stats, boolean bitSet,
            int[] totals, int[] bits, int[] below) {
        int g = ctx.groupIdx;
        int lane = ctx.laneId, warp = ctx.localIdx / KernelContext.WARP_SIZE;
        int warps = ctx.localGroupSizeX / KernelContext.WARP_SIZE, carried = LOOKUP_WARPS * SUMS;
        int n = idCounts.get(g);
        long idBase = (long) g * idsStride, rankBase = (long) g * rankedStride;
        if (bitSet) {
            rankByBitSet(ctx, ids, idBase, n, clusterStride, ranked, rankBase, bits, below, totals);
        } else {
            rankByComparisons(ctx, ids, idBase, n, ranked, rankBase);
        }
        if (ctx.localIdx < SUMS) {
            totals[carried + ctx.localIdx] = 0;
        }
        ctx.localBarrier();
        long clusterBase = (long) g * clusterStride, blockBase = (long) g * cacheBlocks, unitBase = (long) g * maxUnits;
        // a round walks warps x 32 ranked clusters, a chunk of 32 a warp; each running sum before a cluster is the rounds'
        // before it, the warps' before its own, and the lanes' before it in its warp
        for (int round = 0; round < n; round += KernelContext.WARP_SIZE * warps) {
            int i = round + KernelContext.WARP_SIZE * warp + lane;
            int id = 0, size = 0, u = 0;
            boolean hit = false;
            if (i < n) {
                id = ranked.get(rankBase + i);
                size = sizes.get(clusterBase + id);
                u = (size + BLOCK - 1) / BLOCK;
                hit = firstBlock.get(clusterBase + id) != NONE;
            }
            int unitsScan = WarpScan.inclusiveSum(ctx, u);
            if (lane == KernelContext.WARP_SIZE - 1) {
                totals[warp * SUMS + UNITS] = unitsScan;
            }
            ctx.localBarrier();
            // a cluster is in while every block up to its own fits: the first that does not ends the lookup (every lane
            // takes part in each shuffle, so the sums come before any condition)
            int unitsThrough = before(totals, warp, carried, UNITS) + unitsScan;
            boolean in = i < n && unitsThrough <= maxUnits;
            int missU = in && !hit ? u : 0, missV = in && !hit ? size : 0, missC = in && !hit ? 1 : 0;
            int hitU = in && hit ? u : 0, hitV = in && hit ? size : 0, hitC = in && hit ? 1 : 0;
            int missUScan = WarpScan.inclusiveSum(ctx, missU), missVScan = WarpScan.inclusiveSum(ctx, missV);
            int missCScan = WarpScan.inclusiveSum(ctx, missC), hitUScan = WarpScan.inclusiveSum(ctx, hitU);
            int hitVScan = WarpScan.inclusiveSum(ctx, hitV), hitCScan = WarpScan.inclusiveSum(ctx, hitC);
            if (lane == KernelContext.WARP_SIZE - 1) {
                totals[warp * SUMS + MISS_UNITS] = missUScan;
                totals[warp * SUMS + MISS_AT] = missVScan;
                totals[warp * SUMS + MISSES] = missCScan;
                totals[warp * SUMS + HIT_UNITS] = hitUScan;
                totals[warp * SUMS + HIT_AT] = hitVScan;
                totals[warp * SUMS + HITS] = hitCScan;
            }
            ctx.localBarrier();
            int missUnitsBefore = before(totals, warp, carried, MISS_UNITS) + missUScan - missU;
            int missAtBefore = before(totals, warp, carried, MISS_AT) + missVScan - missV;
            int missesBefore = before(totals, warp, carried, MISSES) + missCScan - missC;
            int hitUnitsBefore = before(totals, warp, carried, HIT_UNITS) + hitUScan - hitU;
            int hitAtBefore = before(totals, warp, carried, HIT_AT) + hitVScan - hitV;
            int hitsBefore = before(totals, warp, carried, HITS) + hitCScan - hitC;
            if (in && hit) {
                hitClusters.set(rankBase + hitsBefore, id);
                int b = firstBlock.get(clusterBase + id);
                for (int k = 0; k < u; k++) {
                    long unit = unitBase + hitUnitsBefore + k;
                    hitBlocks.set(unit, b);
                    hitSizes.set(unit, Math.min(BLOCK, size - k * BLOCK));
                    hitOffsets.set(unit, hitAtBefore + k * BLOCK);
                    if (k + 1 < u) {
                        b = nextBlock.get(blockBase + b);
                    }
                }
            } else if (in) {
                missClusters.set(rankBase + missesBefore, id);
                missClusterOffsets.set(rankBase + missesBefore, missAtBefore);
                int start = starts.get(clusterBase + id);
                for (int k = 0; k < u; k++) {
                    long unit = unitBase + missUnitsBefore + k;
                    missStarts.set(unit, start + k * BLOCK);
                    missSizes.set(unit, Math.min(BLOCK, size - k * BLOCK));
                    missOffsets.set(unit, missAtBefore + k * BLOCK);
                }
            }
            ctx.localBarrier(); // every warp has read the totals before they move on
            if (ctx.localIdx < SUMS) {
                totals[carried + ctx.localIdx] = before(totals, warps, carried, ctx.localIdx);
            }
            ctx.localBarrier();
        }
        if (ctx.localIdx == 0) {
            int hits = totals[carried + HITS], misses = totals[carried + MISSES];
            missCounts.set(g, totals[carried + MISS_UNITS]);
            hitCounts.set(g, totals[carried + HIT_UNITS]);
            accessCounts.set(2L * g, hits);
            accessCounts.set(2L * g + 1, misses);
            stats.set(2L * g, stats.get(2L * g) + hits);
            stats.set(2L * g + 1, stats.get(2L * g + 1) + hits + misses);
        }
    }

    /**
     * Writes the group's {@code n} ids to {@code ranked} in ascending order through a bit set of the group's cluster ids in
     * shared memory: an id's place is the ids below it, the set bits of the words before its word (an exclusive block
     * scan of the words' counts) and of its word below it. Linear in the ids and the clusters; ranking by comparisons
     * takes n²/32 shuffles a group: the lookups' phase took 0.115 ms a layer at 1M tokens (1,180 ids a group) on an H200,
     * 0.073 with the bit set (docs/results/gpu-retro/h200/s13-call-4). The ids are distinct, so adding a bit sets it.
     */
    private static void rankByBitSet(KernelContext ctx, I32Array ids, long idBase, int n, int clusterStride, I32Array ranked,
            long rankBase, int[] bits, int[] below, int[] warpTotals) {
        int words = (clusterStride + KernelContext.WARP_SIZE - 1) / KernelContext.WARP_SIZE;
        int threads = ctx.localGroupSizeX;
        for (int w = ctx.localIdx; w < words; w += threads) {
            bits[w] = 0;
        }
        ctx.localBarrier();
        for (int i = ctx.localIdx; i < n; i += threads) {
            int id = ids.get(idBase + i);
            ctx.atomicAdd(bits, id >>> 5, 1 << (id & 31));
        }
        ctx.localBarrier();
        // thread t counts the words [t·span, (t + 1)·span)
        int span = (words + threads - 1) / threads;
        int first = ctx.localIdx * span;
        int count = 0;
        for (int w = first; w < first + span && w < words; w++) {
            count += Integer.bitCount(bits[w]);
        }
        int scan = WarpScan.inclusiveSum(ctx, count);
        int warp = ctx.localIdx / KernelContext.WARP_SIZE;
        if (ctx.laneId == KernelContext.WARP_SIZE - 1) {
            warpTotals[warp] = scan;
        }
        ctx.localBarrier();
        int running = scan - count;
        for (int w = 0; w < warp; w++) {
            running += warpTotals[w];
        }
        for (int w = first; w < first + span && w < words; w++) {
            below[w] = running;
            running += Integer.bitCount(bits[w]);
        }
        ctx.localBarrier();
        for (int i = ctx.localIdx; i < n; i += threads) {
            int id = ids.get(idBase + i);
            int w = id >>> 5;
            ranked.set(rankBase + below[w] + Integer.bitCount(bits[w] & (1 << (id & 31)) - 1), id);
        }
    }

    /**
     * Writes the group's {@code n} ids to {@code ranked} in ascending order: an id's place is how many of the group's ids
     * are smaller, counted against a chunk of 32 ids at a time, one load a lane and the rest by shuffles (each lane
     * loading every id in turn, n dependent loads for each of its ids, took most of the lookup's time: 39 us a layer at
     * 128K x 10 sequences on an H200); the warps take chunks of the ids to place in turn.
     */
    private static void rankByComparisons(KernelContext ctx, I32Array ids, long idBase, int n, I32Array ranked, long rankBase) {
        int lane = ctx.laneId, warp = ctx.localIdx / KernelContext.WARP_SIZE;
        int warps = ctx.localGroupSizeX / KernelContext.WARP_SIZE;
        for (int first = KernelContext.WARP_SIZE * warp; first < n; first += KernelContext.WARP_SIZE * warps) {
            int i = first + lane;
            int id = i < n ? ids.get(idBase + i) : Integer.MAX_VALUE;
            int place = 0;
            for (int chunk = 0; chunk < n; chunk += KernelContext.WARP_SIZE) {
                int other = chunk + lane < n ? ids.get(idBase + chunk + lane) : Integer.MAX_VALUE; // past n: never smaller
                for (int k = 0; k < KernelContext.WARP_SIZE; k++) {
                    if (ctx.shuffleIdx(other, k) < id) {
                        place++;
                    }
                }
            }
            if (i < n) {
                ranked.set(rankBase + place, id);
            }
        }
    }

    /** Running sum {@code sum} before warp {@code warp}'s chunk: the rounds' before, plus the warps' before it in this one. */
    private static int before(int[] totals, int warp, int carried, int sum) {
        int total = totals[carried + sum];
        for (int w = 0; w < warp; w++) {
            total += totals[w * SUMS + sum];
        }
        return total;
    }

    /**
     * The LRU update after {@link #lookUp}, one warp per group: the hits become the most recent in rank order, the
     * misses are admitted in rank order while their blocks fit the whole cache (stopping at the first that does not),
     * whole least recent clusters are evicted until the admitted fit, and the admitted, given the lowest free blocks,
     * become the most recent. The copies into the cache go to {@code [g·maxUnits, ...)} of {@code admitOffsets}
     * (source offset in the buffer's miss region), {@code admitSizes} and {@code admitBlocks}, their number to
     * {@code admitCounts[g]}. Launch on {@link #updateGrid}.
     *
     * <p>The same decisions as one thread making them in turn (the host's {@code updateInto}), but only what follows the
     * list is left to one lane: the hits' moves and the walk to the next victim. A victim's blocks are freed, each
     * admitted cluster's copies, blocks and links written, and the free blocks ranked, by all lanes; one thread doing
     * all of it took 0.85 ms a layer at 128K × 7 sequences on the H100, a chain of dependent loads per block.
     */
    @Kernel
    public static void update(KernelContext ctx, int groups, I32Array sizes, I32Array firstBlock, I32Array nextBlock,
            I32Array newer, I32Array older, I32Array ends, I32Array free, I32Array freeCount, int clusterStride, int cacheBlocks,
            int freeWords, I32Array hitClusters, I32Array missClusters, I32Array missClusterOffsets, I32Array accessCounts,
            int rankedStride, int maxUnits, I32Array admitOffsets, I32Array admitSizes, I32Array admitBlocks,
            I32Array admitCounts) {
        int g = ctx.groupIdx;
        int lane = ctx.laneId;
        int[] victims = ctx.allocateIntLocalArray(KernelContext.WARP_SIZE);
        if (g >= groups) {
            return;
        }
        long cb = (long) g * clusterStride, bb = (long) g * cacheBlocks, fb = (long) g * freeWords, rb = (long) g * rankedStride;
        long e = 2L * g, unitBase = (long) g * maxUnits;
        int hits = accessCounts.get(2L * g), misses = accessCounts.get(2L * g + 1);
        if (lane == 0) {
            for (int i = hits - 1; i >= 0; i--) {
                int id = hitClusters.get(rb + i);
                unlink(newer, older, ends, cb, e, id);
                pushFront(newer, older, ends, cb, e, id);
            }
        }
        ctx.localBarrier();
        // the admitted: the misses in rank order while the blocks of all so far fit the cache (a prefix, as the sums grow)
        int admitted = 0, needed = 0;
        for (int first = 0; first < misses; first += KernelContext.WARP_SIZE) {
            int i = first + lane;
            int u = i < misses ? units(sizes, cb, missClusters.get(rb + i)) : 0;
            int through = needed + WarpScan.inclusiveSum(ctx, u); // every lane shuffles, before any condition
            boolean fits = i < misses && through <= cacheBlocks;
            int taken = ctx.warpSum(fits ? 1 : 0);
            admitted += taken;
            needed += ctx.warpSum(fits ? u : 0);
            if (taken < KernelContext.WARP_SIZE) {
                break;
            }
        }
        // evictions from the least recent end, up to 32 victims a round: lane 0 follows the list, every lane frees one
        int freeNow = freeCount.get(g);
        int tail = ends.get(e + 1);
        boolean evicted = false;
        while (freeNow < needed) {
            int count = 0, got = freeNow, next = tail;
            if (lane == 0) {
                while (count < KernelContext.WARP_SIZE && got < needed) {
                    victims[count] = next;
                    got += units(sizes, cb, next);
                    next = newer.get(cb + next);
                    count++;
                }
            }
            ctx.localBarrier();
            count = ctx.shuffleIdx(count, 0);
            got = ctx.shuffleIdx(got, 0);
            next = ctx.shuffleIdx(next, 0);
            if (lane < count) {
                int victim = victims[lane];
                for (int b = firstBlock.get(cb + victim); b >= 0; b = nextBlock.get(bb + b)) {
                    ctx.atomicAdd(free, fb + b / 32, 1 << (b % 32)); // the bit is clear while the block is held: add sets it
                }
                firstBlock.set(cb + victim, NONE);
                older.set(cb + victim, NONE); // as unlinking each in turn leaves it, the list's least recent
            }
            ctx.localBarrier(); // victims[] is refilled in the next round
            freeNow = got;
            tail = next;
            evicted = true;
        }
        if (lane == 0 && evicted) {
            ends.set(e + 1, tail);
            if (tail != NONE) {
                older.set(cb + tail, NONE);
            } else {
                ends.set(e, NONE);
            }
        }
        // copy k goes to the k-th lowest free block; cluster admitted − 1 takes the first ranks, cluster 0 the last
        int ranked = 0;
        for (int first = 0; first < freeWords && ranked < needed; first += KernelContext.WARP_SIZE) {
            int w = first + lane;
            int bits = w < freeWords ? free.get(fb + w) : 0;
            int count = Integer.bitCount(bits);
            int rank = ranked + WarpScan.inclusiveSum(ctx, count) - count;
            int left = bits;
            while (left != 0 && rank < needed) {
                int bit = 31 - Integer.numberOfLeadingZeros(left & -left);
                admitBlocks.set(unitBase + rank, w * 32 + bit);
                left &= ~(1 << bit);
                rank++;
            }
            if (left != bits) {
                free.set(fb + w, left);
            }
            ranked += ctx.warpSum(count);
        }
        ctx.localBarrier();
        int head = ends.get(e);
        int before = 0;
        for (int first = 0; first < admitted; first += KernelContext.WARP_SIZE) {
            int i = first + lane;
            int id = 0, size = 0, n = 0;
            if (i < admitted) {
                id = missClusters.get(rb + i);
                size = sizes.get(cb + id);
                n = (size + BLOCK - 1) / BLOCK;
            }
            int through = before + WarpScan.inclusiveSum(ctx, n);
            if (i < admitted) {
                int rank = needed - through;
                int offset = missClusterOffsets.get(rb + i);
                int previous = NONE;
                for (int u = 0; u < n; u++) {
                    int block = admitBlocks.get(unitBase + rank + u);
                    admitOffsets.set(unitBase + rank + u, offset + u * BLOCK);
                    admitSizes.set(unitBase + rank + u, Math.min(BLOCK, size - u * BLOCK));
                    if (previous == NONE) {
                        firstBlock.set(cb + id, block);
                    } else {
                        nextBlock.set(bb + previous, block);
                    }
                    previous = block;
                }
                if (previous == NONE) {
                    firstBlock.set(cb + id, NO_BLOCKS);
                } else {
                    nextBlock.set(bb + previous, NONE);
                }
                // pushed to the front from admitted − 1 down to 0: 0 ends the most recent, admitted − 1 before the old head
                newer.set(cb + id, i == 0 ? NONE : missClusters.get(rb + i - 1));
                older.set(cb + id, i == admitted - 1 ? head : missClusters.get(rb + i + 1));
            }
            before += ctx.warpSum(n);
        }
        if (lane == 0) {
            if (admitted > 0) {
                int last = missClusters.get(rb + admitted - 1);
                if (head != NONE) {
                    newer.set(cb + head, last);
                } else {
                    ends.set(e + 1, last);
                }
                ends.set(e, missClusters.get(rb));
            }
            freeCount.set(g, freeNow - needed);
            admitCounts.set(g, needed);
        }
    }

    private static int units(I32Array sizes, long clusterBase, int id) {
        return (sizes.get(clusterBase + id) + BLOCK - 1) / BLOCK;
    }

    /** Takes cluster {@code id} out of its group's LRU list ({@code ends[e]}: most recent, {@code ends[e + 1]}: least). */
    private static void unlink(I32Array newer, I32Array older, I32Array ends, long clusterBase, long e, int id) {
        int newerId = newer.get(clusterBase + id), olderId = older.get(clusterBase + id);
        if (newerId != NONE) {
            older.set(clusterBase + newerId, olderId);
        } else {
            ends.set(e, olderId);
        }
        if (olderId != NONE) {
            newer.set(clusterBase + olderId, newerId);
        } else {
            ends.set(e + 1, newerId);
        }
    }

    /** Makes cluster {@code id} its group's most recent. */
    private static void pushFront(I32Array newer, I32Array older, I32Array ends, long clusterBase, long e, int id) {
        int head = ends.get(e);
        older.set(clusterBase + id, head);
        newer.set(clusterBase + id, NONE);
        if (head != NONE) {
            newer.set(clusterBase + head, id);
        }
        ends.set(e, id);
        if (ends.get(e + 1) == NONE) {
            ends.set(e + 1, id);
        }
    }
}
