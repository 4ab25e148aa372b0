package org.retroinfer.kvstore.retro;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.INT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The k-means assignment step of spec §1.2: each key goes to the centroid of largest inner product
 * (MIPS, not L2 distance), ties to the lowest centroid index.
 *
 * <p>The centroids are transposed into blocks of as many centroids as a float vector has lanes,
 * dimension-major, so that one FMA scores a whole block against one key coordinate broadcast to
 * every lane: no horizontal sums in the inner loop. The register tile is 4 keys × 4 blocks (16 FMA
 * chains, 4 vector loads and 4 broadcasts per 16 FMAs; 4 × 2 ran about 15% slower single-threaded
 * on 8K keys and 512 centroids, Zen 5 with AVX-512); blocks are visited in chunks that stay in
 * L2 while a range of keys passes over them. Lanes past the last centroid start at −∞ and so never
 * win.
 *
 * <p>{@link ScoreTable} reuses scores across iterations and must reproduce these bit for bit: a
 * change to the order of the sums here is a change there too.
 */
final class MaxInnerProduct {
    private static final int L = FLOAT.length();
    /**
     * Blocks of centroids per cache chunk: 64 × L × d floats (512 KiB at d = 128, L = 16), which
     * stay in L2 while a range of keys passes. On a shared 2-core Zen 5 (AVX-512) machine, after
     * warm-up, 64 blocks ran at about 60 GFMA/s per core and 16 blocks at about 45.
     */
    private static final int CHUNK_BLOCKS = 64;

    private final int headDim;
    private final int blocks;
    /** Centroid b·L + j, coordinate i, at {@code transposed[(b·headDim + i)·L + j]}. */
    private final float[] transposed;
    /** 0 for lanes holding a centroid, −∞ for the padding of the last block. */
    private final float[] bias;

    /** Centroids {@code centroids[(first + c)·headDim ..]} for c < count. */
    MaxInnerProduct(float[] centroids, int first, int count, int headDim) {
        this.headDim = headDim;
        this.blocks = (count + L - 1) / L;
        this.transposed = new float[blocks * headDim * L];
        this.bias = new float[blocks * L];
        for (int c = 0; c < blocks * L; c++) {
            int b = c / L;
            int lane = c % L;
            if (c >= count) {
                bias[c] = Float.NEGATIVE_INFINITY;
                continue;
            }
            int src = (first + c) * headDim;
            for (int i = 0; i < headDim; i++) {
                transposed[(b * headDim + i) * L + lane] = centroids[src + i];
            }
        }
    }

