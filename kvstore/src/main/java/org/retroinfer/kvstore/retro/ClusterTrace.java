package org.retroinfer.kvstore.retro;

import java.util.Arrays;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.kvstore.AttentionShape;

/**
 * A diagnostic of one RetroInfer decode step: where one stored key (say, the position a copying
 * head attends to most) sits in the step's zones, and why its cluster was or was not retrieved.
 * The clusters are scored and selected exactly as {@link TripartiteAttention} does (spec §2.2); the
 * key is found by its stored bits, in the steady zone or among the members of the index's clusters.
 */
public final class ClusterTrace {
    private ClusterTrace() {}

    /** Where the key was found. */
    public enum Zone { STEADY, RETRIEVED, ESTIMATED, DROPPED, ABSENT }

    /**
     * The key's place for query head {@code head} of the group.
     *
     * @param zone              the zone attending the key this step
     * @param steadySlot        its slot in the steady zone (sinks first), or −1
     * @param cluster           the id of the cluster holding it, or −1
     * @param size              that cluster's members
     * @param rank              the cluster's rank by group score (0 = best) among non-empty clusters
     * @param headRank          its rank by this query head's centroid logit alone
     * @param retrieval         clusters retrieved this step (the retrieval budget)
     * @param clusters          clusters in the index
     * @param cosine            cosine between the key and the cluster's centroid (un-centred, as stored)
     * @param centredCosine     cosine between the two after subtracting the mean of all centroids weighted
     *                          by size (the index's mean key; k-means clusters centred keys)
     * @param score             the cluster's group score: Σ over the group of softmax(q·c/√d)
     * @param lastRetrieved     the group score of the last retrieved cluster (the bar to clear)
     * @param keyLogit          q·k/√d of this head for the key itself
     * @param centroidLogit     q·c/√d of this head for the key's cluster (the mean of its members' logits)
     * @param bestCentroidLogit this head's largest q·c/√d over the non-empty clusters
     * @param headShare         this head's own softmax share of the cluster (its part of {@code score})
     * @param maxMemberLogit    the largest q·k/√d of this head among the cluster's members
     */
    public record Located(Zone zone, int steadySlot, int cluster, int size, int rank, int headRank, int retrieval,
                          int clusters, double cosine, double centredCosine, double score, double lastRetrieved,
                          double keyLogit, double centroidLogit, double bestCentroidLogit, double headShare,
                          double maxMemberLogit) {}

