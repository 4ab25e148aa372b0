package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Element-wise and reduction kernels over activation vectors. The exponentials use
 * {@link VectorOperators#EXP}, which HotSpot compiles to a vectorised math-library call on x86
 * (and AArch64) rather than a lane-by-lane {@link Math#exp}.
 */
public final class VectorMath {
    private static final int L = FLOAT.length();

    private VectorMath() {}

    /** {@code a[aOff + i] += b[bOff + i]} for i < n: the residual connection. */
    public static void addInPlace(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(FLOAT, a, aOff + i).add(FloatVector.fromArray(FLOAT, b, bOff + i)).intoArray(a, aOff + i);
        }
        for (; i < n; i++) {
            a[aOff + i] += b[bOff + i];
        }
    }

    /** Σ a[aOff + i]·b[bOff + i] for i < n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        FloatVector acc2 = FloatVector.zero(FLOAT), acc3 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            acc0 = FloatVector.fromArray(FLOAT, a, aOff + i).fma(FloatVector.fromArray(FLOAT, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(FLOAT, a, aOff + i + L).fma(FloatVector.fromArray(FLOAT, b, bOff + i + L), acc1);
            acc2 = FloatVector.fromArray(FLOAT, a, aOff + i + 2 * L)
                    .fma(FloatVector.fromArray(FLOAT, b, bOff + i + 2 * L), acc2);
            acc3 = FloatVector.fromArray(FLOAT, a, aOff + i + 3 * L)
                    .fma(FloatVector.fromArray(FLOAT, b, bOff + i + 3 * L), acc3);
        }
        for (; i <= n - L; i += L) {
            acc0 = FloatVector.fromArray(FLOAT, a, aOff + i).fma(FloatVector.fromArray(FLOAT, b, bOff + i), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code x[off + i] *= factor} for i < n. */
    public static void scale(float[] x, int off, int n, float factor) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(FLOAT, x, off + i).mul(factor).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= factor;
        }
    }

    /**
     * RMSNorm: {@code out[outOff + i] = x[xOff + i] / sqrt(mean(x²) + eps) · weight[i]} for i < n.
     * {@code out} may be {@code x}.
     */
    public static void rmsNorm(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n) {
        float sumSquares = dot(x, xOff, x, xOff, n);
        float inv = (float) (1.0 / Math.sqrt(sumSquares / n + eps));
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(FLOAT, x, xOff + i).mul(inv).mul(FloatVector.fromArray(FLOAT, weight, i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * inv * weight[i];
        }
    }

    /** SwiGLU: {@code gate[i] = silu(gate[i]) · up[i]}, silu(g) = g / (1 + e^−g), for i < n. */
    public static void swiglu(float[] gate, float[] up, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector g = FloatVector.fromArray(FLOAT, gate, i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(FLOAT, up, i))
                    .intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /**
     * Softmax in place over {@code x[off .. off + n)}.
     *
     * @return the log-sum-exp of the inputs, {@code max + log Σ e^(x − max)}
     */
    public static float softmaxInPlace(float[] x, int off, int n) {
        float max = max(x, off, n);
        float sum = expInPlace(x, off, n, max);
        scale(x, off, n, 1f / sum);
        return max + (float) Math.log(sum);
    }

    /** The largest of {@code x[off .. off + n)}, or −∞ where n is 0. */
    public static float max(float[] x, int off, int n) {
        FloatVector m0 = FloatVector.broadcast(FLOAT, Float.NEGATIVE_INFINITY), m1 = m0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            m0 = m0.max(FloatVector.fromArray(FLOAT, x, off + i));
            m1 = m1.max(FloatVector.fromArray(FLOAT, x, off + i + L));
        }
        float max = m0.max(m1).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        return max;
    }

    /**
     * {@code x[off + i] = e^(x[off + i] − shift)} for i < n.
     *
     * @return the sum of the new values
     */
    public static float expInPlace(float[] x, int off, int n, float shift) {
        FloatVector sum0 = FloatVector.zero(FLOAT), sum1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector e0 = FloatVector.fromArray(FLOAT, x, off + i).sub(shift).lanewise(VectorOperators.EXP);
            FloatVector e1 = FloatVector.fromArray(FLOAT, x, off + i + L).sub(shift).lanewise(VectorOperators.EXP);
            e0.intoArray(x, off + i);
            e1.intoArray(x, off + i + L);
            sum0 = sum0.add(e0);
            sum1 = sum1.add(e1);
        }
        float sum = sum0.add(sum1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - shift);
            x[off + i] = e;
            sum += e;
        }
        return sum;
    }
}
