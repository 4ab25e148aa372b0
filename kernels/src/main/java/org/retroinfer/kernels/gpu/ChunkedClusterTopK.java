package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.ClusterTopK.EMPTY;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.MAX_GROUP;

import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.KernelLauncher;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * {@link ClusterTopK}'s selection for rows longer than one block keeps in shared memory, spread over blocks of {@link
 * #CHUNK} clusters of a row, so that a row of 65536 clusters (a 1M-token context) takes 32 SMs, not one: a block per row
 * spent 0.29 ms a layer selecting at 1M tokens on an H200 (docs/results/gpu-retro/h200/s12-call-4), these kernels 0.06
 * (s13-call-1). Same outputs, same rule (score, then lower cluster id), same radix select on the score's 32-bit key
 * for both boundaries at once, in five launches that each cost a few microseconds whatever the row's length, so that
 * rows of 8192 clusters select faster in one block (s13-call-1). {@link #launch} enqueues them, each over all blocks of
 * every row:
 * <ol>
 *   <li>{@code scoreClusters}: the head statistics, the scores, their rank keys (0 for an empty cluster) in the row's
 *       work area, and the histogram of the keys' top 11-bit digit, added bin by bin to the row's;</li>
 *   <li>{@code countDigits}, twice: every block finds, from the last histogram, the digit holding each boundary's
 *       k-th largest key (the same search in every block, on the same counts: a block scan over the bins), narrows the
 *       boundary's prefix to it, and counts the next digit (11, then 10 bits) of the keys inside each prefix;</li>
 *   <li>{@code countTies}: the last digit fixes each boundary's key; each block counts its keys equal to it;</li>
 *   <li>{@code compactZones}: every key above a boundary's, and the lowest-id keys tied at it (by the tie counts of the
 *       row's earlier blocks and a block scan within), goes to that zone at a slot from a warp-aggregated atomic
 *       counter, so the order within a zone is the GPU's (free, as the CPU's is).</li>
 * </ol>
 * Each kernel's first block writes the boundaries it found for the next kernel, and zeroes the counters and the
 * histogram whose last reader has finished: the histograms and the candidate counter must be zero when first used (a
 * zeroed work area), and every run leaves them so, whatever it leaves in the rest (a CUDA graph replays the kernels as
 * they are).
 */
public final class ChunkedClusterTopK {
    /** Clusters of a row per block. */
    public static final int CHUNK = 2048;
    /** Threads of a block: four clusters each. */
    public static final int THREADS = 512;
    private static final int WARPS = THREADS / KernelContext.WARP_SIZE;
    /** Histogram bins: digits of 11, 11 and 10 bits, from the key's top. */
    private static final int BINS = 2048;
    /** Bins of the histogram each thread sums in a digit search. */
    private static final int BINS_PER_THREAD = BINS / THREADS;
    private static final int PASSES = 3;
    /**
     * Per-boundary state, boundary b at {@code b · BOUNDARY_FIELDS}: boundary 0 closes the retrieval zone (k = R),
     * boundary 1 the estimation zone (k = R + E). PREFIX/MASK: the key bits fixed so far; WANTED: how many keys still
     * to take inside the prefix; TIES: keys in the last digit's bin. After both: the row's R and E.
     */
    private static final int PREFIX = 0, MASK = 1, WANTED = 2, TIES = 3;
    private static final int BOUNDARY_FIELDS = 4;
    private static final int RETRIEVAL = 2 * BOUNDARY_FIELDS, ESTIMATION = RETRIEVAL + 1;
    private static final int STATE = ESTIMATION + 1;
    /**
     * A row's work area, in ints: the rank keys ({@code capacity}), the histograms ({@code [pass][boundary][BINS]}; pass
     * 0 fills boundary 0's only, as both boundaries' prefixes are still empty), the state after each pass, the
     * counters, and each block's tie counts ({@code [chunk][boundary]}).
     */
    private static final int HISTOGRAMS = PASSES * 2 * BINS;
    /** Counters: the row's non-empty clusters (summed by the scoring blocks), and the ids written to each zone. */
    private static final int CANDIDATES = 0, TAKEN = 1;
    private static final int COUNTERS = 3;

