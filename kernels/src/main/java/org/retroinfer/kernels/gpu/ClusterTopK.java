package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.MAX_GROUP;

import org.retroinfer.accel.kernel.Constant;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.KernelLauncher;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * The second half of cluster ranking (retroinfer-spec.md §2.2), one block per (sequence, KV head) row: combine
 * {@link CentroidScoring}'s per-split softmax statistics into each query head's max and sum (log-sum-exp, as
 * {@link SplitKvMerge} does), score each cluster as Σ over the group of e^(y − max)/sum, and select the top
 * {@code R} non-empty clusters by score (retrieval zone) and the next {@code E} (estimation zone), with
 * {@code R = min(retrieval budget, candidates)} and {@code E = min(estimation budget, candidates − R)} as the
 * CPU's ClusterScorer counts them. Layout and grid: {@link ClusterScoringShape}.
 *
 * <p>Ranking is by score, then by lower cluster id: the CPU's rank key (score bits high, inverted id low), so
 * a tie at a zone boundary goes to the lower id and both pick the same sets. Selection is a radix select on
 * that key, for both boundaries at once: per pass, every candidate adds its next 8-bit digit to the histogram
 * of each boundary whose prefix it matches (shared-memory atomics, one per distinct digit of a warp: the lanes that
 * share a digit, found with {@code match.any}, add their number once; that halved selection on tied scores, and left it
 * as it was on random ones, whose passes wait on latency, docs/results/gpu-retro/h200/s11-call-6), then one warp per
 * boundary finds the digit
 * holding its k-th largest key (a warp scan over 256 bins) and narrows the prefix. Four passes fix the score
 * bits; only when the clusters tied at a boundary score do not all fit does a second run of passes over the
 * inverted ids pick the lowest ids among them. A last pass writes each member's id at a slot from a
 * warp-aggregated shared counter (a ballot and one atomic a warp), so the order within a zone is the GPU's (free, as the
 * CPU's is).
 *
 * <p>The passes read each cluster's rank key from shared memory, where the scoring step leaves the first
 * {@link #SHARED_KEYS} of the row (a 128K-token row and its index updates), with 0 for an empty cluster, which no
 * candidate's key is: read from global memory each pass, a cluster's size and score made every pass wait on two
 * dependent L1/L2 loads (48% of the warps' stalls at 128K × 11 on an H200, docs/results/gpu-retro/h200/s11-call-1).
 * Clusters past them (rows of longer contexts) read their score and size from global memory as before. Budgets above
 * the shape's {@code maxRetrieval}/{@code maxEstimation} slots are cut to them.
 *
 * <p>Rows longer than {@link #SHARED_KEYS} (contexts past about 160K tokens) select with {@link ChunkedClusterTopK}
 * instead, a row spread over many blocks: one block per row took 0.29 ms a layer at 1M tokens on an H200, where the
 * chunked kernels took 0.06; at 128K tokens x 11 and 32K x 42 one block per row took 0.029 and 0.022 ms, the chunked
 * kernels 0.055 and 0.057, five launches of a few microseconds each (docs/results/gpu-retro/h200/s13-call-1). {@link
 * #launch} picks.
 */
public final class ClusterTopK {
    /** Histogram bins: one 8-bit digit of the 32-bit key per pass. */
    private static final int BINS = 256;
    /**
     * Rank keys of a row kept in shared memory: 40 KiB, under the 48 KiB of static shared memory with the histograms,
     * and more than the 8192 clusters of a 128K-token row with the index updates of its first 32K generated tokens.
     */
    static final int SHARED_KEYS = 10240;
    /**
     * The key of an empty cluster, below every candidate's: a non-negative score's key has its top bit set, and only a
     * NaN of all ones, which no sum of exps is, maps to 0.
     */
    static final int EMPTY = 0;
    /**
     * Per-boundary state in shared ints, boundary b at {@code b · FIELDS}: boundary 0 closes the retrieval zone
     * (k = R), boundary 1 the estimation zone (k = R + E). PREFIX/MASK: the score-key bits fixed so far;
     * WANTED: how many keys still to take inside the prefix; TIES: keys in the last digit's bin;
     * ID_PREFIX/ID_MASK: the same for the inverted-id passes; TAKEN: ids written to the zone so far.
     */
    private static final int PREFIX = 0, MASK = 1, WANTED = 2, TIES = 3, ID_PREFIX = 4, ID_MASK = 5, TAKEN = 6;
    private static final int FIELDS = 7;
    /** After both boundaries' fields: the row's candidates (non-empty clusters) and its R and E. */
    private static final int CANDIDATES = 2 * FIELDS, RETRIEVAL = CANDIDATES + 1, ESTIMATION = CANDIDATES + 2;
    private static final int STATE = CANDIDATES + 3;

    private static final KernelMethod SELECT = KernelMethod.of(ClusterTopK.class, "select");

    private ClusterTopK() {}

    /** Whether {@link #launch} selects with {@link ChunkedClusterTopK}: rows longer than one block keeps. */
    public static boolean chunked(ClusterScoringShape shape) {
        return shape.capacity() > SHARED_KEYS;
    }

    /**
     * Enqueues the selection on {@code launcher} after {@link CentroidScoring}, for a GPU of {@code multiprocessors} SMs:
     * writes {@code headMax}/{@code headSum}, {@code scores}, and each row's retrieval and estimation ids and their counts
     * ({@code zoneSizes}), as {@link #select} describes. {@code work} holds {@link ClusterScoringShape#selectionWorkElements()}
     * ints, zero before the first launch.
     */
    public static void launch(KernelLauncher launcher, int multiprocessors, ClusterScoringShape shape, F32Array logits,
            F32Array partialMax, F32Array partialSum, I32Array counts, F32Array sizes, I32Array budgets, F32Array headMax,
            F32Array headSum, F32Array scores, I32Array work, I32Array retrieval, I32Array estimation, I32Array zoneSizes) {
        if (chunked(shape)) {
            ChunkedClusterTopK.launch(launcher, shape, logits, partialMax, partialSum, counts, sizes, budgets, headMax, headSum,
                    scores, work, retrieval, estimation, zoneSizes);
        } else {
            launcher.launch(SELECT, shape.selectionGrid(multiprocessors), logits, partialMax, partialSum, counts, sizes, budgets,
                    headMax, headSum, scores, retrieval, estimation, zoneSizes, shape.capacity(), shape.splits(),
                    shape.maxRetrieval(), shape.maxEstimation(), shape.groupSize());
        }
    }

    /**
     * Combines the statistics, writes {@code headMax}/{@code headSum} (per query head, the max of y and
     * Σ e^(y − max) over the row's clusters: with the logits, the estimation zone's weights e^(y − max)) and
     * {@code scores}, and writes the row's retrieval and estimation ids and their counts to {@code zoneSizes}.
     * Launch on {@link ClusterScoringShape#selectionGrid(int)} after {@link CentroidScoring}.
     */
    @Kernel
    public static void select(KernelContext ctx, F32Array logits, F32Array partialMax, F32Array partialSum,
            I32Array counts, F32Array sizes, I32Array budgets, F32Array headMax, F32Array headSum, F32Array scores,
            I32Array retrieval, I32Array estimation, I32Array zoneSizes, int capacity, int splits, int maxRetrieval,
            int maxEstimation, @Constant int group) {
        float[] heads = ctx.allocateFloatLocalArray(2 * MAX_GROUP);
        int[] histogram = ctx.allocateIntLocalArray(2 * BINS);
        int[] state = ctx.allocateIntLocalArray(STATE);
        int[] keys = ctx.allocateIntLocalArray(SHARED_KEYS);
        int row = ctx.groupIdx;
        int count = counts.get(row);
        long clusters = (long) row * capacity;
        begin(ctx, partialMax, partialSum, headMax, headSum, row, splits, group, heads, histogram, state);
        score(ctx, logits, sizes, scores, keys, (long) row * group * capacity, clusters, count, capacity, group, heads, state);
        if (ctx.localIdx == 0) {
            int candidates = state[CANDIDATES];
            int r = Math.min(Math.min(budgets.get(2L * row), maxRetrieval), candidates);
            int e = Math.min(Math.min(budgets.get(2L * row + 1), maxEstimation), candidates - r);
            state[RETRIEVAL] = r;
            state[ESTIMATION] = e;
            state[WANTED] = r;
            state[FIELDS + WANTED] = r + e;
            zoneSizes.set(2L * row, r);
            zoneSizes.set(2L * row + 1, e);
        }
        // The first pass's histograms do not read WANTED; its digit search, after the barrier, does.
        for (int shift = 24; shift >= 0; shift -= 8) {
            countScoreDigits(ctx, keys, scores, sizes, clusters, count, shift, histogram, state);
            ctx.localBarrier();
            if (ctx.warpId < 2) {
                findDigit(ctx, ctx.warpId * FIELDS, PREFIX, shift, histogram, state);
            }
            ctx.localBarrier();
        }
        // A boundary splits a tie when fewer keys are wanted from its last bin than the bin holds.
        boolean split0 = state[WANTED] < state[TIES];
        boolean split1 = state[FIELDS + WANTED] < state[FIELDS + TIES];
        if (split0 || split1) {
            int bits = 32 - Integer.numberOfLeadingZeros(count - 1);
            for (int shift = (bits - 1) / 8 * 8; shift >= 0; shift -= 8) {
                countIdDigits(ctx, keys, scores, sizes, clusters, count, shift, split0, split1, histogram, state);
                ctx.localBarrier();
                if (ctx.warpId == 0 && split0 || ctx.warpId == 1 && split1) {
                    findDigit(ctx, ctx.warpId * FIELDS, ID_PREFIX, shift, histogram, state);
                }
                ctx.localBarrier();
            }
        }
        compact(ctx, keys, scores, sizes, clusters, count, split0, split1, state, retrieval, (long) row * maxRetrieval,
                estimation, (long) row * maxEstimation);
    }

    /**
     * Each head's max M = max_s m_s and sum S = Σ_s l_s·e^(m_s − M) over the splits (an empty split, l = 0, adds
     * nothing, even when every split is empty and M = −∞), kept in shared memory as M and 1/S; and zeroed
     * histograms and state.
     */
    private static void begin(KernelContext ctx, F32Array partialMax, F32Array partialSum, F32Array headMax,
            F32Array headSum, int row, int splits, int group, float[] heads, int[] histogram, int[] state) {
        combineSplits(ctx, partialMax, partialSum, headMax, headSum, row, splits, group, heads, true);
        for (int i = ctx.localIdx; i < 2 * BINS; i += ctx.localGroupSizeX) {
            histogram[i] = 0;
        }
        if (ctx.localIdx < STATE) {
            state[ctx.localIdx] = 0;
        }
        ctx.localBarrier();
    }

    /**
     * Each head's max M and sum S over the row's splits, as {@link #begin} describes, in {@code heads} (M, then 1/S from
     * {@link DecodeAttentionShape#MAX_GROUP}), and in {@code headMax}/{@code headSum} where {@code write}; thread g takes
     * head g.
     */
    static void combineSplits(KernelContext ctx, F32Array partialMax, F32Array partialSum, F32Array headMax, F32Array headSum,
            int row, int splits, int group, float[] heads, boolean write) {
        int g = ctx.localIdx;
        if (g < group) {
            long first = (long) row * splits * group + g;
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < splits; s++) {
                max = Math.max(max, partialMax.get(first + (long) s * group));
            }
            float sum = 0f;
            for (int s = 0; s < splits; s++) {
                float l = partialSum.get(first + (long) s * group);
                if (l > 0f) {
                    sum += l * KMath.exp(partialMax.get(first + (long) s * group) - max);
                }
            }
            heads[g] = max;
            heads[MAX_GROUP + g] = 1f / sum;
            if (write) {
                headMax.set((long) row * group + g, max);
                headSum.set((long) row * group + g, sum);
            }
        }
    }

    /** Cluster {@code c}'s score Σ_g e^(y_gc − M_g)/S_g from the row's logits at {@code rowLogits} and {@code heads}. */
    static float clusterScore(F32Array logits, long rowLogits, int capacity, int c, int group, float[] heads) {
        float s = 0f;
        for (int g = 0; g < group; g++) {
            s += KMath.exp(logits.get(rowLogits + (long) g * capacity + c) - heads[g]) * heads[MAX_GROUP + g];
        }
        return s;
    }

    /**
     * score_c = Σ_g e^(y_gc − M_g)/S_g for every cluster below the count (empty ones too, as the CPU keeps
     * them), the rank keys of the first {@link #SHARED_KEYS} in {@code keys}, and the number of non-empty ones in
     * {@code state[CANDIDATES]}.
     */
    private static void score(KernelContext ctx, F32Array logits, F32Array sizes, F32Array scores, int[] keys,
            long rowLogits, long clusters, int count, int capacity, int group, float[] heads, int[] state) {
        int candidates = 0;
        for (int c = ctx.localIdx; c < count; c += ctx.localGroupSizeX) {
            float s = clusterScore(logits, rowLogits, capacity, c, group, heads);
            scores.set(clusters + c, s);
            boolean candidate = sizes.get(clusters + c) > 0f;
            if (c < SHARED_KEYS) {
                keys[c] = candidate ? rankKey(s) : EMPTY;
            }
            if (candidate) {
                candidates++;
            }
        }
        candidates = ctx.warpSum(candidates);
        if (ctx.laneId == 0) {
            ctx.atomicAdd(state, CANDIDATES, candidates);
        }
        ctx.localBarrier();
    }

    /**
     * Adds each candidate's score-key digit at {@code shift} to the histogram of every boundary whose prefix it matches.
     * While both boundaries' prefixes are the same (the first pass), one vote serves both histograms.
     */
    private static void countScoreDigits(KernelContext ctx, int[] keys, F32Array scores, F32Array sizes, long clusters,
            int count, int shift, int[] histogram, int[] state) {
        int prefix0 = state[PREFIX], mask0 = state[MASK];
        int prefix1 = state[FIELDS + PREFIX], mask1 = state[FIELDS + MASK];
        boolean same = prefix0 == prefix1 && mask0 == mask1;
        // whole-warp iterations: the votes need every lane
        for (int first = 0; first < count; first += ctx.localGroupSizeX) {
            int c = first + ctx.localIdx;
            int key = key(keys, scores, sizes, clusters, count, c);
            countDigit(ctx, key, (key >>> shift) & (BINS - 1), BINS, histogram, prefix0, mask0, prefix1, mask1, same);
        }
    }

    /**
     * Adds {@code digit} of {@code key} to boundary 0's histogram (bins from 0) and boundary 1's (from {@code bins}) where
     * the key matches that boundary's prefix, one atomic add a distinct bin of the warp; while both prefixes are the same
     * ({@code same}), one vote serves both. Every lane of the warp takes part.
     */
    static void countDigit(KernelContext ctx, int key, int digit, int bins, int[] histogram, int prefix0, int mask0,
            int prefix1, int mask1, boolean same) {
        int bin0 = key != EMPTY && (key & mask0) == prefix0 ? digit : -1;
        int n = votedCount(ctx, bin0);
        if (n > 0) {
            ctx.atomicAdd(histogram, bin0, n);
            if (same) {
                ctx.atomicAdd(histogram, bins + bin0, n);
            }
        }
        if (!same) {
            int bin1 = key != EMPTY && (key & mask1) == prefix1 ? bins + digit : -1;
            n = votedCount(ctx, bin1);
            if (n > 0) {
                ctx.atomicAdd(histogram, bin1, n);
            }
        }
    }

    /**
     * For the lowest lane of those whose {@code bin} is the same and not −1, how many they are; 0 for the others, so that
     * each distinct bin of the warp gets one atomic add.
     */
    static int votedCount(KernelContext ctx, int bin) {
        int peers = ctx.matchAny(bin);
        return bin >= 0 && (peers & (1 << ctx.laneId) - 1) == 0 ? Integer.bitCount(peers) : 0;
    }

    /**
     * For each boundary that splits a tie, adds the inverted-id digit at {@code shift} of every candidate tied
     * at the boundary's score key and matching its id prefix. Inverting ({@code count − 1 − c}) makes the
     * largest key the lowest id, so the same largest-first search picks the lowest ids.
     */
    private static void countIdDigits(KernelContext ctx, int[] keys, F32Array scores, F32Array sizes, long clusters,
            int count, int shift, boolean split0, boolean split1, int[] histogram, int[] state) {
        int key0 = state[PREFIX], prefix0 = state[ID_PREFIX], mask0 = state[ID_MASK];
        int key1 = state[FIELDS + PREFIX], prefix1 = state[FIELDS + ID_PREFIX], mask1 = state[FIELDS + ID_MASK];
        for (int first = 0; first < count; first += ctx.localGroupSizeX) {
            int c = first + ctx.localIdx;
            int key = key(keys, scores, sizes, clusters, count, c);
            int id = count - 1 - c;
            int digit = (id >>> shift) & (BINS - 1);
            int bin0 = split0 && key != EMPTY && key == key0 && (id & mask0) == prefix0 ? digit : -1;
            int n = votedCount(ctx, bin0);
            if (n > 0) {
                ctx.atomicAdd(histogram, bin0, n);
            }
            int bin1 = split1 && key != EMPTY && key == key1 && (id & mask1) == prefix1 ? BINS + digit : -1;
            n = votedCount(ctx, bin1);
            if (n > 0) {
                ctx.atomicAdd(histogram, bin1, n);
            }
        }
    }

    /**
     * One warp, one boundary (state fields from {@code base}): finds the digit whose bin holds the boundary's
     * WANTED-th largest key, counting from the top bin, and narrows the prefix at {@code prefixField} (and the
     * mask after it) to it; WANTED becomes the rank inside that bin and TIES the bin's count. Lane l holds
     * bins 255 − 8l down to 248 − 8l, so an inclusive warp scan of the lanes' totals counts keys from the top.
     * Nothing changes when WANTED is 0 (an empty zone). Every lane then zeroes its bins for the next pass.
     */
    private static void findDigit(KernelContext ctx, int base, int prefixField, int shift, int[] histogram, int[] state) {
        // Read before the scan's shuffles, which no lane leaves before all arrive: the lane that finds the digit
        // rewrites WANTED, and lanes of a warp do not run in lockstep.
        int wanted = state[base + WANTED];
        int bins = (base == 0 ? 0 : BINS) + BINS - 1 - 8 * ctx.laneId;
        int total = 0;
        for (int j = 0; j < 8; j++) {
            total += histogram[bins - j];
        }
        int above = total;
        for (int delta = 1; delta < KernelContext.WARP_SIZE; delta <<= 1) {
            int lower = ctx.shuffleUp(above, delta);
            if (ctx.laneId >= delta) {
                above += lower;
            }
        }
        above -= total; // keys in the bins of lower lanes, i.e. above this lane's bins
        if (wanted > above && wanted <= above + total) {
            int j = 0;
            while (above + histogram[bins - j] < wanted) {
                above += histogram[bins - j];
                j++;
            }
            int digit = BINS - 1 - 8 * ctx.laneId - j;
            state[base + prefixField] |= digit << shift;
            state[base + prefixField + 1] |= (BINS - 1) << shift;
            state[base + WANTED] = wanted - above;
            state[base + TIES] = histogram[bins - j];
        }
        for (int j = 0; j < 8; j++) {
            histogram[bins - j] = 0;
        }
    }

    /**
     * Writes every candidate at or above boundary 0 to the retrieval zone, and every other one at or above
     * boundary 1 to the estimation zone. A key is at or above a boundary when it is larger than the boundary's
     * key, or equal and (when the boundary splits its tie) its inverted id is at least the boundary's.
     */
    private static void compact(KernelContext ctx, int[] keys, F32Array scores, F32Array sizes, long clusters, int count,
            boolean split0, boolean split1, int[] state, I32Array retrieval, long retrievalRow, I32Array estimation,
            long estimationRow) {
        boolean any0 = state[RETRIEVAL] > 0;
        boolean any1 = state[RETRIEVAL] + state[ESTIMATION] > 0;
        int key0 = state[PREFIX], id0 = split0 ? state[ID_PREFIX] : 0;
        int key1 = state[FIELDS + PREFIX], id1 = split1 ? state[FIELDS + ID_PREFIX] : 0;
        // Whole-warp iterations: the slot counters are claimed once per warp through shuffles.
        for (int first = 0; first < count; first += ctx.localGroupSizeX) {
            int c = first + ctx.localIdx;
            int retrieved = 0;
            int estimated = 0;
            int key = key(keys, scores, sizes, clusters, count, c);
            if (key != EMPTY) {
                int id = count - 1 - c;
                if (any0 && (above(key, key0) || key == key0 && id >= id0)) {
                    retrieved = 1;
                } else if (any1 && (above(key, key1) || key == key1 && id >= id1)) {
                    estimated = 1;
                }
            }
            int slot = claim(ctx, retrieved, state, TAKEN);
            if (retrieved == 1) {
                retrieval.set(retrievalRow + slot, c);
            }
            slot = claim(ctx, estimated, state, FIELDS + TAKEN);
            if (estimated == 1) {
                estimation.set(estimationRow + slot, c);
            }
        }
    }

    /**
     * A slot for each lane whose {@code flag} is 1: its rank among the warp's flagged lanes (a ballot) plus a base that
     * lane 0 takes from the shared counter {@code state[field]} with one atomic for the whole warp.
     */
    private static int claim(KernelContext ctx, int flag, int[] state, int field) {
        int flagged = ctx.ballot(flag == 1);
        int base = 0;
        if (ctx.laneId == 0 && flagged != 0) {
            base = ctx.atomicAdd(state, field, Integer.bitCount(flagged));
        }
        return ctx.shuffleIdx(base, 0) + Integer.bitCount(flagged & (1 << ctx.laneId) - 1);
    }

    /**
     * Cluster {@code c}'s rank key, {@link #EMPTY} for an empty cluster or one past the row's {@code count}: from shared
     * memory for the first {@link #SHARED_KEYS}, else from its size and score in global memory.
     */
    private static int key(int[] keys, F32Array scores, F32Array sizes, long clusters, int count, int c) {
        if (c >= count) {
            return EMPTY;
        }
        if (c < SHARED_KEYS) {
            return keys[c];
        }
        return sizes.get(clusters + c) > 0f ? rankKey(scores.get(clusters + c)) : EMPTY;
    }

    /**
     * The score's bits as an unsigned key in float order: the sign bit flipped for positive floats, all bits
     * for negative ones (scores are sums of softmaxes, so never negative, but the order holds for any float).
     */
    static int rankKey(float score) {
        int bits = Float.floatToRawIntBits(score);
        return bits ^ (bits >> 31 | Integer.MIN_VALUE);
    }

    /** {@code a > b} as unsigned ints. */
    static boolean above(int a, int b) {
        return (a ^ Integer.MIN_VALUE) > (b ^ Integer.MIN_VALUE);
    }
}