    /**
     * Locates {@code key} (as stored: already rounded to the storage type) of {@code kvHead} in
     * {@code layer} of {@code sequence}, for query head {@code head} of the group whose queries are
     * at {@code q[qOff ..]}.
     */
    public static Located locate(RetroKvCache cache, int sequence, int layer, int kvHead, float[] q, int qOff,
                                 int head, float[] key) {
        AttentionShape shape = cache.shape();
        int d = shape.headDim();
        float scale = shape.scale();
        int hOff = qOff + head * d;
        SequenceLayer sl = cache.layer(sequence, layer);
        StoredTokens steady = sl.steady.tokensFrom(0);
        float[] row = new float[d];
        for (int t = 0; t < steady.length(); t++) {
            steady.readKey(kvHead, t, row, 0);
            if (Arrays.equals(row, key)) {
                return new Located(Zone.STEADY, t, -1, 0, -1, -1, 0, sl.index.clusters(), Double.NaN, Double.NaN,
                        Double.NaN, Double.NaN, dot(q, hOff, key, 0, d) * scale, Double.NaN, Double.NaN, Double.NaN,
                        Double.NaN);
            }
        }
        WaveIndex index = sl.index;
        int clusters = index.clusters();
        int found = -1;
        for (int b = 0; b < index.batchCount() && found < 0; b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            for (int c = 0; c < batch.clusters() && found < 0; c++) {
                for (int s = batch.starts()[c]; s < batch.starts()[c] + batch.sizes()[c]; s++) {
                    Dequantize.row(batch.type(), batch.data(), batch.keyOffset(s), d, row, 0);
                    if (Arrays.equals(row, key)) {
                        found = index.base(b) + c;
                        break;
                    }
                }
            }
        }
        if (found < 0) {
            return new Located(Zone.ABSENT, -1, -1, 0, -1, -1, 0, clusters, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, dot(q, hOff, key, 0, d) * scale, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        ClusterScorer scorer = new ClusterScorer(shape.groupSize(), clusters);
        scorer.logits(index, kvHead, q, qOff, d, scale, 0, clusters);
        float[] logits = Arrays.copyOf(scorer.weights(), shape.groupSize() * clusters);
        scorer.softmax();
        ClusterScorer.Selection selection = scorer.select(index, kvHead, index.budget());
        Zone zone = contains(selection.retrieval(), found) ? Zone.RETRIEVED
                : contains(selection.estimation(), found) ? Zone.ESTIMATED : Zone.DROPPED;
        // Ranks as select orders: by score, ties to the lower id, empty clusters left out.
        int rank = 0;
        int headRank = 0;
        double lastRetrieved = Double.POSITIVE_INFINITY;
        double bestCentroid = Double.NEGATIVE_INFINITY;
        double[] centroidMean = new double[d];
        long members = 0;
        float[] centroid = new float[d];
        float[] target = null;
        for (int c = 0; c < clusters; c++) {
            int b = index.batchOf(c);
            ClusterBatch batch = index.batch(kvHead, b);
            int size = batch.sizes()[c - index.base(b)];
            if (size == 0) {
                continue;
            }
            batch.centroid(c - index.base(b), centroid);
            for (int i = 0; i < d; i++) {
                centroidMean[i] += (double) size * centroid[i];
            }
            members += size;
            if (c == found) {
                target = centroid.clone();
            }
            float s = scorer.score(c);
            if (s > scorer.score(found) || (s == scorer.score(found) && c < found)) {
                rank++;
            }
            float y = logits[head * clusters + c];
            if (y > logits[head * clusters + found] || (y == logits[head * clusters + found] && c < found)) {
                headRank++;
            }
            bestCentroid = Math.max(bestCentroid, y);
        }
        for (int c : selection.retrieval()) {
            lastRetrieved = Math.min(lastRetrieved, scorer.score(c));
        }
        int b = index.batchOf(found);
        ClusterBatch batch = index.batch(kvHead, b);
        int local = found - index.base(b);
        double maxMember = Double.NEGATIVE_INFINITY;
        for (int s = batch.starts()[local]; s < batch.starts()[local] + batch.sizes()[local]; s++) {
            Dequantize.row(batch.type(), batch.data(), batch.keyOffset(s), d, row, 0);
            maxMember = Math.max(maxMember, dot(q, hOff, row, 0, d) * scale);
        }
        float[] keyCentred = new float[d];
        float[] centroidCentred = new float[d];
        for (int i = 0; i < d; i++) {
            float mean = (float) (centroidMean[i] / members);
            keyCentred[i] = key[i] - mean;
            centroidCentred[i] = target[i] - mean;
        }
        double headShare = scorer.weights()[head * clusters + found] / sum(scorer.weights(), head * clusters, clusters);
        return new Located(zone, -1, found, batch.sizes()[local], rank, headRank, selection.retrieval().length,
                clusters, cosine(key, target), cosine(keyCentred, centroidCentred), scorer.score(found), lastRetrieved,
                dot(q, hOff, key, 0, d) * scale, logits[head * clusters + found], bestCentroid, headShare, maxMember);
    }

    /**
     * The keys, as stored, of the members of {@code cluster} of {@code kvHead} in {@code layer} of
     * {@code sequence}: member j at {@code [j·headDim ..]}.
     */
    public static float[] memberKeys(RetroKvCache cache, int sequence, int layer, int kvHead, int cluster) {
        int d = cache.shape().headDim();
        WaveIndex index = cache.layer(sequence, layer).index;
        int b = index.batchOf(cluster);
        ClusterBatch batch = index.batch(kvHead, b);
        int local = cluster - index.base(b);
        float[] keys = new float[batch.sizes()[local] * d];
        for (int j = 0; j < batch.sizes()[local]; j++) {
            Dequantize.row(batch.type(), batch.data(), batch.keyOffset(batch.starts()[local] + j), d, keys, j * d);
        }
        return keys;
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) {
            if (x == id) {
                return true;
            }
        }
        return false;
    }

    private static double dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    private static double sum(float[] a, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[off + i];
        }
        return s;
    }

    private static double cosine(float[] a, float[] b) {
        return dot(a, 0, b, 0, a.length) / Math.sqrt(dot(a, 0, a, 0, a.length) * dot(b, 0, b, 0, b.length));
    }
}