    private static final KernelMethod SCORE = KernelMethod.of(ChunkedClusterTopK.class, "scoreClusters");
    private static final KernelMethod COUNT = KernelMethod.of(ChunkedClusterTopK.class, "countDigits");
    private static final KernelMethod COUNT_TIES = KernelMethod.of(ChunkedClusterTopK.class, "countTies");
    private static final KernelMethod COMPACT = KernelMethod.of(ChunkedClusterTopK.class, "compactZones");

    private ChunkedClusterTopK() {}

    /** Blocks of a row of {@code capacity} clusters. */
    public static int chunks(int capacity) {
        return (capacity + CHUNK - 1) / CHUNK;
    }

    /** A block per {@link #CHUNK} cluster slots of each row, a row's blocks adjacent. */
    public static Grid grid(ClusterScoringShape shape) {
        return Grid.of(shape.rows() * chunks(shape.capacity()), THREADS);
    }

    /** Ints of a row's work area. */
    public static long rowWork(int capacity) {
        return (long) capacity + HISTOGRAMS + PASSES * STATE + COUNTERS + 2L * chunks(capacity);
    }

    /**
     * Enqueues the five kernels on {@code launcher}, with {@link ClusterTopK#launch}'s arguments; {@code work} holds
     * {@link #rowWork} ints a row, zero before the first launch.
     */
    public static void launch(KernelLauncher launcher, ClusterScoringShape shape, F32Array logits, F32Array partialMax,
            F32Array partialSum, I32Array counts, F32Array sizes, I32Array budgets, F32Array headMax, F32Array headSum,
            F32Array scores, I32Array work, I32Array retrieval, I32Array estimation, I32Array zoneSizes) {
        Grid grid = grid(shape);
        int capacity = shape.capacity();
        launcher.launch(SCORE, grid, logits, partialMax, partialSum, counts, sizes, headMax, headSum, scores, work, capacity,
                shape.splits(), shape.groupSize());
        for (int pass = 1; pass < PASSES; pass++) {
            launcher.launch(COUNT, grid, counts, budgets, work, zoneSizes, capacity, shape.maxRetrieval(), shape.maxEstimation(),
                    pass);
        }
        launcher.launch(COUNT_TIES, grid, counts, work, capacity);
        launcher.launch(COMPACT, grid, counts, work, retrieval, estimation, capacity, shape.maxRetrieval(), shape.maxEstimation());
    }

    /**
     * Each head's max M = max_s m_s and sum S = Σ_s l_s·e^(m_s − M) over the splits (an empty split, l = 0, adds
     * nothing, even when every split is empty and M = −∞), written by each row's first block; then score_c =
     * Σ_g e^(y_gc − M_g)/S_g for every cluster of the block below the row's count (empty ones too, as the CPU keeps
     * them), the rank keys, and the first digit's histogram and the non-empty clusters, added to the row's.
     */
    @Kernel
    public static void scoreClusters(KernelContext ctx, F32Array logits, F32Array partialMax, F32Array partialSum,
            I32Array counts, F32Array sizes, F32Array headMax, F32Array headSum, F32Array scores, I32Array work, int capacity,
            int splits, @Constant int group) {
        float[] heads = ctx.allocateFloatLocalArray(2 * MAX_GROUP);
        int[] histogram = ctx.allocateIntLocalArray(BINS);
        int[] candidates = ctx.allocateIntLocalArray(1);
        int chunks = chunks(capacity);
        int row = ctx.groupIdx / chunks;
        int first = (ctx.groupIdx - row * chunks) * CHUNK;
        int count = counts.get(row);
        long area = row * rowWork(capacity);
        ClusterTopK.combineSplits(ctx, partialMax, partialSum, headMax, headSum, row, splits, group, heads, first == 0);
        for (int i = ctx.localIdx; i < BINS; i += THREADS) {
            histogram[i] = 0;
        }
        if (ctx.localIdx == 0) {
            candidates[0] = 0;
        }
        ctx.localBarrier();
        long rowLogits = (long) row * group * capacity;
        long clusters = (long) row * capacity;
        int nonEmpty = 0;
        // whole-warp iterations: the votes need every lane
        for (int c = first + ctx.localIdx; c < first + CHUNK; c += THREADS) {
            int key = EMPTY;
            if (c < count) {
                float s = ClusterTopK.clusterScore(logits, rowLogits, capacity, c, group, heads);
                scores.set(clusters + c, s);
                if (sizes.get(clusters + c) > 0f) {
                    key = ClusterTopK.rankKey(s);
                    nonEmpty++;
                }
                work.set(area + c, key);
            }
            int bin = key != EMPTY ? key >>> shift(0) : -1;
            int n = ClusterTopK.votedCount(ctx, bin);
            if (n > 0) {
                ctx.atomicAdd(histogram, bin, n);
            }
        }
        nonEmpty = ctx.warpSum(nonEmpty);
        if (ctx.laneId == 0 && nonEmpty > 0) {
            ctx.atomicAdd(candidates, 0, nonEmpty);
        }
        ctx.localBarrier();
        mergeHistogram(ctx, histogram, BINS, work, area + capacity);
        if (ctx.localIdx == 0 && candidates[0] > 0) {
            ctx.atomicAdd(work, counters(area, capacity) + CANDIDATES, candidates[0]);
        }
    }

