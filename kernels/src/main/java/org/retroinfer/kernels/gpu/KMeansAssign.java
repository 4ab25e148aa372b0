package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.KMeansShape.ASSIGN_KEYS;
import static org.retroinfer.kernels.gpu.KMeansShape.ASSIGN_THREADS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The assignment step of the k-means (spec §1.2): each key joins the centroid of largest inner product, ties to
 * the lowest centroid id. Keys are cut into {@code segments} segments of {@code perSegment} keys and segment s is
 * scored against centroids {@code [s·cps, (s+1)·cps)} only; the global iteration is one segment of every key
 * against every centroid. Keys past {@code segments · perSegment} are not touched. Layout: {@link KMeansShape}
 * (F32 centred keys and F32 centroids, {@code [n][HEAD_DIM]}); grid {@link KMeansShape#assignGrid}.
 *
 * <p>Scoring is a matrix product, so it is tiled as one: a block of 256 threads owns 128 keys of one segment and
 * streams the segment's centroids through shared memory 128 at a time, 32 dimensions per stage; thread (ty, tx) of
 * the 16 × 16 block keeps 8 keys × 8 centroids of dot products in registers (keys 8ty … 8ty+7, centroids tx, tx+16,
 * …, tx+112 of the tile, so a warp's centroid reads hit 16 different banks and its key reads are two broadcasts),
 * 64 FMAs per 16 shared loads (the accel JIT has no vector shared loads, so the register tile is what bounds the
 * shared-memory traffic; {@link KMeansTensorAssign} gets the same result on tensor cores). The stages are stored dimension-major with a row of 129 floats,
 * so the transposing stores from global memory (a warp writes one key's 32 dimensions) fall in 32 different banks.
 * Each thread keeps the best centroid of its keys among its columns, scanning ids upwards with a strict
 * comparison; the 16 threads of a key row (half a warp) then combine with ties to the lower id. Dot products are
 * F32 FMAs over dimensions 0 … 127 in order, so equal centroids give bit-equal scores and a tie is a tie.
 *
 * <p>Several heads assign at once along the grid's y dimension ({@link KMeansShape#stacked}): head h's keys and
 * assignment follow head h − 1's {@code tokens}, its centroids head h − 1's {@code clusters}.
 */
public final class KMeansAssign {
    /** Dimensions per shared-memory stage. */
    private static final int STAGE = 32;
    /** Row length of a stage: one float of padding puts a warp's transposing stores in 32 banks. */
    private static final int ROW = ASSIGN_KEYS + 1;
    /** Threads along the centroids of the tile (and the lanes of half a warp). */
    private static final int COLUMNS = 16;
    /** Keys (rows) and centroids (columns) of the tile each thread scores. */
    private static final int KEYS_PER_THREAD = 8;
    /** The id of a key that has seen no score above −∞ (only NaN scores, never with finite keys and centroids). */
    private static final int NONE = Integer.MAX_VALUE;
    /** Rows of a stage the block's threads fill at once. */
    private static final int ROWS_PER_PASS = ASSIGN_THREADS / STAGE;
    /** Floats each thread moves into each stage array per stage. */
    private static final int LOADS = ASSIGN_KEYS * STAGE / ASSIGN_THREADS;

    private KMeansAssign() {}

    /**
     * {@code assignment[t]} = the id in {@code [s·cps, (s+1)·cps)} of the centroid of largest {@code keys[t]·c}
     * for every key t of segment s ({@code [s·perSegment, (s+1)·perSegment)}), ties to the lower id, in each head of
     * {@code tokens} keys and {@code clusters} centroids. Launch on {@link KMeansShape#assignGrid}{@code (segments,
     * perSegment)}, stacked.
     */
    @Kernel
    public static void nearest(KernelContext ctx, F32Array keys, F32Array centroids, I32Array assignment, int tokens,
            int clusters, int perSegment, int centroidsPerSegment) {
        float[] keyStage = ctx.allocateFloatLocalArray(STAGE * ROW);
        float[] centroidStage = ctx.allocateFloatLocalArray(STAGE * ROW);
        Int4 span = blockSpan(ctx.groupIdx, ASSIGN_KEYS, perSegment, centroidsPerSegment);
        int keyFirst = span.x(), keyEnd = span.y(), centroidFirst = span.z(), centroidEnd = span.w();
        int tx = ctx.localIdx % COLUMNS;
        int ty = ctx.localIdx / COLUMNS;
        float best0 = Float.NEGATIVE_INFINITY, best1 = Float.NEGATIVE_INFINITY;
        float best2 = Float.NEGATIVE_INFINITY, best3 = Float.NEGATIVE_INFINITY;
        float best4 = Float.NEGATIVE_INFINITY, best5 = Float.NEGATIVE_INFINITY;
        float best6 = Float.NEGATIVE_INFINITY, best7 = Float.NEGATIVE_INFINITY;
        int id0 = NONE, id1 = NONE, id2 = NONE, id3 = NONE, id4 = NONE, id5 = NONE, id6 = NONE, id7 = NONE;
        Float4 zero = new Float4(0f, 0f, 0f, 0f);
        // Staging: a warp moves 32 consecutive dimensions of one row (one 128-byte line), rows 8 apart per pass.
        int lane = ctx.localIdx % STAGE;
        int firstRow = ctx.localIdx / STAGE;
        long keyBase = (long) ctx.groupIdy * tokens;
        long centroidBase = (long) ctx.groupIdy * clusters * HEAD_DIM;
        long keyAt = (keyBase + keyFirst + firstRow) * HEAD_DIM + lane;
        for (int tile = centroidFirst; tile < centroidEnd; tile += ASSIGN_KEYS) {
            long centroidAt = centroidBase + (long) (tile + firstRow) * HEAD_DIM + lane;
            // acc{i}l: key i against the thread's centroids j = 0..3 of the tile, acc{i}h: j = 4..7
            Float4 acc0l = zero, acc0h = zero, acc1l = zero, acc1h = zero, acc2l = zero, acc2h = zero, acc3l = zero, acc3h = zero;
            Float4 acc4l = zero, acc4h = zero, acc5l = zero, acc5h = zero, acc6l = zero, acc6h = zero, acc7l = zero, acc7h = zero;
            for (int d0 = 0; d0 < HEAD_DIM; d0 += STAGE) {
                for (int r = 0; r < LOADS; r++) {
                    int row = firstRow + r * ROWS_PER_PASS;
                    long step = (long) r * ROWS_PER_PASS * HEAD_DIM + d0;
                    // rows past the segment's keys or centroids load 0: finite, and never written or chosen
                    keyStage[lane * ROW + row] = keyFirst + row < keyEnd ? keys.get(keyAt + step) : 0f;
                    centroidStage[lane * ROW + row] = tile + row < centroidEnd ? centroids.get(centroidAt + step) : 0f;
                }
                ctx.localBarrier();
                for (int dim = 0; dim < STAGE; dim++) {
                    int k = dim * ROW + KEYS_PER_THREAD * ty;
                    int c = dim * ROW + tx;
                    Float4 low = new Float4(centroidStage[c], centroidStage[c + COLUMNS], centroidStage[c + 2 * COLUMNS],
                            centroidStage[c + 3 * COLUMNS]);
                    Float4 high = new Float4(centroidStage[c + 4 * COLUMNS], centroidStage[c + 5 * COLUMNS],
                            centroidStage[c + 6 * COLUMNS], centroidStage[c + 7 * COLUMNS]);
                    float k0 = keyStage[k];
                    acc0l = fma(k0, low, acc0l);
                    acc0h = fma(k0, high, acc0h);
                    float k1 = keyStage[k + 1];
                    acc1l = fma(k1, low, acc1l);
                    acc1h = fma(k1, high, acc1h);
                    float k2 = keyStage[k + 2];
                    acc2l = fma(k2, low, acc2l);
                    acc2h = fma(k2, high, acc2h);
                    float k3 = keyStage[k + 3];
                    acc3l = fma(k3, low, acc3l);
                    acc3h = fma(k3, high, acc3h);
                    float k4 = keyStage[k + 4];
                    acc4l = fma(k4, low, acc4l);
                    acc4h = fma(k4, high, acc4h);
                    float k5 = keyStage[k + 5];
                    acc5l = fma(k5, low, acc5l);
                    acc5h = fma(k5, high, acc5h);
                    float k6 = keyStage[k + 6];
                    acc6l = fma(k6, low, acc6l);
                    acc6h = fma(k6, high, acc6h);
                    float k7 = keyStage[k + 7];
                    acc7l = fma(k7, low, acc7l);
                    acc7h = fma(k7, high, acc7h);
                }
                ctx.localBarrier();
            }
            // The thread's columns j < valid exist; ids ascend with j and with the tile, and a strict > keeps the lowest.
            int remaining = centroidEnd - tile - tx;
            int valid = remaining <= 0 ? 0 : Math.min(KEYS_PER_THREAD, (remaining + COLUMNS - 1) / COLUMNS);
            int column = tile + tx;
            float s = bestOf(acc0l, acc0h, valid);
            if (s > best0) { best0 = s; id0 = column + COLUMNS * firstIndexOf(acc0l, acc0h, s); }
            s = bestOf(acc1l, acc1h, valid);
            if (s > best1) { best1 = s; id1 = column + COLUMNS * firstIndexOf(acc1l, acc1h, s); }
            s = bestOf(acc2l, acc2h, valid);
            if (s > best2) { best2 = s; id2 = column + COLUMNS * firstIndexOf(acc2l, acc2h, s); }
            s = bestOf(acc3l, acc3h, valid);
            if (s > best3) { best3 = s; id3 = column + COLUMNS * firstIndexOf(acc3l, acc3h, s); }
            s = bestOf(acc4l, acc4h, valid);
            if (s > best4) { best4 = s; id4 = column + COLUMNS * firstIndexOf(acc4l, acc4h, s); }
            s = bestOf(acc5l, acc5h, valid);
            if (s > best5) { best5 = s; id5 = column + COLUMNS * firstIndexOf(acc5l, acc5h, s); }
            s = bestOf(acc6l, acc6h, valid);
            if (s > best6) { best6 = s; id6 = column + COLUMNS * firstIndexOf(acc6l, acc6h, s); }
            s = bestOf(acc7l, acc7h, valid);
            if (s > best7) { best7 = s; id7 = column + COLUMNS * firstIndexOf(acc7l, acc7h, s); }
        }
        id0 = bestOfLanes(ctx, best0, id0, COLUMNS);
        id1 = bestOfLanes(ctx, best1, id1, COLUMNS);
        id2 = bestOfLanes(ctx, best2, id2, COLUMNS);
        id3 = bestOfLanes(ctx, best3, id3, COLUMNS);
        id4 = bestOfLanes(ctx, best4, id4, COLUMNS);
        id5 = bestOfLanes(ctx, best5, id5, COLUMNS);
        id6 = bestOfLanes(ctx, best6, id6, COLUMNS);
        id7 = bestOfLanes(ctx, best7, id7, COLUMNS);
        int key = keyFirst + KEYS_PER_THREAD * ty;
        // Thread tx = i of the row writes key i. A key whose every score was NaN has no id: it takes the block's first.
        if (tx < KEYS_PER_THREAD && key + tx < keyEnd) {
            int id = tx == 0 ? id0 : tx == 1 ? id1 : tx == 2 ? id2 : tx == 3 ? id3 : tx == 4 ? id4 : tx == 5 ? id5
                    : tx == 6 ? id6 : id7;
            assignment.set(keyBase + key + tx, id == NONE ? centroidFirst : id);
        }
    }

    /**
     * What block {@code block} of an assignment grid of {@code keys} keys a block works on: its keys
     * {@code [x, y)} and its segment's centroids {@code [z, w)}, the blocks of a segment consecutive.
     */
    static Int4 blockSpan(int block, int keys, int perSegment, int centroidsPerSegment) {
        int tilesPerSegment = (perSegment + keys - 1) / keys;
        int segment = block / tilesPerSegment;
        int keyFirst = segment * perSegment + (block - segment * tilesPerSegment) * keys;
        int centroidFirst = segment * centroidsPerSegment;
        return new Int4(keyFirst, Math.min(keyFirst + keys, (segment + 1) * perSegment), centroidFirst,
                centroidFirst + centroidsPerSegment);
    }

    private static Float4 fma(float k, Float4 c, Float4 acc) {
        return new Float4(Math.fma(k, c.x(), acc.x()), Math.fma(k, c.y(), acc.y()), Math.fma(k, c.z(), acc.z()),
                Math.fma(k, c.w(), acc.w()));
    }

    /** The largest of the first {@code valid} of the eight scores (−∞ if none; NaN never wins). */
    private static float bestOf(Float4 low, Float4 high, int valid) {
        float best = Float.NEGATIVE_INFINITY;
        if (valid > 0 && low.x() > best) best = low.x();
        if (valid > 1 && low.y() > best) best = low.y();
        if (valid > 2 && low.z() > best) best = low.z();
        if (valid > 3 && low.w() > best) best = low.w();
        if (valid > 4 && high.x() > best) best = high.x();
        if (valid > 5 && high.y() > best) best = high.y();
        if (valid > 6 && high.z() > best) best = high.z();
        if (valid > 7 && high.w() > best) best = high.w();
        return best;
    }

    /** The first of the eight scores equal to {@code score} (which {@link #bestOf} took from the valid ones). */
    private static int firstIndexOf(Float4 low, Float4 high, float score) {
        return low.x() == score ? 0 : low.y() == score ? 1 : low.z() == score ? 2 : low.w() == score ? 3
                : high.x() == score ? 4 : high.y() == score ? 5 : high.z() == score ? 6 : 7;
    }

    /**
     * The id of the best (score, id) over each run of {@code lanes} lanes (lanes with equal {@code laneId / lanes}, a
     * power of two): the larger score, or the lower id of equal scores. Here 16, the threads of a key row.
     */
    static int bestOfLanes(KernelContext ctx, float best, int id, int lanes) {
        float score = best;
        int winner = id;
        for (int mask = lanes / 2; mask > 0; mask >>= 1) {
            float otherScore = ctx.shuffleXor(score, mask);
            int otherId = ctx.shuffleXor(winner, mask);
            if (otherScore > score || otherScore == score && otherId < winner) {
                score = otherScore;
                winner = otherId;
            }
        }
        return winner;
    }
}
