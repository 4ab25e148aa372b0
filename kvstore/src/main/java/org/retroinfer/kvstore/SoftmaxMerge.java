package org.retroinfer.kvstore;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import jdk.incubator.vector.FloatVector;

/**
 * The exact merge of two softmax-attention partials over disjoint key sets (RetroInfer spec §2.4,
 * §7 item 7): with partial i holding maximum m_i, weight sum s_i = Σ e^(x − m_i) and unnormalised
 * output a_i = Σ e^(x − m_i)·v, the merged partial is m = max(m_1, m_2),
 * s = s_1·e^(m_1 − m) + s_2·e^(m_2 − m), a = a_1·e^(m_1 − m) + a_2·e^(m_2 − m). Its output a/s equals
 * (e^lse_1·o_1 + e^lse_2·o_2)/(e^lse_1 + e^lse_2) with lse_i = m_i + log s_i and o_i = a_i/s_i, without
 * ever forming e^lse (which overflows).
 */
public final class SoftmaxMerge {
    private static final int L = FLOAT.length();

    private SoftmaxMerge() {}

    /**
     * Merges the partial (otherMax, otherSum, otherAcc[otherOff .. +headDim]) into head {@code h} of
     * the partial held in {@code max}, {@code sum} and {@code acc} (head h's output at
     * {@code acc[h·headDim ..]}). An empty partial (maximum −∞) leaves the other unchanged.
     */
    public static void merge(float[] max, float[] sum, float[] acc, int h, int headDim,
                             float otherMax, float otherSum, float[] otherAcc, int otherOff) {
        if (otherMax == Float.NEGATIVE_INFINITY) {
            return;
        }
        float newMax = Math.max(max[h], otherMax);
        float self = max[h] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(max[h] - newMax);
        float other = (float) Math.exp(otherMax - newMax);
        max[h] = newMax;
        sum[h] = sum[h] * self + otherSum * other;
        int base = h * headDim;
        FloatVector selfV = FloatVector.broadcast(FLOAT, self);
        FloatVector otherV = FloatVector.broadcast(FLOAT, other);
        int i = 0;
        for (; i <= headDim - L; i += L) {
            FloatVector a = FloatVector.fromArray(FLOAT, acc, base + i).mul(selfV);
            FloatVector.fromArray(FLOAT, otherAcc, otherOff + i).fma(otherV, a).intoArray(acc, base + i);
        }
        for (; i < headDim; i++) {
            acc[base + i] = acc[base + i] * self + otherAcc[otherOff + i] * other;
        }
    }
}