    /**
     * Pass {@code pass} (1 or 2): finds both boundaries' digits of the previous pass from its histogram, then counts the
     * digit of this pass of every key of the block inside each boundary's prefix. Pass 1 first sets the zones' sizes from
     * the budgets and the candidates ({@code zoneSizes} too).
     */
    @Kernel
    public static void countDigits(KernelContext ctx, I32Array counts, I32Array budgets, I32Array work, I32Array zoneSizes,
            int capacity, int maxRetrieval, int maxEstimation, int pass) {
        int[] histogram = ctx.allocateIntLocalArray(2 * BINS);
        int[] sums = ctx.allocateIntLocalArray(2 * WARPS);
        int[] state = ctx.allocateIntLocalArray(STATE);
        int chunks = chunks(capacity);
        int row = ctx.groupIdx / chunks;
        int chunk = ctx.groupIdx - row * chunks;
        int count = counts.get(row);
        long area = row * rowWork(capacity);
        long counters = counters(area, capacity);
        if (pass == 1) {
            if (ctx.localIdx < STATE) {
                state[ctx.localIdx] = 0;
            }
            ctx.localBarrier();
            if (ctx.localIdx == 0) {
                int candidates = work.get(counters + CANDIDATES);
                int r = Math.min(Math.min(budgets.get(2L * row), maxRetrieval), candidates);
                int e = Math.min(Math.min(budgets.get(2L * row + 1), maxEstimation), candidates - r);
                state[RETRIEVAL] = r;
                state[ESTIMATION] = e;
                state[WANTED] = r;
                state[BOUNDARY_FIELDS + WANTED] = r + e;
                if (chunk == 0) {
                    zoneSizes.set(2L * row, r);
                    zoneSizes.set(2L * row + 1, e);
                }
            }
        } else {
            loadState(ctx, work, area, capacity, pass - 2, state);
        }
        loadHistogram(ctx, work, area, capacity, pass - 1, histogram);
        ctx.localBarrier();
        findDigits(ctx, histogram, sums, state, pass - 1);
        ctx.localBarrier();
        if (chunk == 0) {
            storeState(ctx, work, area, capacity, pass - 1, state);
            if (pass == 1) {
                if (ctx.localIdx < 2) {
                    work.set(counters + TAKEN + ctx.localIdx, 0);
                }
            } else {
                // pass 0's histogram and the candidates are read by pass 1 only
                zero(ctx, work, area + capacity, 2 * BINS);
                if (ctx.localIdx == 0) {
                    work.set(counters + CANDIDATES, 0);
                }
            }
        }
        for (int i = ctx.localIdx; i < 2 * BINS; i += THREADS) {
            histogram[i] = 0;
        }
        ctx.localBarrier();
        int prefix0 = state[PREFIX], mask0 = state[MASK];
        int prefix1 = state[BOUNDARY_FIELDS + PREFIX], mask1 = state[BOUNDARY_FIELDS + MASK];
        boolean same = prefix0 == prefix1 && mask0 == mask1;
        int shift = shift(pass);
        int digits = (1 << bits(pass)) - 1;
        int first = chunk * CHUNK;
        // whole-warp iterations: the votes need every lane
        for (int c = first + ctx.localIdx; c < first + CHUNK; c += THREADS) {
            int key = c < count ? work.get(area + c) : EMPTY;
            ClusterTopK.countDigit(ctx, key, key >>> shift & digits, BINS, histogram, prefix0, mask0, prefix1, mask1, same);
        }
        ctx.localBarrier();
        mergeHistogram(ctx, histogram, 2 * BINS, work, area + capacity + (long) pass * 2 * BINS);
    }

