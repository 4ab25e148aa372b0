package org.retroinfer.kvstore.retro;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;

/**
 * Measures how closely RetroInfer attention follows exact attention on the queries, keys and values
 * of a real model run. It is a KV cache that answers every query exactly (so the model generates
 * as with full attention), and at every decode step also computes RetroInfer's answer from the same
 * stored keys and values, and records per layer:
 * <ul>
 *   <li>the relative error of RetroInfer's output, ‖o_retro − o_exact‖ / ‖o_exact‖;</li>
 *   <li>the attention mass covered: the exact softmax's share of the positions RetroInfer attends
 *       exactly (steady zone and retrieved clusters), and of those plus the estimated clusters;</li>
 *   <li>the recall of the 100 highest-scoring positions: how many of them are attended exactly.</li>
 * </ul>
 * Every figure is per query head and decode step, averaged per layer.
 */
public final class FidelityProbe implements KvCache {
    /** Positions of the highest exact scores checked for recall. */
    public static final int RECALL_AT = 100;

    /** The averages of one layer over its samples (query head × decode step). */
    public record LayerFidelity(int layer, long samples, double relativeError, double maxRelativeError,
                                double exactMass, double exactAndEstimatedMass, double recallAt100) {}

    private final RetroKvCache cache;
    private final double[][] sums;
    private final double[] maxError;
    private final long[] samples;

    public FidelityProbe(AttentionShape shape, RetroConfig config) {
        this.cache = new RetroKvCache(shape, config);
        this.sums = new double[shape.layers()][4];
        this.maxError = new double[shape.layers()];
        this.samples = new long[shape.layers()];
    }

    /** The measurements so far, one entry per layer. */
    public List<LayerFidelity> fidelity() {
        List<LayerFidelity> layers = new ArrayList<>();
        for (int l = 0; l < sums.length; l++) {
            double n = Math.max(1, samples[l]);
            layers.add(new LayerFidelity(l, samples[l], sums[l][0] / n, maxError[l], sums[l][1] / n, sums[l][2] / n,
                    sums[l][3] / n));
        }
        return layers;
    }

    /** The RetroInfer cache being probed (its index statistics, its configuration). */
    public RetroKvCache retro() {
        return cache;
    }

    @Override
    public AttentionShape shape() {
        return cache.shape();
    }

    @Override
    public int openSequence() {
        return cache.openSequence();
    }

    @Override
    public void closeSequence(int sequence) {
        cache.closeSequence(sequence);
    }

    @Override
    public long length(int sequence, int layer) {
        return cache.length(sequence, layer);
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keys, float[] values) {
        cache.append(layer, batch, keys, values);
    }