    /**
     * {@code assignment[t] = base + argmax_c key_t · centroid_c} for keys t in [from, to), key t at
     * {@code keys[t·headDim ..]}.
     */
    void assign(float[] keys, int from, int to, int[] assignment, int base) {
        int n = to - from;
        float[] bestValue = new float[n];
        int[] bestIndex = new int[n];
        java.util.Arrays.fill(bestValue, Float.NEGATIVE_INFINITY);
        for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
            int b1 = Math.min(blocks, b0 + CHUNK_BLOCKS);
            int t = from;
            for (; t <= to - 4; t += 4) {
                chunk4(keys, t, b0, b1, bestValue, bestIndex, t - from);
            }
            for (; t < to; t++) {
                chunk1(keys, t, b0, b1, bestValue, bestIndex, t - from);
            }
        }
        for (int i = 0; i < n; i++) {
            assignment[from + i] = base + bestIndex[i];
        }
    }

    /** Four keys against blocks [b0, b1): the running best of each key updated in its lanes, then reduced. */
    private void chunk4(float[] keys, int t, int b0, int b1, float[] bestValue, int[] bestIndex, int slot) {
        int k0 = t * headDim, k1 = k0 + headDim, k2 = k1 + headDim, k3 = k2 + headDim;
        FloatVector m0 = FloatVector.broadcast(FLOAT, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        IntVector i0 = IntVector.zero(INT), i1 = i0, i2 = i0, i3 = i0;
        int b = b0;
        for (; b <= b1 - 4; b += 4) {
            int c0 = b * headDim * L, c1 = c0 + headDim * L, c2 = c1 + headDim * L, c3 = c2 + headDim * L;
            FloatVector bias0 = FloatVector.fromArray(FLOAT, bias, b * L);
            FloatVector bias1 = FloatVector.fromArray(FLOAT, bias, (b + 1) * L);
            FloatVector bias2 = FloatVector.fromArray(FLOAT, bias, (b + 2) * L);
            FloatVector bias3 = FloatVector.fromArray(FLOAT, bias, (b + 3) * L);
            FloatVector a00 = bias0, a01 = bias1, a02 = bias2, a03 = bias3;
            FloatVector a10 = bias0, a11 = bias1, a12 = bias2, a13 = bias3;
            FloatVector a20 = bias0, a21 = bias1, a22 = bias2, a23 = bias3;
            FloatVector a30 = bias0, a31 = bias1, a32 = bias2, a33 = bias3;
            for (int i = 0; i < headDim; i++) {
                FloatVector x0 = FloatVector.fromArray(FLOAT, transposed, c0 + i * L);
                FloatVector x1 = FloatVector.fromArray(FLOAT, transposed, c1 + i * L);
                FloatVector x2 = FloatVector.fromArray(FLOAT, transposed, c2 + i * L);
                FloatVector x3 = FloatVector.fromArray(FLOAT, transposed, c3 + i * L);
                FloatVector q = FloatVector.broadcast(FLOAT, keys[k0 + i]);
                a00 = x0.fma(q, a00);
                a01 = x1.fma(q, a01);
                a02 = x2.fma(q, a02);
                a03 = x3.fma(q, a03);
                q = FloatVector.broadcast(FLOAT, keys[k1 + i]);
                a10 = x0.fma(q, a10);
                a11 = x1.fma(q, a11);
                a12 = x2.fma(q, a12);
                a13 = x3.fma(q, a13);
                q = FloatVector.broadcast(FLOAT, keys[k2 + i]);
                a20 = x0.fma(q, a20);
                a21 = x1.fma(q, a21);
                a22 = x2.fma(q, a22);
                a23 = x3.fma(q, a23);
                q = FloatVector.broadcast(FLOAT, keys[k3 + i]);
                a30 = x0.fma(q, a30);
                a31 = x1.fma(q, a31);
                a32 = x2.fma(q, a32);
                a33 = x3.fma(q, a33);
            }
            IntVector ids0 = IntVector.broadcast(INT, b * L).addIndex(1);
            IntVector ids1 = IntVector.broadcast(INT, (b + 1) * L).addIndex(1);
            IntVector ids2 = IntVector.broadcast(INT, (b + 2) * L).addIndex(1);
            IntVector ids3 = IntVector.broadcast(INT, (b + 3) * L).addIndex(1);
            // Blocks in ascending order, strict comparisons: a lane keeps its lowest winning index.
            VectorMask<Float> w;
            w = a00.compare(VectorOperators.GT, m0); m0 = m0.blend(a00, w); i0 = i0.blend(ids0, w.cast(INT));
            w = a01.compare(VectorOperators.GT, m0); m0 = m0.blend(a01, w); i0 = i0.blend(ids1, w.cast(INT));
            w = a02.compare(VectorOperators.GT, m0); m0 = m0.blend(a02, w); i0 = i0.blend(ids2, w.cast(INT));
            w = a03.compare(VectorOperators.GT, m0); m0 = m0.blend(a03, w); i0 = i0.blend(ids3, w.cast(INT));
            w = a10.compare(VectorOperators.GT, m1); m1 = m1.blend(a10, w); i1 = i1.blend(ids0, w.cast(INT));
            w = a11.compare(VectorOperators.GT, m1); m1 = m1.blend(a11, w); i1 = i1.blend(ids1, w.cast(INT));
            w = a12.compare(VectorOperators.GT, m1); m1 = m1.blend(a12, w); i1 = i1.blend(ids2, w.cast(INT));
            w = a13.compare(VectorOperators.GT, m1); m1 = m1.blend(a13, w); i1 = i1.blend(ids3, w.cast(INT));
            w = a20.compare(VectorOperators.GT, m2); m2 = m2.blend(a20, w); i2 = i2.blend(ids0, w.cast(INT));
            w = a21.compare(VectorOperators.GT, m2); m2 = m2.blend(a21, w); i2 = i2.blend(ids1, w.cast(INT));
            w = a22.compare(VectorOperators.GT, m2); m2 = m2.blend(a22, w); i2 = i2.blend(ids2, w.cast(INT));
            w = a23.compare(VectorOperators.GT, m2); m2 = m2.blend(a23, w); i2 = i2.blend(ids3, w.cast(INT));
            w = a30.compare(VectorOperators.GT, m3); m3 = m3.blend(a30, w); i3 = i3.blend(ids0, w.cast(INT));
            w = a31.compare(VectorOperators.GT, m3); m3 = m3.blend(a31, w); i3 = i3.blend(ids1, w.cast(INT));
            w = a32.compare(VectorOperators.GT, m3); m3 = m3.blend(a32, w); i3 = i3.blend(ids2, w.cast(INT));
            w = a33.compare(VectorOperators.GT, m3); m3 = m3.blend(a33, w); i3 = i3.blend(ids3, w.cast(INT));
        }
        for (; b < b1; b++) {
            FloatVector bias0 = FloatVector.fromArray(FLOAT, bias, b * L);
            int c0 = b * headDim * L;
            FloatVector a0 = bias0, a1 = bias0, a2 = bias0, a3 = bias0;
            for (int i = 0; i < headDim; i++) {
                FloatVector x0 = FloatVector.fromArray(FLOAT, transposed, c0 + i * L);
                a0 = x0.fma(FloatVector.broadcast(FLOAT, keys[k0 + i]), a0);
                a1 = x0.fma(FloatVector.broadcast(FLOAT, keys[k1 + i]), a1);
                a2 = x0.fma(FloatVector.broadcast(FLOAT, keys[k2 + i]), a2);
                a3 = x0.fma(FloatVector.broadcast(FLOAT, keys[k3 + i]), a3);
            }
            IntVector ids = IntVector.broadcast(INT, b * L).addIndex(1);
            VectorMask<Float> w;
            w = a0.compare(VectorOperators.GT, m0); m0 = m0.blend(a0, w); i0 = i0.blend(ids, w.cast(INT));
            w = a1.compare(VectorOperators.GT, m1); m1 = m1.blend(a1, w); i1 = i1.blend(ids, w.cast(INT));
            w = a2.compare(VectorOperators.GT, m2); m2 = m2.blend(a2, w); i2 = i2.blend(ids, w.cast(INT));
            w = a3.compare(VectorOperators.GT, m3); m3 = m3.blend(a3, w); i3 = i3.blend(ids, w.cast(INT));
        }
        keep(m0, i0, bestValue, bestIndex, slot);
        keep(m1, i1, bestValue, bestIndex, slot + 1);
        keep(m2, i2, bestValue, bestIndex, slot + 2);
        keep(m3, i3, bestValue, bestIndex, slot + 3);
    }

    private void chunk1(float[] keys, int t, int b0, int b1, float[] bestValue, int[] bestIndex, int slot) {
        int k = t * headDim;
        FloatVector m = FloatVector.broadcast(FLOAT, Float.NEGATIVE_INFINITY);
        IntVector index = IntVector.zero(INT);
        for (int b = b0; b < b1; b++) {
            int c = b * headDim * L;
            FloatVector a0 = FloatVector.fromArray(FLOAT, bias, b * L), a1 = FloatVector.zero(FLOAT);
            int i = 0;
            for (; i <= headDim - 2; i += 2) {
                a0 = FloatVector.fromArray(FLOAT, transposed, c + i * L).fma(FloatVector.broadcast(FLOAT, keys[k + i]), a0);
                a1 = FloatVector.fromArray(FLOAT, transposed, c + (i + 1) * L)
                        .fma(FloatVector.broadcast(FLOAT, keys[k + i + 1]), a1);
            }
            for (; i < headDim; i++) {
                a0 = FloatVector.fromArray(FLOAT, transposed, c + i * L).fma(FloatVector.broadcast(FLOAT, keys[k + i]), a0);
            }
            FloatVector a = a0.add(a1);
            VectorMask<Float> w = a.compare(VectorOperators.GT, m);
            m = m.blend(a, w);
            index = index.blend(IntVector.broadcast(INT, b * L).addIndex(1), w.cast(INT));
        }
        keep(m, index, bestValue, bestIndex, slot);
    }

    /**
     * Reduces a key's lanes to its best centroid of this chunk (the lowest index among equal maxima)
     * and keeps it if it beats the earlier chunks' best: chunks ascend, so ties keep the earlier one.
     */
    private static void keep(FloatVector value, IntVector index, float[] bestValue, int[] bestIndex, int slot) {
        float max = value.reduceLanes(VectorOperators.MAX);
        if (max > bestValue[slot]) {
            VectorMask<Integer> atMax = value.compare(VectorOperators.EQ, max).cast(INT);
            bestValue[slot] = max;
            bestIndex[slot] = index.reduceLanes(VectorOperators.MIN, atMax);
        }
    }
}
