package org.retroinfer.kvstore.retro;

import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kvstore.PartialSoftmax;

/**
 * Exact attention over the members of the retrieved clusters (spec §2.1's retrieval zone). Each
 * cluster's keys and values are one contiguous run; small clusters are scored into one tile of
 * {@link #TILE} positions so that the softmax is folded once per tile rather than once per cluster.
 */
final class RetrievalZone {
    /** Positions scored before one fold; scratch for scores is heads × TILE floats. */
    static final int TILE = 256;

    private RetrievalZone() {}

    /**
     * Folds the members of {@code clusters[i]} of {@code kvHead}, for every i ≡ part (mod parts),
     * into {@code state}, for the state's query heads at {@code q[qOff ..]}.
     */
    static void attend(WaveIndex index, int kvHead, int[] clusters, int part, int parts, float[] q, int qOff,
                       float scale, PartialSoftmax state, float[] scores) {
        int heads = state.heads();
        int headDim = state.headDim();
        // The clusters scored into the tile but not yet accumulated.
        ClusterBatch[] batches = new ClusterBatch[TILE];
        int[] starts = new int[TILE];
        int[] sizes = new int[TILE];
        int pending = 0;
        int filled = 0;
        for (int i = part; i < clusters.length; i += parts) {
            int c = clusters[i];
            int b = index.batchOf(c);
            ClusterBatch batch = index.batch(kvHead, b);
            int local = c - index.base(b);
            int size = batch.sizes()[local];
            int start = batch.starts()[local];
            if (filled + size > TILE) {
                fold(state, scores, filled, batches, starts, sizes, pending);
                pending = 0;
                filled = 0;
            }
            if (size > TILE) {
                for (int first = 0; first < size; first += TILE) {
                    int n = Math.min(TILE, size - first);
                    AttentionKernels.scores(q, qOff, heads, headDim, batch.data(), batch.keyOffset(start + first),
                            batch.type(), n, scale, scores, 0, TILE);
                    state.add(scores, TILE, n, batch.data(), batch.valueOffset(start + first), batch.type());
                }
                continue;
            }
            AttentionKernels.scores(q, qOff, heads, headDim, batch.data(), batch.keyOffset(start), batch.type(), size,
                    scale, scores, filled, TILE);
            batches[pending] = batch;
            starts[pending] = start;
            sizes[pending] = size;
            pending++;
            filled += size;
        }
        fold(state, scores, filled, batches, starts, sizes, pending);
    }

    private static void fold(PartialSoftmax state, float[] scores, int filled, ClusterBatch[] batches, int[] starts,
                             int[] sizes, int pending) {
        if (filled == 0) {
            return;
        }
        state.foldScores(scores, 0, TILE, filled);
        for (int p = 0, off = 0; p < pending; off += sizes[p], p++) {
            ClusterBatch batch = batches[p];
            state.accumulate(scores, off, TILE, sizes[p], batch.data(), batch.valueOffset(starts[p]), batch.type());
        }
    }
}
