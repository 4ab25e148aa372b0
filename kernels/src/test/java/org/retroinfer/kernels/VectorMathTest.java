package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    /** Lengths around the vector widths (4, 8, 16 lanes, unrolled by up to 4) and a model-sized one. */
    private static final int[] LENGTHS = {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 200, 4099};
    /**
     * The documented accuracy of the Vector API's EXP is within 1 ulp... of Math.exp, which is
     * itself within 1 ulp; 4 ulp leaves room for both.
     */
    private static final double EXP_ULPS = 4;

    private static void assertClose(double expected, float got, double tolerance, String what) {
        assertTrue(Math.abs(got - expected) <= tolerance,
                what + ": got " + got + ", expected " + expected + " ± " + tolerance);
    }

    @Test
    void addAndScaleRoundEachElementOnce() {
        Random random = TestWeights.random("addScale");
        for (int n : LENGTHS) {
            float[] a = TestWeights.gaussian(random, n + 5);
            float[] b = TestWeights.gaussian(random, n + 3);
            float[] sum = a.clone();
            VectorMath.addInPlace(sum, 2, b, 3, n);
            float[] scaled = a.clone();
            VectorMath.scale(scaled, 1, n, 0.37f);
            for (int i = 0; i < a.length; i++) {
                boolean inside = i >= 2 && i < 2 + n;
                assertEquals(inside ? a[i] + b[i + 1] : a[i], sum[i], "addInPlace n " + n + " at " + i);
                boolean scaledInside = i >= 1 && i < 1 + n;
                assertEquals(scaledInside ? a[i] * 0.37f : a[i], scaled[i], "scale n " + n + " at " + i);
            }
        }
    }

    @Test
    void dotMatchesTheFloat64Reference() {
        Random random = TestWeights.random("dot");
        for (int n : LENGTHS) {
            float[] a = TestWeights.gaussian(random, n + 2);
            float[] b = TestWeights.gaussian(random, n + 1);
            double sum = 0, sumAbs = 0;
            for (int i = 0; i < n; i++) {
                sum += (double) a[i + 2] * b[i + 1];
                sumAbs += Math.abs((double) a[i + 2] * b[i + 1]);
            }
            assertClose(sum, VectorMath.dot(a, 2, b, 1, n), TestWeights.dotTolerance(n, sumAbs, sum), "dot n " + n);
        }
    }

    @Test
    void rmsNormMatchesTheFloat64ReferenceAlsoInPlace() {
        Random random = TestWeights.random("rmsNorm");
        for (int n : LENGTHS) {
            if (n == 0) {
                continue;
            }
            float[] x = TestWeights.gaussian(random, n + 3);
            float[] weight = TestWeights.gaussian(random, n);
            float eps = 1e-5f;
            double sumSquares = 0;
            for (int i = 0; i < n; i++) {
                sumSquares += (double) x[i + 3] * x[i + 3];
            }
            double inv = 1 / Math.sqrt(sumSquares / n + eps);
            float[] out = TestWeights.poisoned(n + 1);
            VectorMath.rmsNorm(x, 3, weight, eps, out, 1, n);
            float[] inPlace = x.clone();
            VectorMath.rmsNorm(inPlace, 3, weight, eps, inPlace, 3, n);
            assertTrue(Float.isNaN(out[0]), "rmsNorm wrote before outOff");
            // the sum of squares carries its summation error at half weight through the square root
            double relative = (TestWeights.dotDepth(n) / 2.0 + 6) * TestWeights.U;
            for (int i = 0; i < n; i++) {
                double expected = x[i + 3] * inv * weight[i];
                assertClose(expected, out[1 + i], relative * Math.abs(expected) + Float.MIN_NORMAL, "rmsNorm n " + n);
                assertEquals(out[1 + i], inPlace[3 + i], "in place differs at " + i);
            }
        }
    }

    @Test
    void swigluMatchesTheFloat64ReferenceIncludingSaturatedGates() {
        Random random = TestWeights.random("swiglu");
        for (int n : LENGTHS) {
            float[] gate = new float[n];
            for (int i = 0; i < n; i++) {
                gate[i] = (float) (random.nextGaussian() * 6);
            }
            if (n > 2) {
                gate[0] = -200f;
                gate[1] = 200f;
            }
            float[] up = TestWeights.gaussian(random, n);
            float[] result = gate.clone();
            VectorMath.swiglu(result, up, n);
            for (int i = 0; i < n; i++) {
                double g = gate[i];
                double expected = g / (1 + Math.exp(-g)) * up[i];
                double tolerance = (EXP_ULPS + 4) * TestWeights.U * Math.abs(expected) + Float.MIN_VALUE;
                assertClose(expected, result[i], tolerance, "swiglu n " + n + " gate " + g);
            }
        }
    }

    @Test
    void softmaxMatchesTheFloat64ReferenceAndReturnsLogSumExp() {
        Random random = TestWeights.random("softmax");
        for (int n : LENGTHS) {
            if (n == 0) {
                continue;
            }
            float[] x = new float[n + 4];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * 5);
            }
            float[] p = x.clone();
            float lse = VectorMath.softmaxInPlace(p, 2, n);
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[i + 2]);
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.exp(x[i + 2] - max);
            }
            int depth = TestWeights.dotDepth(n);
            double total = 0;
            for (int i = 0; i < n; i++) {
                double expected = Math.exp(x[i + 2] - max) / sum;
                // x − max is rounded (relative error u, so |x − max|·u in the exponent), exp adds
                // EXP_ULPS, the sum its depth, and the reciprocal and product one rounding each
                double relative = (Math.abs(x[i + 2] - max) + EXP_ULPS + depth + 3) * TestWeights.U;
                assertClose(expected, p[i + 2], relative * expected + Float.MIN_VALUE, "softmax n " + n + " at " + i);
                total += p[i + 2];
            }
            assertEquals(1.0, total, (depth + 2 * n) * TestWeights.U * 4, "probabilities sum to one");
            double expectedLse = max + Math.log(sum);
            assertClose(expectedLse, lse, (depth + EXP_ULPS + 4) * TestWeights.U * Math.max(1, Math.abs(expectedLse)),
                    "log-sum-exp n " + n);
            assertEquals(x[0], p[0]);
            assertEquals(x[1], p[1]);
            assertEquals(x[n + 2], p[n + 2]);
        }
    }

    @Test
    void maxFindsTheLargestElementOrNegativeInfinityWhenEmpty() {
        Random random = TestWeights.random("max");
        for (int n : LENGTHS) {
            float[] x = TestWeights.gaussian(random, n + 1);
            float expected = Float.NEGATIVE_INFINITY;
            for (int i = 1; i <= n; i++) {
                expected = Math.max(expected, x[i]);
            }
            assertEquals(expected, VectorMath.max(x, 1, n), "max n " + n);
        }
    }
}