    /** Exact attention for every row; decode rows are also answered by RetroInfer and compared. */
    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        AttentionShape shape = cache.shape();
        List<Integer> decodeEntries = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            if (batch.count(i) == 1 && cache.isDecoding(batch.sequence(i))) {
                decodeEntries.add(i);
            }
        }
        float[] retro = new float[out.length];
        if (!decodeEntries.isEmpty()) {
            cache.attend(layer, batch, queries, retro);
        }
        SequenceLayer[] layers = new SequenceLayer[batch.size()];
        boolean[] all = new boolean[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            layers[i] = cache.layer(batch.sequence(i), layer);
            all[i] = true;
        }
        ExactAttention.attend(shape, cache.config(), batch, layers, all, queries, out);
        for (int i : decodeEntries) {
            int row = batch.firstRow(i);
            for (int kvHead = 0; kvHead < shape.kvHeads(); kvHead++) {
                measure(layer, layers[i], kvHead, queries, row * shape.queryWidth()
                        + kvHead * shape.groupSize() * shape.headDim(), out, retro);
            }
        }
    }

    /** Scores every stored position exactly, and compares with what RetroInfer selected. */
    private void measure(int layer, SequenceLayer sl, int kvHead, float[] q, int qOff, float[] exact, float[] retro) {
        AttentionShape shape = cache.shape();
        int group = shape.groupSize();
        int d = shape.headDim();
        WaveIndex index = sl.index;
        int total = (int) (index.tokens() + sl.steady.count());
        // Zone of each stored position: 0 dropped, 1 attended exactly, 2 estimated.
        byte[] zone = new byte[total];
        float[] scores = new float[group * total];
        byte[] clusterZone = new byte[index.clusters()];
        if (index.clusters() > 0) {
            ClusterScorer scorer = new ClusterScorer(group, index.clusters());
            scorer.logits(index, kvHead, q, qOff, d, shape.scale(), 0, index.clusters());
            scorer.softmax();
            ClusterScorer.Selection selection = scorer.select(index, kvHead, index.budget());
            for (int c : selection.retrieval()) {
                clusterZone[c] = 1;
            }
            for (int c : selection.estimation()) {
                clusterZone[c] = 2;
            }
        }
        int position = 0;
        for (int b = 0; b < index.batchCount(); b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            AttentionKernels.scores(q, qOff, group, d, batch.data(), batch.keyOffset(0), batch.type(), batch.tokens(),
                    shape.scale(), scores, position, total);
            for (int c = 0; c < batch.clusters(); c++) {
                Arrays.fill(zone, position + batch.starts()[c], position + batch.starts()[c] + batch.sizes()[c],
                        clusterZone[index.base(b) + c]);
            }
            position += batch.tokens();
        }
        StoredTokens steady = sl.steady.tokensFrom(0);
        float[] key = new float[d];
        for (int t = 0; t < steady.length(); t++, position++) {
            steady.readKey(kvHead, t, key, 0);
            for (int h = 0; h < group; h++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += q[qOff + h * d + i] * key[i];
                }
                scores[h * total + position] = (float) (dot * shape.scale());
            }
            zone[position] = 1;
        }
        for (int h = 0; h < group; h++) {
            record(layer, h, scores, total, zone, exact, retro, qOff + h * d, d);
        }
    }

    private void record(int layer, int h, float[] scores, int total, byte[] zone, float[] exact,
                                     float[] retro, int outOff, int d) {
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < total; t++) {
            max = Math.max(max, scores[h * total + t]);
        }
        double sum = 0;
        double exactMass = 0;
        double estimatedMass = 0;
        for (int t = 0; t < total; t++) {
            double p = Math.exp(scores[h * total + t] - max);
            sum += p;
            exactMass += zone[t] == 1 ? p : 0;
            estimatedMass += zone[t] == 2 ? p : 0;
        }
        int k = Math.min(RECALL_AT, total);
        long[] keys = new long[total];
        for (int t = 0; t < total; t++) {
            int bits = Float.floatToRawIntBits(scores[h * total + t]);
            keys[t] = ((long) (bits ^ ((bits >> 31) & 0x7FFF_FFFF)) << 32) | t;
        }
        TopK.select(keys, total, k);
        int recalled = 0;
        for (int i = 0; i < k; i++) {
            recalled += zone[(int) keys[i]] == 1 ? 1 : 0;
        }
        double error = 0;
        double norm = 0;
        for (int i = 0; i < d; i++) {
            double diff = retro[outOff + i] - exact[outOff + i];
            error += diff * diff;
            norm += (double) exact[outOff + i] * exact[outOff + i];
        }
        double relative = Math.sqrt(error / norm);
        sums[layer][0] += relative;
        sums[layer][1] += exactMass / sum;
        sums[layer][2] += (exactMass + estimatedMass) / sum;
        sums[layer][3] += (double) recalled / k;
        maxError[layer] = Math.max(maxError[layer], relative);
        samples[layer]++;
    }

    @Override
    public void endOfPrefill(int sequence) {
        cache.endOfPrefill(sequence);
    }

    @Override
    public long memoryBytes() {
        return cache.memoryBytes();
    }

    @Override
    public void close() {
        cache.close();
    }
}