    /**
     * Finds the last digit, which fixes each boundary's key (WANTED becomes how many of the keys tied at it to take),
     * and counts the block's keys equal to each boundary's.
     */
    @Kernel
    public static void countTies(KernelContext ctx, I32Array counts, I32Array work, int capacity) {
        int[] histogram = ctx.allocateIntLocalArray(2 * BINS);
        int[] sums = ctx.allocateIntLocalArray(2 * WARPS);
        int[] state = ctx.allocateIntLocalArray(STATE);
        int chunks = chunks(capacity);
        int row = ctx.groupIdx / chunks;
        int chunk = ctx.groupIdx - row * chunks;
        int count = counts.get(row);
        long area = row * rowWork(capacity);
        loadState(ctx, work, area, capacity, PASSES - 2, state);
        loadHistogram(ctx, work, area, capacity, PASSES - 1, histogram);
        ctx.localBarrier();
        findDigits(ctx, histogram, sums, state, PASSES - 1);
        ctx.localBarrier();
        if (chunk == 0) {
            storeState(ctx, work, area, capacity, PASSES - 1, state);
            zero(ctx, work, area + capacity + 2L * BINS, 2 * BINS); // pass 1's histogram, read by pass 2 only
        }
        int key0 = state[PREFIX], key1 = state[BOUNDARY_FIELDS + PREFIX];
        int tied0 = 0, tied1 = 0;
        int first = chunk * CHUNK;
        for (int c = first + ctx.localIdx; c < first + CHUNK && c < count; c += THREADS) {
            int key = work.get(area + c);
            if (key != EMPTY && key == key0) tied0++;
            if (key != EMPTY && key == key1) tied1++;
        }
        tied0 = ctx.warpSum(tied0);
        tied1 = ctx.warpSum(tied1);
        if (ctx.laneId == 0) {
            sums[ctx.warpId] = tied0;
            sums[WARPS + ctx.warpId] = tied1;
        }
        ctx.localBarrier();
        if (ctx.localIdx < 2) {
            int total = 0;
            for (int w = 0; w < WARPS; w++) {
                total += sums[ctx.localIdx * WARPS + w];
            }
            work.set(ties(area, capacity, chunk) + ctx.localIdx, total);
        }
    }

