package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.KMeansShape.ASSIGN_KEYS;
import static org.retroinfer.kernels.gpu.KMeansShape.ASSIGN_THREADS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The assignment step of the k-means (spec §1.2): each key joins the centroid of largest inner product, ties to
 * the lowest centroid id. Keys are cut into {@code segments} segments of {@code perSegment} keys and segment s is
 * scored against centroids {@code [s·cps, (s+1)·cps)} only; the global iteration is one segment of every key
 * against every centroid. Keys past {@code segments · perSegment} are not touched. Layout: {@link KMeansShape}
 * (F32 centred keys and F32 centroids, {@code [n][HEAD_DIM]}); grid {@link KMeansShape#assignGrid}.
 *
 * <p>Scoring is a matrix product, so it is tiled as one: a block of 256 threads owns 64 keys of one segment and
 * streams the segment's centroids through shared memory 64 at a time, 32 dimensions per stage; thread (ty, tx) of
 * the 16 × 16 block keeps 4 keys × 4 centroids of dot products in registers (keys 4ty … 4ty+3, centroids tx,
 * tx+16, tx+32, tx+48 of the tile, so a warp's centroid reads hit 16 different banks and its key reads are two
 * broadcasts), 16 FMAs per 8 shared loads. The stages are stored dimension-major with a row of 65 floats, so the
 * transposing stores from global memory (a warp writes one key's 32 dimensions) fall in 32 different banks.
 * Each thread keeps the best centroid of its keys among its columns, scanning ids upwards with a strict
 * comparison; the 16 threads of a key row (half a warp) then combine with ties to the lower id. Dot products are
 * F32 FMAs over dimensions 0 … 127 in order, so equal centroids give bit-equal scores and a tie is a tie.
 */
public final class KMeansAssign {
    /** Dimensions per shared-memory stage. */
    private static final int STAGE = 32;
    /** Row length of a stage: one float of padding puts a warp's transposing stores in 32 banks. */
    private static final int ROW = ASSIGN_KEYS + 1;
    /** Threads along the centroids of the tile (and the lanes of half a warp). */
    private static final int COLUMNS = 16;
    /** Floats each thread moves into each stage array per stage. */
    private static final int LOADS = ASSIGN_KEYS * STAGE / ASSIGN_THREADS;

    private KMeansAssign() {}

    /**
     * {@code assignment[t]} = the id in {@code [s·cps, (s+1)·cps)} of the centroid of largest {@code keys[t]·c}
     * for every key t of segment s ({@code [s·perSegment, (s+1)·perSegment)}), ties to the lower id. Launch on
     * {@link KMeansShape#assignGrid}{@code (segments, perSegment)}.
     */
    @Kernel
    public static void nearest(KernelContext ctx, F32Array keys, F32Array centroids, I32Array assignment, int perSegment,
            int centroidsPerSegment) {
        float[] keyStage = ctx.allocateFloatLocalArray(STAGE * ROW);
        float[] centroidStage = ctx.allocateFloatLocalArray(STAGE * ROW);
        int tilesPerSegment = (perSegment + ASSIGN_KEYS - 1) / ASSIGN_KEYS;
        int segment = ctx.groupIdx / tilesPerSegment;
        int keyFirst = segment * perSegment + (ctx.groupIdx - segment * tilesPerSegment) * ASSIGN_KEYS;
        int keyEnd = Math.min(keyFirst + ASSIGN_KEYS, (segment + 1) * perSegment);
        int centroidFirst = segment * centroidsPerSegment;
        int centroidEnd = centroidFirst + centroidsPerSegment;
        int tx = ctx.localIdx % COLUMNS;
        int ty = ctx.localIdx / COLUMNS;
        float best0 = Float.NEGATIVE_INFINITY, best1 = Float.NEGATIVE_INFINITY;
        float best2 = Float.NEGATIVE_INFINITY, best3 = Float.NEGATIVE_INFINITY;
        int id0 = Integer.MAX_VALUE, id1 = Integer.MAX_VALUE, id2 = Integer.MAX_VALUE, id3 = Integer.MAX_VALUE;
        for (int tile = centroidFirst; tile < centroidEnd; tile += ASSIGN_KEYS) {
            float a00 = 0f, a01 = 0f, a02 = 0f, a03 = 0f, a10 = 0f, a11 = 0f, a12 = 0f, a13 = 0f;
            float a20 = 0f, a21 = 0f, a22 = 0f, a23 = 0f, a30 = 0f, a31 = 0f, a32 = 0f, a33 = 0f;
            for (int d0 = 0; d0 < HEAD_DIM; d0 += STAGE) {
                for (int r = 0; r < LOADS; r++) {
                    int e = ctx.localIdx + r * ASSIGN_THREADS;
                    int row = e / STAGE;
                    int dim = e - row * STAGE;
                    int key = keyFirst + row;
                    int centroid = tile + row;
                    // rows past the segment's keys or centroids load 0: finite, and never written or chosen
                    keyStage[dim * ROW + row] = key < keyEnd ? keys.get((long) key * HEAD_DIM + d0 + dim) : 0f;
                    centroidStage[dim * ROW + row] =
                            centroid < centroidEnd ? centroids.get((long) centroid * HEAD_DIM + d0 + dim) : 0f;
                }
                ctx.localBarrier();
                for (int dim = 0; dim < STAGE; dim++) {
                    int k = dim * ROW + 4 * ty;
                    int c = dim * ROW + tx;
                    float k0 = keyStage[k], k1 = keyStage[k + 1], k2 = keyStage[k + 2], k3 = keyStage[k + 3];
                    float c0 = centroidStage[c], c1 = centroidStage[c + COLUMNS];
                    float c2 = centroidStage[c + 2 * COLUMNS], c3 = centroidStage[c + 3 * COLUMNS];
                    a00 = Math.fma(k0, c0, a00);
                    a01 = Math.fma(k0, c1, a01);
                    a02 = Math.fma(k0, c2, a02);
                    a03 = Math.fma(k0, c3, a03);
                    a10 = Math.fma(k1, c0, a10);
                    a11 = Math.fma(k1, c1, a11);
                    a12 = Math.fma(k1, c2, a12);
                    a13 = Math.fma(k1, c3, a13);
                    a20 = Math.fma(k2, c0, a20);
                    a21 = Math.fma(k2, c1, a21);
                    a22 = Math.fma(k2, c2, a22);
                    a23 = Math.fma(k2, c3, a23);
                    a30 = Math.fma(k3, c0, a30);
                    a31 = Math.fma(k3, c1, a31);
                    a32 = Math.fma(k3, c2, a32);
                    a33 = Math.fma(k3, c3, a33);
                }
                ctx.localBarrier();
            }
            // Columns in increasing id order with a strict >: the lowest id of a tie stays.
            int col = tile + tx;
            if (col < centroidEnd) {
                if (a00 > best0) { best0 = a00; id0 = col; }
                if (a10 > best1) { best1 = a10; id1 = col; }
                if (a20 > best2) { best2 = a20; id2 = col; }
                if (a30 > best3) { best3 = a30; id3 = col; }
            }
            col += COLUMNS;
            if (col < centroidEnd) {
                if (a01 > best0) { best0 = a01; id0 = col; }
                if (a11 > best1) { best1 = a11; id1 = col; }
                if (a21 > best2) { best2 = a21; id2 = col; }
                if (a31 > best3) { best3 = a31; id3 = col; }
            }
            col += COLUMNS;
            if (col < centroidEnd) {
                if (a02 > best0) { best0 = a02; id0 = col; }
                if (a12 > best1) { best1 = a12; id1 = col; }
                if (a22 > best2) { best2 = a22; id2 = col; }
                if (a32 > best3) { best3 = a32; id3 = col; }
            }
            col += COLUMNS;
            if (col < centroidEnd) {
                if (a03 > best0) { best0 = a03; id0 = col; }
                if (a13 > best1) { best1 = a13; id1 = col; }
                if (a23 > best2) { best2 = a23; id2 = col; }
                if (a33 > best3) { best3 = a33; id3 = col; }
            }
        }
        id0 = bestOfRow(ctx, best0, id0);
        id1 = bestOfRow(ctx, best1, id1);
        id2 = bestOfRow(ctx, best2, id2);
        id3 = bestOfRow(ctx, best3, id3);
        int key = keyFirst + 4 * ty;
        // Thread tx = i of the row writes key i. A key whose every score was NaN keeps no id: it takes the block's first.
        if (tx < 4 && key + tx < keyEnd) {
            int id = tx == 0 ? id0 : tx == 1 ? id1 : tx == 2 ? id2 : id3;
            assignment.set(key + tx, id == Integer.MAX_VALUE ? centroidFirst : id);
        }
    }

    /**
     * The id of the best (score, id) over the 16 threads of a key row (lanes with equal {@code laneId / 16}):
     * the larger score, or the lower id of equal scores.
     */
    private static int bestOfRow(KernelContext ctx, float best, int id) {
        float score = best;
        int winner = id;
        for (int mask = COLUMNS / 2; mask > 0; mask >>= 1) {
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
