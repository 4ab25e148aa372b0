package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The two inner loops of attention over keys and values stored as F16 or BF16 (math in F32):
 * scores of several query heads against a run of keys, and the probability-weighted sum of a run
 * of values. A run is {@code tokens} vectors of {@code headDim} values, contiguous in memory, so
 * a GQA group's query heads read each key and value once.
 *
 * <p>Both loops convert each loaded key or value vector once and apply it to up to 4 query heads
 * held in registers; larger groups take several passes over the (by then cached) run. The
 * kernels are single-threaded: callers split runs of tokens or KV heads over the
 * {@link ComputePool}. No method converts at more than two places: an F16 conversion is large
 * once inlined, and a third one pushed C2 past its parse-time node budget, where it stopped
 * inlining and boxed every vector (an order of magnitude slower).
 */
public final class AttentionKernels {
    private static final int L = FLOAT.length();
    /**
     * Tokens per tile of {@link #accumulate}: the tile's values (4 KiB at head dimension 128) stay
     * in L1 while the head groups and dimension vectors pass over it, and each output vector is
     * loaded and stored once per tile rather than once per token. Measured on values streamed from
     * memory, 8 to 16 tokens ran 1.5x faster than 32 or more (the passes over a larger tile hop
     * through memory in 256-byte strides); below 16 the short loops cost more in cache.
     */
    private static final int VALUE_TILE = 16;

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
        long keyBytes = 2L * headDim;
        for (int t = 0; t < tokens; t += 2) {
            // An odd last token is paired with itself; its second score is not stored.
            boolean pair = t + 1 < tokens;
            long k0 = keysOff + keyBytes * t;
            long k1 = pair ? k0 + keyBytes : k0;
            int h = 0;
            for (; h <= heads - 4; h += 4) {
                scores4x2(q, qOff + h * headDim, headDim, keys, k0, k1, type, scale, scores,
                        scoresOff + h * scoresStride + t, scoresStride, pair);
            }
            for (; h < heads; h++) {
                scores1x2(q, qOff + h * headDim, headDim, keys, k0, k1, type, scale, scores,
                        scoresOff + h * scoresStride + t, pair);
            }
        }
    }

    /**
     * Four heads' scores against two keys: each key vector is converted once for four heads, and
     * the 8 independent FMA chains keep the FMA units busy where one chain per head would wait
     * on the FMA latency.
     */
    private static void scores4x2(float[] q, int q0, int headDim, MemorySegment keys, long k0, long k1, DType type,
                                  float scale, float[] scores, int s0, int stride, boolean pair) {
        int q1 = q0 + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
        FloatVector a00 = FloatVector.zero(FLOAT), a10 = FloatVector.zero(FLOAT);
        FloatVector a20 = FloatVector.zero(FLOAT), a30 = FloatVector.zero(FLOAT);
        FloatVector a01 = FloatVector.zero(FLOAT), a11 = FloatVector.zero(FLOAT);
        FloatVector a21 = FloatVector.zero(FLOAT), a31 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= headDim - L; i += L) {
            FloatVector key0 = HalfVectors.load(type, keys, k0 + 2L * i);
            FloatVector key1 = HalfVectors.load(type, keys, k1 + 2L * i);
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
        float d00 = a00.reduceLanes(VectorOperators.ADD), d10 = a10.reduceLanes(VectorOperators.ADD);
        float d20 = a20.reduceLanes(VectorOperators.ADD), d30 = a30.reduceLanes(VectorOperators.ADD);
        float d01 = a01.reduceLanes(VectorOperators.ADD), d11 = a11.reduceLanes(VectorOperators.ADD);
        float d21 = a21.reduceLanes(VectorOperators.ADD), d31 = a31.reduceLanes(VectorOperators.ADD);
        if (i < headDim) {
            d00 += tail(q, q0, keys, k0, type, i, headDim);
            d10 += tail(q, q1, keys, k0, type, i, headDim);
            d20 += tail(q, q2, keys, k0, type, i, headDim);
            d30 += tail(q, q3, keys, k0, type, i, headDim);
            d01 += tail(q, q0, keys, k1, type, i, headDim);
            d11 += tail(q, q1, keys, k1, type, i, headDim);
            d21 += tail(q, q2, keys, k1, type, i, headDim);
            d31 += tail(q, q3, keys, k1, type, i, headDim);
        }
        scores[s0] = scale * d00;
        scores[s0 + stride] = scale * d10;
        scores[s0 + 2 * stride] = scale * d20;
        scores[s0 + 3 * stride] = scale * d30;
        if (pair) {
            scores[s0 + 1] = scale * d01;
            scores[s0 + stride + 1] = scale * d11;
            scores[s0 + 2 * stride + 1] = scale * d21;
            scores[s0 + 3 * stride + 1] = scale * d31;
        }
    }

    /** One head's scores against two keys. */
    private static void scores1x2(float[] q, int q0, int headDim, MemorySegment keys, long k0, long k1, DType type,
                                  float scale, float[] scores, int s0, boolean pair) {
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= headDim - L; i += L) {
            FloatVector query = FloatVector.fromArray(FLOAT, q, q0 + i);
            a0 = HalfVectors.load(type, keys, k0 + 2L * i).fma(query, a0);
            a1 = HalfVectors.load(type, keys, k1 + 2L * i).fma(query, a1);
        }
        float d0 = a0.reduceLanes(VectorOperators.ADD), d1 = a1.reduceLanes(VectorOperators.ADD);
        if (i < headDim) {
            d0 += tail(q, q0, keys, k0, type, i, headDim);
            d1 += tail(q, q0, keys, k1, type, i, headDim);
        }
        scores[s0] = scale * d0;
        if (pair) {
            scores[s0 + 1] = scale * d1;
        }
    }

    /** The scalar rest of a query·key dot product, dimensions [from, headDim). */
    private static float tail(float[] q, int qOff, MemorySegment keys, long k, DType type, int from, int headDim) {
        float sum = 0;
        for (int i = from; i < headDim; i++) {
            sum += q[qOff + i] * Half.toFloat(type, keys.get(ValueLayout.JAVA_SHORT_UNALIGNED, k + 2L * i));
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
        for (int t0 = 0; t0 < tokens; t0 += VALUE_TILE) {
            int t1 = Math.min(tokens, t0 + VALUE_TILE);
            long tile = valuesOff + 2L * headDim * t0;
            int i = 0;
            for (; i <= headDim - L; i += L) {
                int h = 0;
                for (; h <= heads - 4; h += 4) {
                    accumulate4(p, pOff + h * pStride + t0, pStride, t1 - t0, values, tile + 2L * i, 2L * headDim, type,
                            out, outOff + h * headDim + i, headDim);
                }
                for (; h < heads; h++) {
                    accumulate1(p, pOff + h * pStride + t0, t1 - t0, values, tile + 2L * i, 2L * headDim, type,
                            out, outOff + h * headDim + i);
                }
            }
            for (; i < headDim; i++) {
                for (int t = t0; t < t1; t++) {
                    float value = Half.toFloat(type,
                            values.get(ValueLayout.JAVA_SHORT_UNALIGNED, valuesOff + 2L * (headDim * (long) t + i)));
                    for (int h = 0; h < heads; h++) {
                        out[outOff + h * headDim + i] += p[pOff + h * pStride + t] * value;
                    }
                }
            }
        }
    }

    /**
     * One vector of dimensions of four heads' outputs, over a tile of tokens: each value vector
     * is converted once and weighted by the four heads' probabilities.
     */
    private static void accumulate4(float[] p, int p0, int pStride, int tokens, MemorySegment values, long v,
                                    long valueStride, DType type, float[] out, int o0, int headDim) {
        int p1 = p0 + pStride, p2 = p1 + pStride, p3 = p2 + pStride;
        int o1 = o0 + headDim, o2 = o1 + headDim, o3 = o2 + headDim;
        FloatVector a0 = FloatVector.fromArray(FLOAT, out, o0), a1 = FloatVector.fromArray(FLOAT, out, o1);
        FloatVector a2 = FloatVector.fromArray(FLOAT, out, o2), a3 = FloatVector.fromArray(FLOAT, out, o3);
        for (int t = 0; t < tokens; t++) {
            FloatVector value = HalfVectors.load(type, values, v + valueStride * t);
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

    private static void accumulate1(float[] p, int p0, int tokens, MemorySegment values, long v, long valueStride,
                                    DType type, float[] out, int o0) {
        FloatVector a = FloatVector.fromArray(FLOAT, out, o0);
        for (int t = 0; t < tokens; t++) {
            a = HalfVectors.load(type, values, v + valueStride * t).fma(FloatVector.broadcast(FLOAT, p[p0 + t]), a);
        }
        a.intoArray(out, o0);
    }

    /** Stores {@code src[srcOff .. srcOff + n)} as F16 or BF16 at byte {@code dstOff} of {@code dst}. */
    public static void store(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, DType type) {
        requireHalf(type);
        int i = 0;
        for (; i <= n - L; i += L) {
            HalfVectors.store(type, FloatVector.fromArray(FLOAT, src, srcOff + i), dst, dstOff + 2L * i);
        }
        for (; i < n; i++) {
            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, dstOff + 2L * i, Half.fromFloat(type, src[srcOff + i]));
        }
    }

    private static void requireHalf(DType type) {
        if (type != DType.F16 && type != DType.BF16) {
            throw new IllegalArgumentException("attention keys and values are stored as F16 or BF16, got " + type);
        }
    }
}
