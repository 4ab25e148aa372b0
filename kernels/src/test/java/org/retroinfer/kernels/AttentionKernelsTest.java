package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AttentionKernelsTest {
    private static final int[] HEAD_DIMS = {1, 7, 40, 64, 72, 128, 131};

    /** {@code tokens} random vectors of {@code headDim} F16/BF16 values after {@code pad} bytes. */
    private static MemorySegment run(Arena arena, Random random, DType type, int tokens, int headDim, long pad) {
        MemorySegment run = arena.allocate(pad + 2L * tokens * headDim);
        for (long i = 0; i < (long) tokens * headDim; i++) {
            run.set(ValueLayout.JAVA_SHORT_UNALIGNED, pad + 2 * i, Half.fromFloat(type, (float) random.nextGaussian()));
        }
        return run;
    }

    private static double stored(MemorySegment run, long pad, DType type, long index) {
        short bits = run.get(ValueLayout.JAVA_SHORT_UNALIGNED, pad + 2 * index);
        return type == DType.F16 ? TestWeights.f16(bits) : Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void scoresOfEveryHeadAgainstEveryKeyMatchTheFloat64Reference(DType type) {
        Random random = TestWeights.random("scores " + type);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 24; trial++) {
                int heads = 1 + trial % 8;
                int headDim = HEAD_DIMS[random.nextInt(HEAD_DIMS.length)];
                int tokens = 1 + random.nextInt(300);
                long pad = 2L * random.nextInt(5);
                MemorySegment keys = run(arena, random, type, tokens, headDim, pad);
                int qOff = random.nextInt(9);
                float[] q = TestWeights.gaussian(random, qOff + heads * headDim);
                float scale = (float) (1 / Math.sqrt(headDim));
                int scoresOff = random.nextInt(5);
                int stride = tokens + random.nextInt(4);
                float[] scores = TestWeights.poisoned(scoresOff + heads * stride);
                AttentionKernels.scores(q, qOff, heads, headDim, keys, pad, type, tokens, scale, scores, scoresOff, stride);
                for (int h = 0; h < heads; h++) {
                    for (int t = 0; t < tokens; t++) {
                        double sum = 0, sumAbs = 0;
                        for (int i = 0; i < headDim; i++) {
                            double term = q[qOff + h * headDim + i] * stored(keys, pad, type, (long) t * headDim + i);
                            sum += term;
                            sumAbs += Math.abs(term);
                        }
                        double expected = scale * sum;
                        double tolerance = scale * TestWeights.dotTolerance(headDim, sumAbs, sum) + TestWeights.U * Math.abs(expected);
                        float got = scores[scoresOff + h * stride + t];
                        assertTrue(Math.abs(got - expected) <= tolerance, type + " heads " + heads + " headDim " + headDim
                                + " tokens " + tokens + ": score[" + h + "][" + t + "] = " + got + ", expected " + expected);
                    }
                    for (int t = tokens; t < stride; t++) {
                        assertTrue(Float.isNaN(scores[scoresOff + h * stride + t]), "scores wrote past tokens");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void accumulateAddsTheProbabilityWeightedValuesOfEveryHead(DType type) {
        Random random = TestWeights.random("accumulate " + type);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 24; trial++) {
                int heads = 1 + trial % 8;
                int headDim = HEAD_DIMS[random.nextInt(HEAD_DIMS.length)];
                int tokens = 1 + random.nextInt(300);
                long pad = 2L * random.nextInt(5);
                MemorySegment values = run(arena, random, type, tokens, headDim, pad);
                int pOff = random.nextInt(5);
                int pStride = tokens + random.nextInt(4);
                float[] p = new float[pOff + heads * pStride];
                for (int i = 0; i < p.length; i++) {
                    p[i] = random.nextFloat();
                }
                int outOff = random.nextInt(5);
                float[] out = TestWeights.gaussian(random, outOff + heads * headDim + 3);
                float[] before = out.clone();
                AttentionKernels.accumulate(p, pOff, pStride, heads, values, pad, type, tokens, headDim, out, outOff);
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < headDim; i++) {
                        int o = outOff + h * headDim + i;
                        double sum = before[o], sumAbs = Math.abs(before[o]);
                        for (int t = 0; t < tokens; t++) {
                            double term = p[pOff + h * pStride + t] * stored(values, pad, type, (long) t * headDim + i);
                            sum += term;
                            sumAbs += Math.abs(term);
                        }
                        // one FMA chain per output lane over the tokens: depth = tokens + 1
                        double tolerance = (tokens + 2) * TestWeights.U * sumAbs + Float.MIN_NORMAL;
                        assertTrue(Math.abs(out[o] - sum) <= tolerance, type + " heads " + heads + " headDim " + headDim
                                + " tokens " + tokens + ": out[" + h + "][" + i + "] = " + out[o] + ", expected " + sum);
                    }
                }
                for (int i = 0; i < out.length; i++) {
                    if (i < outOff || i >= outOff + heads * headDim) {
                        assertEquals(before[i], out[i], "accumulate wrote outside its heads at " + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void storeWritesOnlyItsValuesRoundedLikeHalf(DType type) {
        Random random = TestWeights.random("store " + type);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {1, 5, 16, 33, 128, 131}) {
                float[] src = TestWeights.gaussian(random, n + 4);
                src[random.nextInt(src.length)] = -0f;
                src[random.nextInt(src.length)] = Float.POSITIVE_INFINITY;
                src[random.nextInt(src.length)] = 1e-6f;
                MemorySegment dst = arena.allocate(2L * n + 8);
                dst.fill((byte) 0x33);
                AttentionKernels.store(src, 2, n, dst, 4, type);
                for (int i = 0; i < n; i++) {
                    assertEquals(Half.fromFloat(type, src[2 + i]), dst.get(ValueLayout.JAVA_SHORT_UNALIGNED, 4 + 2L * i));
                }
                for (long b : new long[] {0, 1, 2, 3, 4 + 2L * n, 5 + 2L * n, 6 + 2L * n, 7 + 2L * n}) {
                    assertEquals((byte) 0x33, dst.get(ValueLayout.JAVA_BYTE, b), "store wrote outside its range at " + b);
                }
            }
        }
    }

    @Test
    void keysOrValuesOfOtherTypesAreRejected() {
        MemorySegment none = MemorySegment.ofArray(new byte[64]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionKernels.scores(
                new float[8], 0, 1, 8, none, 0, DType.Q8_0, 1, 1f, new float[1], 0, 1));
        assertEquals("attention keys and values are stored as F16 or BF16, got Q8_0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AttentionKernels.accumulate(
                new float[1], 0, 1, 1, none, 0, DType.F32, 1, 8, new float[8], 0));
        assertThrows(IllegalArgumentException.class,
                () -> AttentionKernels.store(new float[8], 0, 8, none, 0, DType.Q4_0));
    }
}
