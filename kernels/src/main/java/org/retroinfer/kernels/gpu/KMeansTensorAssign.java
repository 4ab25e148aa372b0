package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The k-means assignment of {@link KMeansAssign#nearest} on tensor cores, with exactly its result: the same centroid
 * for every key, bit for bit, ties to the lowest id. The assignment is a matrix product of keys and centroids, which
 * {@code nearest} runs as F32 FMAs on CUDA cores; here it runs as BF16 {@code mma.sync} in three terms (each F32
 * value split as hi + lo, hi = bf16(x), lo = bf16(x − hi); k·c ≈ hi·hi + hi·lo + lo·hi), which approximates each F32
 * inner product within ε = 2⁻¹¹·‖k‖·‖c‖. Three launches:
 * <ol>
 *   <li>{@link #split}: each F32 row (a centred key once per build, the centroids once per iteration) as hi and lo
 *       BF16 words and its L2 norm;</li>
 *   <li>{@link #candidates}: the approximate scores of a tile of keys against every centroid of their segment; each
 *       lane keeps its two best per key and the best score it dropped, and every kept centroid whose approximate score
 *       is within 2ε of the key's best approximate score becomes a candidate. The key's exact winner is among them (its
 *       approximate score is within 2ε of the best one), unless a lane dropped a centroid within 2ε: then the key is
 *       flagged;</li>
 *   <li>{@link #refine}: each key's candidates scored exactly as {@code nearest} scores them (an F32 FMA chain over
 *       dimensions 0 … 127 in order), or, for a flagged key, every centroid of its segment; the best exact score wins,
 *       ties to the lowest id, a key with no finite score takes the segment's first centroid.</li>
 * </ol>
 *
 * <p>The bound: the split drops lo·lo and the two parts' residues (each within 2⁻¹⁶|x|), together under
 * 3.1·2⁻¹⁶·Σ|kᵢcᵢ|; the tensor cores add the 384 exact products of a score in F32 with truncation, 24 chained
 * {@code mma} of 16 products each, under 24·17·2⁻²³·1.02·Σ|kᵢcᵢ|; the F32 FMA chain itself is within
 * γ₁₂₈ = 128·2⁻²⁴/(1 − 128·2⁻²⁴) of the real product. Together about 1.1e-4·‖k‖·‖c‖ (Cauchy–Schwarz), under a
 * quarter of ε = 2⁻¹¹ ≈ 4.9e-4. The band uses the largest centroid norm of the segment for every centroid.
 *
 * <p>Layout: F32 rows {@code [heads][rows][HEAD_DIM]}; split rows I32 {@code [heads][rows][HEAD_DIM / 2]} (word w holds
 * dimensions 2w and 2w + 1, the lower in bits 0-15); norms F32 {@code [heads][rows]}; candidates I32
 * {@code [heads][tokens][CANDIDATES]} (−1 where none); flags I32 {@code [heads][tokens]}. Heads stack along the grid's
 * y dimension ({@link KMeansShape#stacked}), as in {@link KMeansAssign}.
 *
 * <p>Fragments: a warp scores 16 keys against 8 centroids per {@code mma} tile. The dot product does not depend on the
 * order of the dimensions, so the kernel gives {@code mma}'s k index its own order: lane (g, t) of the warp holds, for
 * the pair p of k-steps, dimensions {@code 32p + 8t … 32p + 8t + 7} of its rows and column (one 16-byte load of four
 * words each), words 0 and 1 for the first k-step and 2 and 3 for the second. The block's 64 keys stay in registers
 * (16 four-word fragments a lane); the centroids stream through L1.
 */
public final class KMeansTensorAssign {
    /** Candidate slots per key: two per lane of the four that share a key row. */
    public static final int CANDIDATES = 8;
    /** Keys per {@link #candidates} block: four warps of 16. */
    public static final int KEYS = 64;
    public static final int THREADS = 128;
    /** Rows per {@link #split} block: a warp each. */
    public static final int SPLIT_ROWS = 8;
    /** ε / (‖k‖·‖c‖): the approximate score's error bound (see the class comment); the band is 2ε. */
    static final float EPSILON = 1f / 2048;
    private static final int WORDS = HEAD_DIM / 2;
    private static final int NONE = Integer.MAX_VALUE;
    private static final int WARPS = THREADS / KernelContext.WARP_SIZE;

    private KMeansTensorAssign() {}

    /** {@link #candidates}' grid over {@code segments} segments of {@code perSegment} keys. */
    public static Grid candidatesGrid(int segments, int perSegment) {
        return Grid.of(segments * ((perSegment + KEYS - 1) / KEYS), THREADS);
    }

    /** {@link #split}'s grid over {@code rows} rows a head. */
    public static Grid splitGrid(int rows) {
        return Grid.of((rows + SPLIT_ROWS - 1) / SPLIT_ROWS, SPLIT_ROWS * KernelContext.WARP_SIZE);
    }

    /** {@link #refine}'s grid: {@link #CANDIDATES} threads for each of {@code sorted} keys a head. */
    public static Grid refineGrid(int sorted) {
        return Grid.covering((long) sorted * CANDIDATES, 256);
    }

    /**
     * Each of a head's {@code rows} F32 rows as hi and lo words (hi = bf16(x), lo = bf16(x − hi), both rounded to
     * nearest) and its L2 norm (F32). A warp a row, four dimensions a lane. Launch on {@link #splitGrid}, stacked.
     */
    @Kernel
    public static void split(KernelContext ctx, F32Array source, int rows, I32Array hi, I32Array lo, F32Array norms) {
        int row = ctx.groupIdx * SPLIT_ROWS + ctx.warpId;
        if (row < rows) { // the same for the whole warp, so its shuffles below are reached by all lanes or none
            long index = (long) ctx.groupIdy * rows + row;
            long at = index * HEAD_DIM + 4L * ctx.laneId;
            float x0 = source.get(at), x1 = source.get(at + 1), x2 = source.get(at + 2), x3 = source.get(at + 3);
            float h0 = high(x0), h1 = high(x1), h2 = high(x2), h3 = high(x3);
            long word = index * WORDS + 2L * ctx.laneId;
            hi.set(word, KMath.packBf16x2(h0, h1));
            hi.set(word + 1, KMath.packBf16x2(h2, h3));
            lo.set(word, KMath.packBf16x2(x0 - h0, x1 - h1));
            lo.set(word + 1, KMath.packBf16x2(x2 - h2, x3 - h3));
            float squares = ctx.warpSum(x0 * x0 + x1 * x1 + x2 * x2 + x3 * x3);
            if (ctx.laneId == 0) {
                norms.set(index, (float) Math.sqrt(squares));
            }
        }
    }

    /**
     * The candidates of every key t of segment s (keys {@code [s·perSegment, (s+1)·perSegment)}, centroids
     * {@code [s·cps, (s+1)·cps)}) in each head of {@code tokens} keys and {@code clusters} centroids, from the split
     * keys and centroids and their norms: up to {@link #CANDIDATES} centroid ids, and a flag where the exact winner
     * may have been dropped. Launch on {@link #candidatesGrid}, stacked.
     */
    @Kernel
    public static void candidates(KernelContext ctx, I32Array keyHi, I32Array keyLo, F32Array keyNorms, I32Array centroidHi,
            I32Array centroidLo, F32Array centroidNorms, I32Array candidates, I32Array flags, int tokens, int clusters,
            int perSegment, int centroidsPerSegment) {
        float[] warpMax = ctx.allocateFloatLocalArray(WARPS);
        Int4 span = KMeansAssign.blockSpan(ctx.groupIdx, KEYS, perSegment, centroidsPerSegment);
        int keyFirst = span.x(), keyEnd = span.y(), centroidFirst = span.z(), centroidEnd = span.w();
        long keyBase = (long) ctx.groupIdy * tokens;
        long centroidBase = (long) ctx.groupIdy * clusters;

        // the largest centroid norm of the segment: one bound for every centroid's ε
        float norm = 0f;
        for (int c = centroidFirst + ctx.localIdx; c < centroidEnd; c += THREADS) {
            norm = Math.max(norm, centroidNorms.get(centroidBase + c));
        }
        norm = warpMax(ctx, norm);
        if (ctx.laneId == 0) {
            warpMax[ctx.warpId] = norm;
        }
        ctx.localBarrier();
        float largestNorm = Math.max(Math.max(warpMax[0], warpMax[1]), Math.max(warpMax[2], warpMax[3]));

        int g = ctx.laneId / 4, t = ctx.laneId % 4;
        int rowG = keyFirst + 16 * ctx.warpId + g, rowG8 = rowG + 8;
        if (keyFirst + 16 * ctx.warpId >= keyEnd) {
            return; // a whole warp past the tile's keys (after the block's one barrier)
        }
        // rows past the keys load the tile's first key: valid memory, and never written
        long wordsG = (keyBase + (rowG < keyEnd ? rowG : keyFirst)) * WORDS + 4 * t;
        long wordsG8 = (keyBase + (rowG8 < keyEnd ? rowG8 : keyFirst)) * WORDS + 4 * t;
        Int4 g0h = keyHi.getInt4(wordsG), g1h = keyHi.getInt4(wordsG + 16);
        Int4 g2h = keyHi.getInt4(wordsG + 32), g3h = keyHi.getInt4(wordsG + 48);
        Int4 g0l = keyLo.getInt4(wordsG), g1l = keyLo.getInt4(wordsG + 16);
        Int4 g2l = keyLo.getInt4(wordsG + 32), g3l = keyLo.getInt4(wordsG + 48);
        Int4 e0h = keyHi.getInt4(wordsG8), e1h = keyHi.getInt4(wordsG8 + 16);
        Int4 e2h = keyHi.getInt4(wordsG8 + 32), e3h = keyHi.getInt4(wordsG8 + 48);
        Int4 e0l = keyLo.getInt4(wordsG8), e1l = keyLo.getInt4(wordsG8 + 16);
        Int4 e2l = keyLo.getInt4(wordsG8 + 32), e3l = keyLo.getInt4(wordsG8 + 48);

        // rows g and g + 8 among this lane's columns: the two best approximate scores and the best one dropped
        // (Float4 best, second, dropped), and the two best's centroids (Int4 x, y)
        Float4 keptG = new Float4(Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f);
        Float4 keptG8 = keptG;
        Int4 idsG = new Int4(NONE, NONE, 0, 0), idsG8 = idsG;
        Float4 zero = new Float4(0f, 0f, 0f, 0f);
        for (int tile = centroidFirst; tile < centroidEnd; tile += 8) {
            int column = Math.min(tile + g, centroidEnd - 1); // columns past the segment load its last centroid
            long words = (centroidBase + column) * WORDS + 4 * t;
            Float4 acc = pair(ctx, zero, g0h, e0h, g0l, e0l, centroidHi.getInt4(words), centroidLo.getInt4(words));
            acc = pair(ctx, acc, g1h, e1h, g1l, e1l, centroidHi.getInt4(words + 16), centroidLo.getInt4(words + 16));
            acc = pair(ctx, acc, g2h, e2h, g2l, e2l, centroidHi.getInt4(words + 32), centroidLo.getInt4(words + 32));
            acc = pair(ctx, acc, g3h, e3h, g3l, e3l, centroidHi.getInt4(words + 48), centroidLo.getInt4(words + 48));
            int c0 = tile + 2 * t, c1 = c0 + 1;
            if (c0 < centroidEnd) {
                idsG = keptIds(keptG, idsG, acc.x(), c0);
                keptG = kept(keptG, acc.x());
                idsG8 = keptIds(keptG8, idsG8, acc.z(), c0);
                keptG8 = kept(keptG8, acc.z());
            }
            if (c1 < centroidEnd) {
                idsG = keptIds(keptG, idsG, acc.y(), c1);
                keptG = kept(keptG, acc.y());
                idsG8 = keptIds(keptG8, idsG8, acc.w(), c1);
                keptG8 = kept(keptG8, acc.w());
            }
        }
        choose(ctx, rowG, keyEnd, keyBase, t, keyNorms, largestNorm, keptG, idsG, candidates, flags);
        choose(ctx, rowG8, keyEnd, keyBase, t, keyNorms, largestNorm, keptG8, idsG8, candidates, flags);
    }

    /**
     * {@code kept} (best, second, dropped) after score {@code s}: above the best, it is the best and the best is second;
     * above the second, it is second; the score that leaves the two (the second, or {@code s} itself) counts toward the
     * dropped. Selects rather than branches, as the four lanes of a key row take different ones.
     */
    private static Float4 kept(Float4 kept, float s) {
        boolean aboveBest = s > kept.x(), aboveSecond = s > kept.y();
        float leaving = aboveSecond ? kept.y() : s;
        return new Float4(aboveBest ? s : kept.x(), aboveBest ? kept.x() : aboveSecond ? s : kept.y(),
                Math.max(kept.z(), leaving), 0f);
    }

    /** The centroids of {@link #kept}'s best and second (x, y) after centroid {@code c}'s score {@code s}. */
    private static Int4 keptIds(Float4 kept, Int4 ids, float s, int c) {
        boolean aboveBest = s > kept.x(), aboveSecond = s > kept.y();
        return new Int4(aboveBest ? c : ids.x(), aboveBest ? ids.x() : aboveSecond ? c : ids.y(), 0, 0);
    }

    /**
     * The exact winner of each key t < {@code sorted} among its candidates (all its segment's centroids if flagged),
     * scored as {@link KMeansAssign#nearest} scores; {@link #CANDIDATES} threads a key. Launch on {@link #refineGrid},
     * stacked.
     */
    @Kernel
    public static void refine(KernelContext ctx, F32Array keys, F32Array centroids, I32Array candidates, I32Array flags,
            I32Array assignment, int tokens, int clusters, int sorted, int perSegment, int centroidsPerSegment) {
        int key = ctx.globalIdx / CANDIDATES;
        int slot = ctx.globalIdx % CANDIDATES;
        long keyBase = (long) ctx.groupIdy * tokens;
        long centroidBase = (long) ctx.groupIdy * clusters;
        int first = key < sorted ? key / perSegment * centroidsPerSegment : 0;
        float best = Float.NEGATIVE_INFINITY;
        int id = NONE;
        if (key < sorted) {
            long keyAt = (keyBase + key) * HEAD_DIM;
            if (flags.get(keyBase + key) != 0) {
                for (int c = first + slot; c < first + centroidsPerSegment; c += CANDIDATES) {
                    float s = score(keys, keyAt, centroids, (centroidBase + c) * HEAD_DIM);
                    if (s > best) { best = s; id = c; }
                }
            } else {
                int c = candidates.get((keyBase + key) * CANDIDATES + slot);
                if (c >= 0) {
                    float s = score(keys, keyAt, centroids, (centroidBase + c) * HEAD_DIM);
                    if (s > best) { best = s; id = c; }
                }
            }
        }
        id = KMeansAssign.bestOfLanes(ctx, best, id, CANDIDATES); // the key's eight threads
        if (key < sorted && slot == 0) {
            assignment.set(keyBase + key, id == NONE ? first : id);
        }
    }

    /** {@code x} rounded to bfloat16 and back. */
    private static float high(float x) {
        return KMath.bf16ToFloat(KMath.floatToBf16(x));
    }

    /**
     * Adds a pair of k-steps (32 dimensions) of rows g, g + 8 against column g to {@code acc}: hi·hi + hi·lo + lo·hi,
     * each as two {@code mma}, words 0 and 1 of each fragment the first k-step, 2 and 3 the second.
     */
    static Float4 pair(KernelContext ctx, Float4 acc, Int4 gHi, Int4 g8Hi, Int4 gLo, Int4 g8Lo, Int4 cHi, Int4 cLo) {
        Float4 a = ctx.mmaBf16(acc, gHi.x(), g8Hi.x(), gHi.y(), g8Hi.y(), cHi.x(), cHi.y());
        a = ctx.mmaBf16(a, gHi.x(), g8Hi.x(), gHi.y(), g8Hi.y(), cLo.x(), cLo.y());
        a = ctx.mmaBf16(a, gLo.x(), g8Lo.x(), gLo.y(), g8Lo.y(), cHi.x(), cHi.y());
        a = ctx.mmaBf16(a, gHi.z(), g8Hi.z(), gHi.w(), g8Hi.w(), cHi.z(), cHi.w());
        a = ctx.mmaBf16(a, gHi.z(), g8Hi.z(), gHi.w(), g8Hi.w(), cLo.z(), cLo.w());
        return ctx.mmaBf16(a, gLo.z(), g8Lo.z(), gLo.w(), g8Lo.w(), cHi.z(), cHi.w());
    }

    /**
     * Row {@code row}'s candidates from the four lanes that share it (lane t writes slots 2t and 2t + 1): the kept
     * centroids within 2ε of the row's best approximate score; lane 0 flags the row where a lane dropped a score within
     * the band too, or where the bound is not finite. Every lane of the warp runs the shuffles, whether its row exists
     * or not.
     */
    private static void choose(KernelContext ctx, int row, int keyEnd, long keyBase, int t, F32Array keyNorms,
            float largestNorm, Float4 kept, Int4 ids, I32Array candidates, I32Array flags) {
        float best = kept.x(), second = kept.y(), dropped = kept.z();
        boolean exists = row < keyEnd;
        float top = Math.max(best, ctx.shuffleXor(best, 1));
        top = Math.max(top, ctx.shuffleXor(top, 2));
        float keyNorm = 0f;
        if (exists) {
            keyNorm = keyNorms.get(keyBase + row);
        }
        float band = 2 * EPSILON * keyNorm * largestNorm;
        float floor = top - band;
        boolean bounded = top > Float.NEGATIVE_INFINITY && top < Float.POSITIVE_INFINITY && band < Float.POSITIVE_INFINITY;
        int crowded = bounded && !(dropped >= floor) ? 0 : 1;
        crowded |= ctx.shuffleXor(crowded, 1);
        crowded |= ctx.shuffleXor(crowded, 2);
        if (exists) {
            long slots = (keyBase + row) * CANDIDATES + 2L * t;
            candidates.set(slots, best >= floor ? ids.x() : -1);
            candidates.set(slots + 1, second >= floor ? ids.y() : -1);
            if (t == 0) {
                flags.set(keyBase + row, crowded);
            }
        }
    }

    /** The largest of the warp's values. */
    private static float warpMax(KernelContext ctx, float value) {
        float m = value;
        for (int mask = KernelContext.WARP_SIZE / 2; mask > 0; mask >>= 1) {
            m = Math.max(m, ctx.shuffleXor(m, mask));
        }
        return m;
    }

    /** {@code key · centroid} as {@link KMeansAssign#nearest} computes it: F32 FMAs over dimensions 0 … 127 in order. */
    private static float score(F32Array keys, long keyAt, F32Array centroids, long centroidAt) {
        float acc = 0f;
        for (int d = 0; d < HEAD_DIM; d++) {
            acc = Math.fma(keys.get(keyAt + d), centroids.get(centroidAt + d), acc);
        }
        return acc;
    }
}
