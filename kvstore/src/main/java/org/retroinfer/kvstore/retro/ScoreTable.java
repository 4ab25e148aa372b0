package org.retroinfer.kvstore.retro;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.INT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The inner product of every key of a range with every centroid of a block, kept across k-means
 * iterations so that an iteration scores only the centroids that changed.
 *
 * <p>After the first few iterations most clusters keep their members, so their centroids come out
 * of the update bit for bit the same (the same members summed in the same order), and an inner
 * product with an unchanged centroid is the float it was. On the benchmark model's 8K keys and 512
 * centroids, 3% of the centroids are unchanged before the third assignment, 54% before the seventh
 * and 76% before the tenth, which saves a third of the inner products of ten iterations. Bounds on
 * how far a score can move (Hamerly, Elkan) skip less under the same exactness: with the largest
 * centroid move they skip almost nothing, per 16-centroid block 24%, and per centroid they leave
 * gathers instead of a register tile.
 *
 * <p>Results are bit for bit those of {@link MaxInnerProduct#assign}: every score is the same
 * single chain of fused multiply-adds over coordinates 0 … d−1 from +0 (the product of key and
 * centroid coordinate commutes), and the argmax visits centroids in ascending order with a strict
 * comparison, so ties go to the lowest index, NaN never wins, and a key whose scores are all NaN or
 * −∞ goes to centroid 0. {@code MaxInnerProduct} scores a range's last (length mod 4) keys with two
 * chains instead, so the caller leaves those keys out of the table.
 *
 * <p>Here the lanes hold keys rather than centroids: keys are transposed once, in vectors of as many
 * keys as a float vector has lanes, and each centroid coordinate is broadcast. A centroid's scores
 * then form whole vectors of the table, written without scatter, and the argmax of a key vector is
 * a lane-wise running maximum over the centroids. The register tile is 4 key vectors × 4 centroids,
 * as in {@code MaxInnerProduct}; one group of 4 key vectors has its table rows (4·L·centroids
 * floats, 128 KiB at 512 centroids and L = 16) scored and then read back while still in L2.
 */
final class ScoreTable {
    private static final int L = FLOAT.length();
    /** Key vectors per group: the rows of the register tile. */
    private static final int GROUP = 4;

    private final int headDim;
    private final int keys;
    private final int groups;
    private final int columns;
    /** Key v·L + lane, coordinate i, at {@code transposedKeys[(v·headDim + i)·L + lane]}; zero keys pad the last group. */
    private final float[] transposedKeys;
    /** The score of key v·L + lane and centroid j at {@code scores[(v·columns + j)·L + lane]}. */
    private final float[] scores;

    /** The table size in floats for {@code keys} keys and {@code columns} centroids, padding included. */
    static long floats(int keys, int columns) {
        return (long) groupsFor(keys) * GROUP * L * columns;
    }

    /** Keys {@code keys[(first + t)·headDim ..]} for t < count, against {@code columns} centroids. */
    ScoreTable(float[] keys, int first, int count, int columns, int headDim) {
        this.headDim = headDim;
        this.keys = count;
        this.groups = groupsFor(count);
        this.columns = columns;
        this.transposedKeys = new float[groups * GROUP * headDim * L];
        this.scores = new float[Math.toIntExact(floats(count, columns))];
        for (int t = 0; t < count; t++) {
            int v = t / L;
            int lane = t % L;
            int src = (first + t) * headDim;
            for (int i = 0; i < headDim; i++) {
                transposedKeys[(v * headDim + i) * L + lane] = keys[src + i];
            }
        }
    }

    private static int groupsFor(int keys) {
        return (keys + GROUP * L - 1) / (GROUP * L);
    }

    /**
     * Rescores centroids {@code changed[0 .. changedCount)} (indexes among the table's columns, the
     * centroid of column j at {@code centroids[(firstCentroid + j)·headDim ..]}), then sets
     * {@code assignment[assignmentFirst + t] = base + argmax_j score(t, j)} for every key t, over at
     * most {@code parts} parts. A column keeps the scores of its last rescoring, so the first
     * refresh names every column. Returns the number of inner products computed.
     */
    long refresh(float[] centroids, int firstCentroid, int[] changed, int changedCount, int[] assignment,
                 int assignmentFirst, int base, int parts) {
        SplitWork.run(groups, parts, (start, end) -> {
            int[] lanes = new int[L];
            for (int g = start; g < end; g++) {
                int v = g * GROUP;
                int q = 0;
                for (; q <= changedCount - 4; q += 4) {
                    score4(centroids, firstCentroid, changed, q, v);
                }
                for (; q < changedCount; q++) {
                    score1(centroids, (firstCentroid + changed[q]) * headDim, changed[q], v);
                }
                for (int r = 0; r < GROUP && (v + r) * L < keys; r++) {
                    argmax(v + r, lanes);
                    int t0 = (v + r) * L;
                    for (int lane = 0; lane < L && t0 + lane < keys; lane++) {
                        assignment[assignmentFirst + t0 + lane] = base + lanes[lane];
                    }
                }
            }
        });
        return (long) keys * changedCount;
    }

    /** Key vectors v … v+3 against centroids changed[q … q+3]. */
    private void score4(float[] centroids, int firstCentroid, int[] changed, int q, int v) {
        int j0 = changed[q], j1 = changed[q + 1], j2 = changed[q + 2], j3 = changed[q + 3];
        int c0 = (firstCentroid + j0) * headDim, c1 = (firstCentroid + j1) * headDim;
        int c2 = (firstCentroid + j2) * headDim, c3 = (firstCentroid + j3) * headDim;
        int k0 = v * headDim * L, k1 = k0 + headDim * L, k2 = k1 + headDim * L, k3 = k2 + headDim * L;
        FloatVector a00 = FloatVector.zero(FLOAT), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int i = 0; i < headDim; i++) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, transposedKeys, k0 + i * L);
            FloatVector x1 = FloatVector.fromArray(FLOAT, transposedKeys, k1 + i * L);
            FloatVector x2 = FloatVector.fromArray(FLOAT, transposedKeys, k2 + i * L);
            FloatVector x3 = FloatVector.fromArray(FLOAT, transposedKeys, k3 + i * L);
            FloatVector c = FloatVector.broadcast(FLOAT, centroids[c0 + i]);
            a00 = x0.fma(c, a00);
            a10 = x1.fma(c, a10);
            a20 = x2.fma(c, a20);
            a30 = x3.fma(c, a30);
            c = FloatVector.broadcast(FLOAT, centroids[c1 + i]);
            a01 = x0.fma(c, a01);
            a11 = x1.fma(c, a11);
            a21 = x2.fma(c, a21);
            a31 = x3.fma(c, a31);
            c = FloatVector.broadcast(FLOAT, centroids[c2 + i]);
            a02 = x0.fma(c, a02);
            a12 = x1.fma(c, a12);
            a22 = x2.fma(c, a22);
            a32 = x3.fma(c, a32);
            c = FloatVector.broadcast(FLOAT, centroids[c3 + i]);
            a03 = x0.fma(c, a03);
            a13 = x1.fma(c, a13);
            a23 = x2.fma(c, a23);
            a33 = x3.fma(c, a33);
        }
        int r0 = v * columns * L, r1 = r0 + columns * L, r2 = r1 + columns * L, r3 = r2 + columns * L;
        a00.intoArray(scores, r0 + j0 * L);
        a01.intoArray(scores, r0 + j1 * L);
        a02.intoArray(scores, r0 + j2 * L);
        a03.intoArray(scores, r0 + j3 * L);
        a10.intoArray(scores, r1 + j0 * L);
        a11.intoArray(scores, r1 + j1 * L);
        a12.intoArray(scores, r1 + j2 * L);
        a13.intoArray(scores, r1 + j3 * L);
        a20.intoArray(scores, r2 + j0 * L);
        a21.intoArray(scores, r2 + j1 * L);
        a22.intoArray(scores, r2 + j2 * L);
        a23.intoArray(scores, r2 + j3 * L);
        a30.intoArray(scores, r3 + j0 * L);
        a31.intoArray(scores, r3 + j1 * L);
        a32.intoArray(scores, r3 + j2 * L);
        a33.intoArray(scores, r3 + j3 * L);
    }

    /** Key vectors v … v+3 against the centroid at {@code centroids[c ..]}, column j. */
    private void score1(float[] centroids, int c, int j, int v) {
        int k0 = v * headDim * L, k1 = k0 + headDim * L, k2 = k1 + headDim * L, k3 = k2 + headDim * L;
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < headDim; i++) {
            FloatVector x = FloatVector.broadcast(FLOAT, centroids[c + i]);
            a0 = FloatVector.fromArray(FLOAT, transposedKeys, k0 + i * L).fma(x, a0);
            a1 = FloatVector.fromArray(FLOAT, transposedKeys, k1 + i * L).fma(x, a1);
            a2 = FloatVector.fromArray(FLOAT, transposedKeys, k2 + i * L).fma(x, a2);
            a3 = FloatVector.fromArray(FLOAT, transposedKeys, k3 + i * L).fma(x, a3);
        }
        int r0 = v * columns * L;
        a0.intoArray(scores, r0 + j * L);
        a1.intoArray(scores, r0 + (columns + j) * L);
        a2.intoArray(scores, r0 + (2 * columns + j) * L);
        a3.intoArray(scores, r0 + (3 * columns + j) * L);
    }

    /** {@code best[lane]} = the first column of largest score of key v·L + lane (0 if none beats −∞). */
    private void argmax(int v, int[] best) {
        FloatVector max = FloatVector.broadcast(FLOAT, Float.NEGATIVE_INFINITY);
        IntVector index = IntVector.zero(INT);
        int row = v * columns * L;
        for (int j = 0; j < columns; j++) {
            FloatVector s = FloatVector.fromArray(FLOAT, scores, row + j * L);
            VectorMask<Float> w = s.compare(VectorOperators.GT, max);
            max = max.blend(s, w);
            index = index.blend(j, w.cast(INT));
        }
        index.intoArray(best, 0);
    }
}
