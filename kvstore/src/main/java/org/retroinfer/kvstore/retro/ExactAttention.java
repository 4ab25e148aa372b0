package org.retroinfer.kvstore.retro;

import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.PartialSoftmax;

/**
 * Exact attention over every stored position of a (sequence, layer), for prefill rows: the index's
 * clusters (each batch's members are one run of keys and one of values, in cluster order, which
 * attention does not mind), the steady zone, and the prompt pages up to the row's own position.
 */
final class ExactAttention {
    private ExactAttention() {}

    /**
     * Attention for rows [firstRow, firstRow + count) of entry {@code layers[i]} of the batch, for
     * every entry with {@code exact[i]}; {@code queries} and {@code out} are laid out as
     * {@link org.retroinfer.kvstore.KvCache#attend} says.
     */
    static void attend(AttentionShape shape, RetroConfig config, BatchLayout batch, SequenceLayer[] layers,
                       boolean[] exact, float[] queries, float[] out) {
        int kvHeads = shape.kvHeads();
        int group = shape.groupSize();
        int d = shape.headDim();
        int rows = 0;
        for (int i = 0; i < batch.size(); i++) {
            rows += exact[i] ? batch.count(i) : 0;
        }
        int[] entryOfRow = new int[rows];
        int[] rowOfRow = new int[rows];
        for (int i = 0, r = 0; i < batch.size(); i++) {
            for (int j = 0; exact[i] && j < batch.count(i); j++, r++) {
                entryOfRow[r] = i;
                rowOfRow[r] = batch.firstRow(i) + j;
            }
        }
        int tile = Math.max(RetrievalZone.TILE, config.pageTokens());
        SplitWork.run(rows * kvHeads, config.threads(), (start, end) -> {
            PartialSoftmax state = new PartialSoftmax(group, d);
            float[] scores = new float[group * tile];
            for (int task = start; task < end; task++) {
                int r = task / kvHeads;
                int kvHead = task % kvHeads;
                int entry = entryOfRow[r];
                int row = rowOfRow[r];
                SequenceLayer layer = layers[entry];
                int qOff = row * shape.queryWidth() + kvHead * group * d;
                state.reset();
                attendIndex(layer.index, kvHead, queries, qOff, shape.scale(), state, scores);
                layer.steady.attend(kvHead, queries, qOff, shape.scale(), state, scores, RetrievalZone.TILE);
                KvPages prompt = layer.prompt();
                if (prompt != null) {
                    // Row j of an entry with `count` rows is prompt position length − count + j.
                    long visible = prompt.length() - batch.count(entry) + (row - batch.firstRow(entry)) + 1;
                    prompt.attend(kvHead, queries, qOff, visible, shape.scale(), state, scores);
                }
                state.writeOutput(out, qOff);
            }
        });
    }

    /** Folds every member of every cluster of {@code kvHead} into {@code state}. */
    static void attendIndex(WaveIndex index, int kvHead, float[] q, int qOff, float scale, PartialSoftmax state,
                            float[] scores) {
        int tile = RetrievalZone.TILE;
        for (int b = 0; b < index.batchCount(); b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            for (int first = 0; first < batch.tokens(); first += tile) {
                int n = Math.min(tile, batch.tokens() - first);
                AttentionKernels.scores(q, qOff, state.heads(), state.headDim(), batch.data(), batch.keyOffset(first),
                        batch.type(), n, scale, scores, 0, tile);
                state.add(scores, tile, n, batch.data(), batch.valueOffset(first), batch.type());
            }
        }
    }
}
