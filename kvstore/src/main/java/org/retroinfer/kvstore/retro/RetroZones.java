package org.retroinfer.kvstore.retro;

import java.util.Arrays;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DecodeZones;

/**
 * The zones of one RetroInfer decode step for one (sequence, layer, KV head), for
 * {@link org.retroinfer.kvstore.FidelityProbe}: every stored position scored exactly (the index
 * batch by batch in its cluster order, then the steady zone), the clusters ranked and selected as
 * {@link TripartiteAttention} ranks and selects them, and each position marked by its cluster's
 * zone; the steady zone is exact.
 */
final class RetroZones {
    private RetroZones() {}

    static DecodeZones of(AttentionShape shape, SequenceLayer sl, int kvHead, float[] q, int qOff) {
        int group = shape.groupSize();
        int d = shape.headDim();
        WaveIndex index = sl.index;
        int total = (int) (index.tokens() + sl.steady.count());
        byte[] zone = new byte[total];
        float[] scores = new float[group * total];
        byte[] clusterZone = new byte[index.clusters()];
        if (index.clusters() > 0) {
            ClusterScorer scorer = new ClusterScorer(group, index.clusters());
            scorer.logits(index, kvHead, q, qOff, d, shape.scale(), 0, index.clusters());
            scorer.softmax();
            ClusterScorer.Selection selection = scorer.select(index, kvHead, index.budget());
            for (int c : selection.retrieval()) {
                clusterZone[c] = DecodeZones.EXACT;
            }
            for (int c : selection.estimation()) {
                clusterZone[c] = DecodeZones.ESTIMATED;
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
            zone[position] = DecodeZones.EXACT;
        }
        return new DecodeZones(total, group, scores, zone);
    }
}
