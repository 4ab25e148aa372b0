package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The two inner loops of attention over keys and values stored as F16 or BF16 (math in F32):
 * scores of several query heads against a run of keys, and the probability-weighted sum of a run
 * of values. A run is {@code tokens} vectors of {@code headDim} values, contiguous in memory, so
 * a GQA group's query heads read each key and value once.
 *
 * <p>Both loops decode a tile of {@value #TILE} tokens at a time into a per-thread float scratch
 * (8 KiB at head dimension 128, so it stays in L1) and apply each key or value vector to up to 4
 * query heads held in registers; larger groups take several passes over the tile. Decoding the
 * tile first keeps the conversions in one place ({@link Dequantize}) for both storage types.
 * Measured on runs streamed from memory, 16-token tiles ran 10-30% faster than 64-token ones
 * (32 KiB, which no longer stay in L1 beside the queries). The kernels are single-threaded:
 * callers split runs of tokens or KV heads over the {@link ComputePool}.
 */
public final class AttentionKernels {
    /** Tokens decoded per tile. */
    static final int TILE = 16;
    private static final int L = FLOAT.length();
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[TILE * 128]);

    private AttentionKernels() {}

    /**
     * {@code scores[scoresOff + h·scoresStride + t] = scale · (q_h · k_t)} for h < heads, t < tokens,
     * where q_h = {@code q[qOff + h·headDim ..]} and k_t starts at byte
     * {@code keysOff + t·headDim·2} of {@code keys}.
     */
    public static void scores(float[] q, int qOff, int heads, int headDim,
                              MemorySegment keys, long keysOff, DType type, int tokens,
                              float scale, float[] scores, int scoresOff, int scoresStride) {
        requireHalf(type);
        float[] tile = scratch(headDim);
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int n = Math.min(TILE, tokens - t0);
            Dequantize.row(type, keys, keysOff + 2L * headDim * t0, n * headDim, tile, 0);
            for (int t = 0; t < n; t += 2) {
                // An odd last token is paired with itself; its second score is not stored.
                boolean pair = t + 1 < n;
                int k0 = t * headDim;
                int k1 = pair ? k0 + headDim : k0;
                int s = scoresOff + t0 + t;
                int h = 0;
                for (; h <= heads - 4; h += 4) {
                    scores4x2(q, qOff + h * headDim, headDim, tile, k0, k1, scale, scores, s + h * scoresStride,
                            scoresStride, pair);
                }
                for (; h < heads; h++) {
                    scores1x2(q, qOff + h * headDim, headDim, tile, k0, k1, scale, scores, s + h * scoresStride, pair);
                }
            }
        }
    }

    /**
     * Four heads' scores against two keys: each key vector serves four heads, and the 8
     * independent FMA chains keep the FMA units busy where one chain per head would wait on the
     * FMA latency.
     */
    private static void scores4x2(float[] q, int q0, int headDim, float[] keys, int k0, int k1,
                                  float scale, float[] scores, int s0, int stride, boolean pair) {
        int q1 = q0 + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
        FloatVector a00 = FloatVector.zero(FLOAT), a10 = FloatVector.zero(FLOAT);
        FloatVector a20 = FloatVector.zero(FLOAT), a30 = FloatVector.zero(FLOAT);
        FloatVector a01 = FloatVector.zero(FLOAT), a11 = FloatVector.zero(FLOAT);
        FloatVector a21 = FloatVector.zero(FLOAT), a31 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= headDim - L; i += L) {
            FloatVector key0 = FloatVector.fromArray(FLOAT, keys, k0 + i);
            FloatVector key1 = FloatVector.fromArray(FLOAT, keys, k1 + i);
            FloatVector query = FloatVector.fromArray(FLOAT, q, q0 + i);
            a00 = key0.fma(query, a00);
            a01 = key1.fma(query, a01);
            query = FloatVector.fromArray(FLOAT, q, q1 + i);
            a10 = key0.fma(query, a10);
            a11 = key1.fma(query, a11);
            query = FloatVector.fromArray(FLOAT, q, q2 + i);
            a20 = key0.fma(query, a20);
            a21 = key1.fma(query, a21);
            query = FloatVector.fromArray(FLOAT, q, q3 + i);
            a30 = key0.fma(query, a30);
            a31 = key1.fma(query, a31);
        }
        scores[s0] = scale * (a00.reduceLanes(VectorOperators.ADD) + tail(q, q0, keys, k0, i, headDim));
        scores[s0 + stride] = scale * (a10.reduceLanes(VectorOperators.ADD) + tail(q, q1, keys, k0, i, headDim));
        scores[s0 + 2 * stride] = scale * (a20.reduceLanes(VectorOperators.ADD) + tail(q, q2, keys, k0, i, headDim));
        scores[s0 + 3 * stride] = scale * (a30.reduceLanes(VectorOperators.ADD) + tail(q, q3, keys, k0, i, headDim));
        if (pair) {
            scores[s0 + 1] = scale * (a01.reduceLanes(VectorOperators.ADD) + tail(q, q0, keys, k1, i, headDim));
            scores[s0 + stride + 1] = scale * (a11.reduceLanes(VectorOperators.ADD) + tail(q, q1, keys, k1, i, headDim));
            scores[s0 + 2 * stride + 1] =
                    scale * (a21.reduceLanes(VectorOperators.ADD) + tail(q, q2, keys, k1, i, headDim));
            scores[s0 + 3 * stride + 1] =
                    scale * (a31.reduceLanes(VectorOperators.ADD) + tail(q, q3, keys, k1, i, headDim));
        }
    }

    /** One head's scores against two keys. */
    private static void scores1x2(float[] q, int q0, int headDim, float[] keys, int k0, int k1,
                                  float scale, float[] scores, int s0, boolean pair) {
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= headDim - L; i += L) {
            FloatVector query = FloatVector.fromArray(FLOAT, q, q0 + i);
            a0 = FloatVector.fromArray(FLOAT, keys, k0 + i).fma(query, a0);
            a1 = FloatVector.fromArray(FLOAT, keys, k1 + i).fma(query, a1);
        }
        scores[s0] = scale * (a0.reduceLanes(VectorOperators.ADD) + tail(q, q0, keys, k0, i, headDim));
        if (pair) {
            scores[s0 + 1] = scale * (a1.reduceLanes(VectorOperators.ADD) + tail(q, q0, keys, k1, i, headDim));
        }
    }

    /** The scalar rest of a query·key dot product, dimensions [from, headDim). */
    private static float tail(float[] q, int qOff, float[] keys, int k, int from, int headDim) {
        float sum = 0;
        for (int i = from; i < headDim; i++) {
            sum += q[qOff + i] * keys[k + i];
        }
        return sum;
    }

    /**
     * {@code out[outOff + h·headDim + i] += Σ_t p[pOff + h·pStride + t] · v_t[i]} for h < heads,
     * i < headDim, where v_t starts at byte {@code valuesOff + t·headDim·2} of {@code values}.
     */
    public static void accumulate(float[] p, int pOff, int pStride, int heads,
                                  MemorySegment values, long valuesOff, DType type, int tokens, int headDim,
                                  float[] out, int outOff) {
        requireHalf(type);
        float[] tile = scratch(headDim);
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int n = Math.min(TILE, tokens - t0);
            Dequantize.row(type, values, valuesOff + 2L * headDim * t0, n * headDim, tile, 0);
            int i = 0;
            for (; i <= headDim - L; i += L) {
                int h = 0;
                for (; h <= heads - 4; h += 4) {
                    accumulate4(p, pOff + h * pStride + t0, pStride, n, tile, i, headDim, out, outOff + h * headDim + i);
                }
                for (; h < heads; h++) {
                    accumulate1(p, pOff + h * pStride + t0, n, tile, i, headDim, out, outOff + h * headDim + i);
                }
            }
            for (; i < headDim; i++) {
                for (int h = 0; h < heads; h++) {
                    float sum = out[outOff + h * headDim + i];
                    for (int t = 0; t < n; t++) {
                        sum += p[pOff + h * pStride + t0 + t] * tile[t * headDim + i];
                    }
                    out[outOff + h * headDim + i] = sum;
                }
            }
        }
    }

    /**
     * One vector of dimensions (from {@code i}) of four heads' outputs, over a tile of tokens:
     * each value vector is weighted by the four heads' probabilities.
     */
    private static void accumulate4(float[] p, int p0, int pStride, int tokens, float[] tile, int i, int headDim,
                                    float[] out, int o0) {
        int p1 = p0 + pStride, p2 = p1 + pStride, p3 = p2 + pStride;
        int o1 = o0 + headDim, o2 = o1 + headDim, o3 = o2 + headDim;
        FloatVector a0 = FloatVector.fromArray(FLOAT, out, o0), a1 = FloatVector.fromArray(FLOAT, out, o1);
        FloatVector a2 = FloatVector.fromArray(FLOAT, out, o2), a3 = FloatVector.fromArray(FLOAT, out, o3);
        for (int t = 0; t < tokens; t++) {
            FloatVector value = FloatVector.fromArray(FLOAT, tile, t * headDim + i);
            a0 = value.fma(FloatVector.broadcast(FLOAT, p[p0 + t]), a0);
            a1 = value.fma(FloatVector.broadcast(FLOAT, p[p1 + t]), a1);
            a2 = value.fma(FloatVector.broadcast(FLOAT, p[p2 + t]), a2);
            a3 = value.fma(FloatVector.broadcast(FLOAT, p[p3 + t]), a3);
        }
        a0.intoArray(out, o0);
        a1.intoArray(out, o1);
        a2.intoArray(out, o2);
        a3.intoArray(out, o3);
    }

    private static void accumulate1(float[] p, int p0, int tokens, float[] tile, int i, int headDim,
                                    float[] out, int o0) {
        FloatVector a = FloatVector.fromArray(FLOAT, out, o0);
        for (int t = 0; t < tokens; t++) {
            a = FloatVector.fromArray(FLOAT, tile, t * headDim + i).fma(FloatVector.broadcast(FLOAT, p[p0 + t]), a);
        }
        a.intoArray(out, o0);
    }

    /** Stores {@code src[srcOff .. srcOff + n)} as F16 or BF16 at byte {@code dstOff} of {@code dst}. */
    public static void store(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, DType type) {
        requireHalf(type);
        if (type == DType.F16) {
            HalfVectors.encodeF16(src, srcOff, n, dst, dstOff);
        } else {
            HalfVectors.encodeBf16(src, srcOff, n, dst, dstOff);
        }
    }

    /** This thread's tile scratch, grown to hold {@value #TILE} tokens of {@code headDim} floats. */
    private static float[] scratch(int headDim) {
        float[] tile = SCRATCH.get();
        if (tile.length < TILE * headDim) {
            tile = new float[TILE * headDim];
            SCRATCH.set(tile);
        }
        return tile;
    }

    private static void requireHalf(DType type) {
        if (type != DType.F16 && type != DType.BF16) {
            throw new IllegalArgumentException("attention keys and values are stored as F16 or BF16, got " + type);
        }
    }
}
