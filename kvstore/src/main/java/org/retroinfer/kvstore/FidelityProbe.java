package org.retroinfer.kvstore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Measures how closely a sparse attention (RetroInfer, StreamingLLM, Quest: any
 * {@link SparseKvCache}) follows exact attention on the queries, keys and values of a real model
 * run. It is a KV cache that answers every query exactly (so the model generates as with full
 * attention), and at every decode step also takes the sparse cache's answer from the same stored
 * keys and values, and records per layer:
 * <ul>
 *   <li>the relative error of the sparse output, ‖o_sparse − o_exact‖ / ‖o_exact‖;</li>
 *   <li>the attention mass covered: the exact softmax's share of the positions attended exactly
 *       (for RetroInfer the steady zone and the retrieved clusters), and of those plus the estimated
 *       ones (RetroInfer's estimation zone; the same as the first for caches that estimate nothing);</li>
 *   <li>the recall of the 100 highest-scoring positions: how many of them are attended exactly;</li>
 *   <li>the recall of the highest-scoring position: whether it is attended exactly (the position a
 *       copying head points at, which retrieval tasks need every step).</li>
 * </ul>
 * Every figure is per query head and decode step, averaged per layer. The probe owns the cache it
 * wraps and closes it.
 */
public final class FidelityProbe extends ForwardingKvCache {
    /** Positions of the highest exact scores checked for recall. */
    public static final int RECALL_AT = 100;

    /** The averages of one layer over its samples (query head × decode step). */
    public record LayerFidelity(int layer, long samples, double relativeError, double maxRelativeError,
                                double exactMass, double exactAndEstimatedMass, double recallAt100, double recallAt1) {}

    private final SparseKvCache cache;
    private final double[][] sums;
    private final double[] maxError;
    private final long[] samples;

    public FidelityProbe(SparseKvCache cache) {
        super(cache);
        this.cache = cache;
        int layers = cache.shape().layers();
        this.sums = new double[layers][5];
        this.maxError = new double[layers];
        this.samples = new long[layers];
    }

    /** The measurements so far, one entry per layer. */
    public List<LayerFidelity> fidelity() {
        List<LayerFidelity> layers = new ArrayList<>();
        for (int l = 0; l < sums.length; l++) {
            double n = Math.max(1, samples[l]);
            layers.add(new LayerFidelity(l, samples[l], sums[l][0] / n, maxError[l], sums[l][1] / n, sums[l][2] / n,
                    sums[l][3] / n, sums[l][4] / n));
        }
        return layers;
    }

    /** The sparse cache being probed (its statistics, its configuration). */
    public SparseKvCache cache() {
        return cache;
    }

    /** Exact attention for every row; sparse decode rows are also answered by the cache and compared. */
    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        AttentionShape shape = cache.shape();
        List<Integer> decodeEntries = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            if (batch.count(i) == 1 && cache.isSparse(batch.sequence(i))) {
                decodeEntries.add(i);
            }
        }
        float[] sparse = new float[out.length];
        // A row the sparse cache fails to write reads as NaN error, not as a perfect answer.
        Arrays.fill(sparse, Float.NaN);
        if (!decodeEntries.isEmpty()) {
            cache.attend(layer, batch, queries, sparse);
        }
        cache.attendExactly(layer, batch, queries, out);
        int group = shape.groupSize();
        int d = shape.headDim();
        for (int i : decodeEntries) {
            int row = batch.firstRow(i);
            for (int kvHead = 0; kvHead < shape.kvHeads(); kvHead++) {
                int qOff = row * shape.queryWidth() + kvHead * group * d;
                DecodeZones zones = cache.zones(batch.sequence(i), layer, kvHead, queries, qOff);
                for (int h = 0; h < group; h++) {
                    record(layer, zones, h, out, sparse, qOff + h * d, d);
                }
            }
        }
    }

    private void record(int layer, DecodeZones zones, int h, float[] exact, float[] sparse, int outOff, int d) {
        int total = zones.positions();
        float[] scores = zones.scores();
        byte[] zone = zones.zones();
        int base = h * total;
        double max = Double.NEGATIVE_INFINITY;
        int top = 0;
        for (int t = 0; t < total; t++) {
            if (scores[base + t] > max) {
                max = scores[base + t];
                top = t;
            }
        }
        double sum = 0;
        double exactMass = 0;
        double estimatedMass = 0;
        for (int t = 0; t < total; t++) {
            double p = Math.exp(scores[base + t] - max);
            sum += p;
            exactMass += zone[t] == DecodeZones.EXACT ? p : 0;
            estimatedMass += zone[t] == DecodeZones.ESTIMATED ? p : 0;
        }
        int k = Math.min(RECALL_AT, total);
        long[] keys = new long[total];
        for (int t = 0; t < total; t++) {
            // Sortable score bits above the position: distinct keys, ordered by score.
            int bits = Float.floatToRawIntBits(scores[base + t]);
            keys[t] = ((long) (bits ^ ((bits >> 31) & 0x7FFF_FFFF)) << 32) | t;
        }
        TopK.select(keys, total, k);
        int recalled = 0;
        for (int i = 0; i < k; i++) {
            recalled += zone[(int) keys[i]] == DecodeZones.EXACT ? 1 : 0;
        }
        double error = 0;
        double norm = 0;
        for (int i = 0; i < d; i++) {
            double diff = sparse[outOff + i] - exact[outOff + i];
            error += diff * diff;
            norm += (double) exact[outOff + i] * exact[outOff + i];
        }
        double relative = Math.sqrt(error / norm);
        sums[layer][0] += relative;
        sums[layer][1] += exactMass / sum;
        sums[layer][2] += (exactMass + estimatedMass) / sum;
        sums[layer][3] += (double) recalled / k;
        sums[layer][4] += zone[top] == DecodeZones.EXACT ? 1 : 0;
        maxError[layer] = Math.max(maxError[layer], relative);
        samples[layer]++;
    }
}
