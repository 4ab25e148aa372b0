package org.retroinfer.kernels;

/** Element-wise and reduction kernels over activation vectors. */
public final class VectorMath {
    private VectorMath() {}

    /** {@code a[aOff + i] += b[bOff + i]} for i < n: the residual connection. */
    public static void addInPlace(float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) {
            a[aOff + i] += b[bOff + i];
        }
    }

    /** Σ a[aOff + i]·b[bOff + i] for i < n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code x[off + i] *= factor} for i < n. */
    public static void scale(float[] x, int off, int n, float factor) {
        for (int i = 0; i < n; i++) {
            x[off + i] *= factor;
        }
    }

    /**
     * RMSNorm: {@code out[outOff + i] = x[xOff + i] / sqrt(mean(x²) + eps) · weight[i]} for i < n.
     * {@code out} may be {@code x}.
     */
    public static void rmsNorm(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n) {
        float sumSquares = 0;
        for (int i = 0; i < n; i++) {
            sumSquares += x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(sumSquares / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = x[xOff + i] * inv * weight[i];
        }
    }

    /** SwiGLU: {@code gate[i] = silu(gate[i]) · up[i]}, silu(g) = g / (1 + e^−g), for i < n. */
    public static void swiglu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
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
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
        return max + (float) Math.log(sum);
    }
}
