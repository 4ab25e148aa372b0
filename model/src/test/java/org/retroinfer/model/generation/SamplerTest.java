package org.retroinfer.model.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static float[] randomLogits(Random random, int n) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (random.nextGaussian() * 2);
        }
        return l;
    }

    @Test
    void greedyPicksTheLargestLogitAndTheRepetitionPenaltyDemotesSeenTokens() {
        float[] logits = {0.5f, 3f, 2.5f, -1f};
        assertEquals(1, new Sampler(SamplingParams.greedy()).sample(logits.clone(), 0, 4, new BitSet()));
        BitSet seen = new BitSet();
        seen.set(1);
        SamplingParams penalised = new SamplingParams(0, 1, 0, 0, 1.5, 0);
        assertEquals(2, new Sampler(penalised).sample(logits.clone(), 0, 4, seen));
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int trial = 0; trial < 50; trial++) {
            float[] logits = randomLogits(random, 257);
            int greedy = new Sampler(SamplingParams.greedy()).sample(logits.clone(), 0, 257, new BitSet());
            Sampler hot = new Sampler(new SamplingParams(5, 1, 1, 0, 1, random.nextLong()));
            assertEquals(greedy, hot.sample(logits.clone(), 0, 257, new BitSet()), "seed " + seed);
        }
    }

    @Test
    void samplingFollowsTheSoftmaxOfTheScaledLogits() {
        float[] logits = {1f, 2f, 0f, -1f, 1.5f};
        double temperature = 0.8;
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] / temperature);
            sum += p[i];
        }
        Sampler sampler = new Sampler(new SamplingParams(temperature, 1, 0, 0, 1, 42));
        int draws = 40_000;
        int[] counts = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            counts[sampler.sample(logits.clone(), 0, logits.length, new BitSet())]++;
        }
        for (int i = 0; i < p.length; i++) {
            double expected = p[i] / sum;
            double sd = Math.sqrt(expected * (1 - expected) / draws);
            assertEquals(expected, counts[i] / (double) draws, 5 * sd, "token " + i);
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingTheMassAndMinPCutsUnlikelyTokens() {
        // Probabilities at temperature 1: about 0.64, 0.24, 0.09, 0.03.
        float[] logits = {3f, 2f, 1f, 0f};
        Sampler nucleus = new Sampler(new SamplingParams(1, 0.8, 0, 0, 1, 7));
        Sampler minP = new Sampler(new SamplingParams(1, 1, 0, 0.2, 1, 7));
        boolean[] nucleusSaw = new boolean[4];
        boolean[] minPSaw = new boolean[4];
        for (int i = 0; i < 5000; i++) {
            nucleusSaw[nucleus.sample(logits.clone(), 0, 4, new BitSet())] = true;
            minPSaw[minP.sample(logits.clone(), 0, 4, new BitSet())] = true;
        }
        assertTrue(nucleusSaw[0] && nucleusSaw[1], "top-p 0.8 keeps the two most likely tokens");
        assertTrue(!nucleusSaw[2] && !nucleusSaw[3], "top-p 0.8 drops the rest");
        // min-p 0.2 keeps tokens with p ≥ 0.2·0.64 = 0.128: tokens 0 and 1.
        assertTrue(minPSaw[0] && minPSaw[1] && !minPSaw[2] && !minPSaw[3], "min-p 0.2 keeps tokens 0 and 1");
    }

    @Test
    void theSameSeedGivesTheSameTokens() {
        Random random = new Random(3);
        float[] logits = randomLogits(random, 1000);
        SamplingParams params = new SamplingParams(1.2, 0.95, 50, 0.01, 1.1, 1234);
        Sampler a = new Sampler(params);
        Sampler b = new Sampler(params);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.sample(logits.clone(), 0, 1000, new BitSet()), b.sample(logits.clone(), 0, 1000, new BitSet()));
        }
    }

    @Test
    void outOfRangeParametersAreRejectedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1, 1, 0, 0, 1, 0))
                .getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 0, 0, 0, 1, 0))
                .getMessage().contains("top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, -2, 0, 1, 0))
                .getMessage().contains("top-k"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, 0, 1, 1, 0))
                .getMessage().contains("min-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, 0, 0, 0, 0))
                .getMessage().contains("repetition penalty"));
    }
}
