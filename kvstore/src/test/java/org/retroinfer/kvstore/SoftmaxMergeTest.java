package org.retroinfer.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

class SoftmaxMergeTest {
    private static final int HEADS = 3;
    private static final int DIM = 20;

    /** Softmax attention of one head over scores s and value rows v, in float64. */
    private static double[] softmax(double[] s, double[][] v) {
        double max = Arrays.stream(s).max().orElseThrow();
        double sum = 0;
        double[] out = new double[DIM];
        for (int t = 0; t < s.length; t++) {
            double w = Math.exp(s[t] - max);
            sum += w;
            for (int i = 0; i < DIM; i++) {
                out[i] += w * v[t][i];
            }
        }
        for (int i = 0; i < DIM; i++) {
            out[i] /= sum;
        }
        return out;
    }

    @Test
    void partialsOverDisjointKeysMergeIntoTheSoftmaxOfTheirUnion() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        int[] runs = {7, 1, 30, 12};
        // Runs far apart in scale, so that the merge must rescale both ways.
        double[] offsets = {0, 40, -35, 5};
        int total = Arrays.stream(runs).sum();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(2L * total * DIM);
            double[][] v = new double[total][DIM];
            for (int t = 0; t < total; t++) {
                for (int i = 0; i < DIM; i++) {
                    float x = (float) random.nextGaussian();
                    values.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, (long) t * DIM + i,
                            Half.fromFloat(DType.F16, x));
                    v[t][i] = Half.round(DType.F16, x);
                }
            }
            double[][] s = new double[HEADS][total];
            PartialSoftmax merged = new PartialSoftmax(HEADS, DIM);
            int first = 0;
            for (int run = 0; run < runs.length; run++) {
                int n = runs[run];
                float[] scores = new float[HEADS * n];
                for (int h = 0; h < HEADS; h++) {
                    for (int t = 0; t < n; t++) {
                        scores[h * n + t] = (float) (offsets[run] + 3 * random.nextGaussian());
                        s[h][first + t] = scores[h * n + t];
                    }
                }
                PartialSoftmax part = new PartialSoftmax(HEADS, DIM);
                part.add(scores, n, n, values, 2L * first * DIM, DType.F16);
                merged.merge(part);
                first += n;
            }
            merged.merge(new PartialSoftmax(HEADS, DIM));
            float[] out = new float[HEADS * DIM];
            Arrays.fill(out, Float.NaN);
            merged.writeOutput(out, 0);
            for (int h = 0; h < HEADS; h++) {
                double[] expected = softmax(s[h], v);
                for (int i = 0; i < DIM; i++) {
                    assertEquals(expected[i], out[h * DIM + i], 1e-5, "head " + h + " element " + i + " (seed " + seed + ")");
                }
                double max = Arrays.stream(s[h]).max().orElseThrow();
                double lse = max + Math.log(Arrays.stream(s[h]).map(x -> Math.exp(x - max)).sum());
                assertEquals(lse, merged.logSumExp(h), 1e-4 * Math.abs(lse) + 1e-5, "log-sum-exp of head " + h);
            }
        }
    }

    @Test
    void mergingRawPartialsFollowsTheLogSumExpFormula() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        float[] max = {(float) random.nextGaussian() * 10};
        float[] sum = {1 + random.nextFloat() * 5};
        float[] acc = new float[DIM];
        float[] other = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            acc[i] = (float) random.nextGaussian();
            other[i] = (float) random.nextGaussian();
        }
        float otherMax = (float) random.nextGaussian() * 10;
        float otherSum = 1 + random.nextFloat() * 5;
        // o = (e^lse1·o1 + e^lse2·o2) / (e^lse1 + e^lse2), spec §7 item 7, in float64.
        double lse1 = max[0] + Math.log(sum[0]);
        double lse2 = otherMax + Math.log(otherSum);
        double[] expected = new double[DIM];
        double m = Math.max(lse1, lse2);
        double w1 = Math.exp(lse1 - m), w2 = Math.exp(lse2 - m);
        for (int i = 0; i < DIM; i++) {
            expected[i] = (w1 * acc[i] / sum[0] + w2 * other[i] / otherSum) / (w1 + w2);
        }
        SoftmaxMerge.merge(max, sum, acc, 0, DIM, otherMax, otherSum, other, 0);
        for (int i = 0; i < DIM; i++) {
            assertEquals(expected[i], acc[i] / sum[0], 1e-5, "element " + i + " (seed " + seed + ")");
        }
        assertEquals(m + Math.log(w1 + w2), max[0] + Math.log(sum[0]), 1e-4, "log-sum-exp (seed " + seed + ")");
    }

    @Test
    void anEmptyPartialChangesNothing() {
        float[] max = {2f};
        float[] sum = {3f};
        float[] acc = new float[DIM];
        Arrays.fill(acc, 1.5f);
        SoftmaxMerge.merge(max, sum, acc, 0, DIM, Float.NEGATIVE_INFINITY, 0f, new float[DIM], 0);
        assertEquals(2f, max[0]);
        assertEquals(3f, sum[0]);
        assertEquals(1.5f, acc[DIM - 1]);
    }
}