    /**
     * Writes every candidate of the block above boundary 0's key, or tied at it and among the lowest-id WANTED of the
     * tie, to the retrieval zone, and every other one above or so tied at boundary 1 to the estimation zone.
     */
    @Kernel
    public static void compactZones(KernelContext ctx, I32Array counts, I32Array work, I32Array retrieval, I32Array estimation,
            int capacity, int maxRetrieval, int maxEstimation) {
        int[] sums = ctx.allocateIntLocalArray(2 * WARPS);
        int[] state = ctx.allocateIntLocalArray(STATE);
        int[] before = ctx.allocateIntLocalArray(2);
        int chunks = chunks(capacity);
        int row = ctx.groupIdx / chunks;
        int chunk = ctx.groupIdx - row * chunks;
        int count = counts.get(row);
        long area = row * rowWork(capacity);
        long counters = counters(area, capacity);
        loadState(ctx, work, area, capacity, PASSES - 1, state);
        if (ctx.warpId < 2) {
            // the ties at boundary w in the row's earlier blocks
            int tied = 0;
            for (int j = ctx.laneId; j < chunk; j += KernelContext.WARP_SIZE) {
                tied += work.get(ties(area, capacity, j) + ctx.warpId);
            }
            tied = ctx.warpSum(tied);
            if (ctx.laneId == 0) {
                before[ctx.warpId] = tied;
            }
        }
        if (chunk == 0) {
            zero(ctx, work, area + capacity + 4L * BINS, 2 * BINS); // pass 2's histogram, read by countTies only
        }
        ctx.localBarrier();
        int r = state[RETRIEVAL];
        int e = state[ESTIMATION];
        boolean any0 = r > 0;
        boolean any1 = r + e > 0;
        int key0 = state[PREFIX], wanted0 = state[WANTED];
        int key1 = state[BOUNDARY_FIELDS + PREFIX], wanted1 = state[BOUNDARY_FIELDS + WANTED];
        int rank0 = before[0], rank1 = before[1];
        long retrievalRow = (long) row * maxRetrieval, estimationRow = (long) row * maxEstimation;
        int first = chunk * CHUNK;
        // whole-block iterations: the tie ranks are a scan over the block
        for (int c = first + ctx.localIdx; c < first + CHUNK; c += THREADS) {
            int key = c < count ? work.get(area + c) : EMPTY;
            boolean tie0 = any0 && key != EMPTY && key == key0;
            boolean tie1 = any1 && key != EMPTY && key == key1;
            int votes0 = ctx.ballot(tie0);
            int votes1 = ctx.ballot(tie1);
            if (ctx.laneId == 0) {
                sums[ctx.warpId] = Integer.bitCount(votes0);
                sums[WARPS + ctx.warpId] = Integer.bitCount(votes1);
            }
            ctx.localBarrier();
            int lower = (1 << ctx.laneId) - 1;
            int at0 = rank0 + Integer.bitCount(votes0 & lower);
            int at1 = rank1 + Integer.bitCount(votes1 & lower);
            for (int w = 0; w < WARPS; w++) {
                int n0 = sums[w], n1 = sums[WARPS + w];
                if (w < ctx.warpId) {
                    at0 += n0;
                    at1 += n1;
                }
                rank0 += n0;
                rank1 += n1;
            }
            ctx.localBarrier();
            int retrieved = 0;
            int estimated = 0;
            if (key != EMPTY) {
                if (any0 && (ClusterTopK.above(key, key0) || tie0 && at0 < wanted0)) {
                    retrieved = 1;
                } else if (any1 && (ClusterTopK.above(key, key1) || tie1 && at1 < wanted1)) {
                    estimated = 1;
                }
            }
            int slot = claim(ctx, retrieved, work, counters + TAKEN);
            if (retrieved == 1) {
                retrieval.set(retrievalRow + slot, c);
            }
            slot = claim(ctx, estimated, work, counters + TAKEN + 1);
            if (estimated == 1) {
                estimation.set(estimationRow + slot, c);
            }
        }
    }

    /**
     * For each boundary (state fields from {@code b · BOUNDARY_FIELDS}, histogram from {@code b · BINS}): finds the digit
     * of pass {@code pass} whose bin holds the boundary's WANTED-th largest key, counting from the top bin, and narrows the
     * prefix to it; WANTED becomes the rank inside that bin and TIES the bin's count. Nothing changes when WANTED is 0 (an
     * empty zone). Thread t holds bins {@code BINS − 1 − 4t} down to {@code BINS − 4 − 4t}, so an exclusive block scan
     * of the threads' totals counts the keys above its bins. Every thread of the block takes part.
     */
    private static void findDigits(KernelContext ctx, int[] histogram, int[] sums, int[] state, int pass) {
        // Read before the scan's barrier: the thread that finds a digit rewrites WANTED after it.
        int wanted0 = state[WANTED];
        int wanted1 = state[BOUNDARY_FIELDS + WANTED];
        int top = BINS - 1 - BINS_PER_THREAD * ctx.localIdx;
        int total0 = 0, total1 = 0;
        for (int j = 0; j < BINS_PER_THREAD; j++) {
            total0 += histogram[top - j];
            total1 += histogram[BINS + top - j];
        }
        int above0 = total0, above1 = total1;
        for (int delta = 1; delta < KernelContext.WARP_SIZE; delta <<= 1) {
            int lower0 = ctx.shuffleUp(above0, delta);
            int lower1 = ctx.shuffleUp(above1, delta);
            if (ctx.laneId >= delta) {
                above0 += lower0;
                above1 += lower1;
            }
        }
        if (ctx.laneId == KernelContext.WARP_SIZE - 1) {
            sums[ctx.warpId] = above0;
            sums[WARPS + ctx.warpId] = above1;
        }
        ctx.localBarrier();
        above0 -= total0; // keys in the bins of lower lanes, i.e. above this thread's bins
        above1 -= total1;
        for (int w = 0; w < ctx.warpId; w++) {
            above0 += sums[w];
            above1 += sums[WARPS + w];
        }
        int shift = shift(pass);
        int mask = ((1 << bits(pass)) - 1) << shift;
        if (wanted0 > above0 && wanted0 <= above0 + total0) {
            narrow(histogram, 0, top, above0, wanted0, shift, mask, state, 0);
        }
        if (wanted1 > above1 && wanted1 <= above1 + total1) {
            narrow(histogram, BINS, top, above1, wanted1, shift, mask, state, BOUNDARY_FIELDS);
        }
    }

