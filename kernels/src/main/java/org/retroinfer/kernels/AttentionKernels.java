package org.retroinfer.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The two inner loops of attention over keys and values stored as F16 or BF16 (math in F32):
 * scores of several query heads against a run of keys, and the probability-weighted sum of a run
 * of values. A run is {@code tokens} vectors of {@code headDim} values, contiguous in memory, so
 * a GQA group's query heads read each key and value once.
 */
public final class AttentionKernels {
    private AttentionKernels() {}

    /**
     * {@code scores[scoresOff + h·scoresStride + t] = scale · (q_h · k_t)} for h < heads, t < tokens,
     * where q_h = {@code q[qOff + h·headDim ..]} and k_t starts at byte
     * {@code keysOff + t·headDim·2} of {@code keys}.
     */
    public static void scores(float[] q, int qOff, int heads, int headDim,
                              MemorySegment keys, long keysOff, DType type, int tokens,
                              float scale, float[] scores, int scoresOff, int scoresStride) {
        for (int t = 0; t < tokens; t++) {
            long k = keysOff + 2L * headDim * t;
            for (int h = 0; h < heads; h++) {
                float sum = 0;
                for (int i = 0; i < headDim; i++) {
                    sum += q[qOff + h * headDim + i]
                            * Half.toFloat(type, keys.get(ValueLayout.JAVA_SHORT_UNALIGNED, k + 2L * i));
                }
                scores[scoresOff + h * scoresStride + t] = scale * sum;
            }
        }
    }

    /**
     * {@code out[outOff + h·headDim + i] += Σ_t p[pOff + h·pStride + t] · v_t[i]} for h < heads,
     * i < headDim, where v_t starts at byte {@code valuesOff + t·headDim·2} of {@code values}.
     */
    public static void accumulate(float[] p, int pOff, int pStride, int heads,
                                  MemorySegment values, long valuesOff, DType type, int tokens, int headDim,
                                  float[] out, int outOff) {
        for (int t = 0; t < tokens; t++) {
            long v = valuesOff + 2L * headDim * t;
            for (int i = 0; i < headDim; i++) {
                float value = Half.toFloat(type, values.get(ValueLayout.JAVA_SHORT_UNALIGNED, v + 2L * i));
                for (int h = 0; h < heads; h++) {
                    out[outOff + h * headDim + i] += p[pOff + h * pStride + t] * value;
                }
            }
        }
    }

    /** Stores {@code src[srcOff .. srcOff + n)} as F16 or BF16 at byte {@code dstOff} of {@code dst}. */
    public static void store(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, DType type) {
        for (int i = 0; i < n; i++) {
            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, dstOff + 2L * i, Half.fromFloat(type, src[srcOff + i]));
        }
    }
}
