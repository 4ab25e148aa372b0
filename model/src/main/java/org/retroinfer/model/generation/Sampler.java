package org.retroinfer.model.generation;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.retroinfer.kernels.gpu.RowArgmax;

/** Picks tokens from logits as its {@link SamplingParams} say, reproducibly for a seed. */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /**
     * Whether this sampler's token is always the largest logit's ({@link RowArgmax#of}), whatever the sequence so far:
     * greedy with no repetition penalty, which a device can choose without sending the logits back.
     */
    public boolean takesLargestLogit() {
        return params.isGreedy() && params.repetitionPenalty() == 1;
    }

    /**
     * The next token given {@code vocab} logits at {@code offset} (which are modified) and the
     * tokens already in the sequence.
     */
    public int sample(float[] logits, int offset, int vocab, BitSet seen) {
        if (params.repetitionPenalty() != 1) {
            float penalty = (float) params.repetitionPenalty();
            for (int t = seen.nextSetBit(0); t >= 0 && t < vocab; t = seen.nextSetBit(t + 1)) {
                float l = logits[offset + t];
                logits[offset + t] = l > 0 ? l / penalty : l * penalty;
            }
        }
        if (params.isGreedy()) {
            return RowArgmax.of(logits, offset, vocab);
        }
        int[] order = candidatesByLogit(logits, offset, vocab);
        int n = params.topK() > 0 ? Math.min(params.topK(), order.length) : order.length;
        double[] p = new double[n];
        double max = logits[offset + order[0]] / params.temperature();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(logits[offset + order[i]] / params.temperature() - max);
            sum += p[i];
        }
        // Top-p keeps the most likely tokens up to and including the one that reaches the mass.
        double cumulative = 0;
        int kept = n;
        for (int i = 0; i < n; i++) {
            cumulative += p[i] / sum;
            if (cumulative >= params.topP()) {
                kept = i + 1;
                break;
            }
        }
        double threshold = params.minP() * p[0];
        while (kept > 1 && p[kept - 1] < threshold) {
            kept--;
        }
        double total = 0;
        for (int i = 0; i < kept; i++) {
            total += p[i];
        }
        double u = random.nextDouble() * total;
        for (int i = 0; i < kept; i++) {
            u -= p[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[kept - 1];
    }

    /** Token ids sorted by logit, highest first (ties by id), NaN logits last. */
    private static int[] candidatesByLogit(float[] logits, int offset, int vocab) {
        long[] keys = new long[vocab];
        for (int t = 0; t < vocab; t++) {
            float l = logits[offset + t];
            // Sign-magnitude float bits of −l turned into an int of the same order, NaN last.
            int bits = Float.floatToIntBits(-l);
            int ordered = Float.isNaN(l) ? Integer.MAX_VALUE : bits ^ ((bits >> 31) & 0x7FFFFFFF);
            keys[t] = ((long) ordered << 32) | t;
        }
        Arrays.sort(keys);
        int[] order = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = (int) keys[i];
        }
        return order;
    }
}