    /** Walks down from bin {@code top} to the one holding the {@code wanted}-th key and fixes it in the boundary's prefix. */
    private static void narrow(int[] histogram, int bins, int top, int above, int wanted, int shift, int mask, int[] state,
            int base) {
        int digit = top;
        while (above + histogram[bins + digit] < wanted) {
            above += histogram[bins + digit];
            digit--;
        }
        state[base + PREFIX] |= digit << shift;
        state[base + MASK] |= mask;
        state[base + WANTED] = wanted - above;
        state[base + TIES] = histogram[bins + digit];
    }

    /** Bit position of pass {@code pass}'s digit: bits 31-21, 20-10, 9-0. */
    private static int shift(int pass) {
        return pass == 0 ? 21 : pass == 1 ? 10 : 0;
    }

    private static int bits(int pass) {
        return pass == 2 ? 10 : 11;
    }

    /** Start of the counters in the work area at {@code area}. */
    private static long counters(long area, int capacity) {
        return area + capacity + HISTOGRAMS + PASSES * STATE;
    }

    /** Start of block {@code chunk}'s two tie counts. */
    private static long ties(long area, int capacity, int chunk) {
        return counters(area, capacity) + COUNTERS + 2L * chunk;
    }

    /**
     * The histogram pass {@code pass} counted, both boundaries', into shared memory; pass 0's one histogram into both
     * halves.
     */
    private static void loadHistogram(KernelContext ctx, I32Array work, long area, int capacity, int pass, int[] histogram) {
        long from = area + capacity + (long) pass * 2 * BINS;
        for (int i = ctx.localIdx; i < 2 * BINS; i += THREADS) {
            histogram[i] = work.get(from + (pass == 0 ? i & BINS - 1 : i));
        }
    }

    /** Adds the block's non-zero bins to the row's histogram at {@code to}. */
    private static void mergeHistogram(KernelContext ctx, int[] histogram, int bins, I32Array work, long to) {
        for (int i = ctx.localIdx; i < bins; i += THREADS) {
            int n = histogram[i];
            if (n != 0) {
                ctx.atomicAdd(work, to + i, n);
            }
        }
    }

    private static void loadState(KernelContext ctx, I32Array work, long area, int capacity, int pass, int[] state) {
        if (ctx.localIdx < STATE) {
            state[ctx.localIdx] = work.get(area + capacity + HISTOGRAMS + (long) pass * STATE + ctx.localIdx);
        }
    }

    private static void storeState(KernelContext ctx, I32Array work, long area, int capacity, int pass, int[] state) {
        if (ctx.localIdx < STATE) {
            work.set(area + capacity + HISTOGRAMS + (long) pass * STATE + ctx.localIdx, state[ctx.localIdx]);
        }
    }

    private static void zero(KernelContext ctx, I32Array work, long from, int length) {
        for (int i = ctx.localIdx; i < length; i += THREADS) {
            work.set(from + i, 0);
        }
    }

    /**
     * A slot for each lane whose {@code flag} is 1: its rank among the warp's flagged lanes (a ballot) plus a base that
     * lane 0 takes from the row's counter at {@code counter} with one atomic for the whole warp.
     */
    private static int claim(KernelContext ctx, int flag, I32Array work, long counter) {
        int flagged = ctx.ballot(flag == 1);
        int base = 0;
        if (ctx.laneId == 0 && flagged != 0) {
            base = ctx.atomicAdd(work, counter, Integer.bitCount(flagged));
        }
        return ctx.shuffleIdx(base, 0) + Integer.bitCount(flagged & (1 << ctx.laneId) - 1);
    }

}
