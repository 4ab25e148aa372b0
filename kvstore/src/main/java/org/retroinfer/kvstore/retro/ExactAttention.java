package org.retroinfer.kvstore.retro;

import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.PrefillAttention;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.PartialSoftmax;
import org.retroinfer.kvstore.PrefillBlocks;

/**
 * Exact attention over every stored position of a (sequence, layer), for prefill rows: the index's
 * clusters (each batch's members are one run of keys and one of values, in cluster order, which
 * attention does not mind), the steady zone, and the prompt pages up to the row's own position.
 */
final class ExactAttention {
    private ExactAttention() {}

    /**
     * Attention for the rows of every entry {@code layers[i]} of the batch with {@code exact[i]};
     * {@code queries} and {@code out} are laid out as {@link org.retroinfer.kvstore.KvCache#attend}
     * says. Entries with several rows (prefill chunks) are attended in blocks of rows
     * ({@link PrefillBlocks}), which read each key once per block; single rows one at a time.
     */
    static void attend(AttentionShape shape, RetroConfig config, BatchLayout batch, SequenceLayer[] layers,
                       boolean[] exact, float[] queries, float[] out) {
        boolean[] blocked = new boolean[batch.size()];
        long[] visible = new long[batch.size()];
        int blockedEntries = 0;
        int singleRows = 0;
        for (int i = 0; i < batch.size(); i++) {
            blocked[i] = exact[i] && batch.count(i) > 1;
            visible[i] = layers[i].length();
            blockedEntries += blocked[i] ? 1 : 0;
            singleRows += exact[i] && !blocked[i] ? 1 : 0;
        }
        if (blockedEntries > 0) {
            PrefillBlocks.attend(shape, batch, blocked, visible, queries, out, config.threads(),
                    (entry, kvHead, firstRow, block) -> {
                        SequenceLayer layer = layers[entry];
                        foldIndex(layer.index, kvHead, block);
                        layer.steady.attend(kvHead, block);
                        KvPages prompt = layer.prompt();
                        // Row j of an entry with `count` rows is prompt position length − count + j.
                        prompt.attend(kvHead, prompt.length() - batch.count(entry) + firstRow + 1, block);
                    });
        }
        if (singleRows > 0) {
            attendSingleRows(shape, config, batch, layers, exact, blocked, singleRows, queries, out);
        }
    }

    /** Exact attention of the exact entries with one row each. */
    private static void attendSingleRows(AttentionShape shape, RetroConfig config, BatchLayout batch,
                                         SequenceLayer[] layers, boolean[] exact, boolean[] blocked, int rows,
                                         float[] queries, float[] out) {
        int kvHeads = shape.kvHeads();
        int group = shape.groupSize();
        int d = shape.headDim();
        int[] entryOfRow = new int[rows];
        int[] rowOfRow = new int[rows];
        for (int i = 0, r = 0; i < batch.size(); i++) {
            if (exact[i] && !blocked[i]) {
                entryOfRow[r] = i;
                rowOfRow[r++] = batch.firstRow(i);
            }
        }
        int tile = Math.max(RetrievalZone.TILE, config.pageTokens());
        SplitWork.run(rows * kvHeads, config.threads(), (start, end) -> {
            PartialSoftmax state = new PartialSoftmax(group, d);
            float[] scores = new float[group * tile];
            for (int task = start; task < end; task++) {
                int r = task / kvHeads;
                int kvHead = task % kvHeads;
                SequenceLayer layer = layers[entryOfRow[r]];
                int qOff = rowOfRow[r] * shape.queryWidth() + kvHead * group * d;
                state.reset();
                attendIndex(layer.index, kvHead, queries, qOff, shape.scale(), state, scores);
                layer.steady.attend(kvHead, queries, qOff, shape.scale(), state, scores, RetrievalZone.TILE);
                KvPages prompt = layer.prompt();
                if (prompt != null) {
                    // The row is the last stored position.
                    prompt.attend(kvHead, queries, qOff, prompt.length(), shape.scale(), state, scores);
                }
                state.writeOutput(out, qOff);
            }
        });
    }

    /** Folds every member of every cluster of {@code kvHead} into a block of prefill rows, which all see them. */
    private static void foldIndex(WaveIndex index, int kvHead, PrefillAttention block) {
        for (int b = 0; b < index.batchCount(); b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            if (batch.tokens() > 0) {
                block.add(batch.data(), batch.keyOffset(0), batch.data(), batch.valueOffset(0), batch.type(),
                        batch.tokens());
            }
        }
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
