package org.retroinfer.kvstore.baseline;

import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DenseKvCache;

/**
 * The exact rows of a batch that mixes them with sparse decode rows, answered by the dense store:
 * the exact entries' rows are gathered into a batch of their own, attended, and scattered back, so
 * that the store does not also compute the sparse rows exactly.
 */
final class ExactRows {
    private ExactRows() {}

    /** Writes the attention of the rows of every entry i of {@code batch} without {@code sparse[i]}. */
    static void attend(DenseKvCache store, int layer, BatchLayout batch, boolean[] sparse, float[] queries,
                       float[] out) {
        int entries = 0;
        for (boolean s : sparse) {
            entries += s ? 0 : 1;
        }
        if (entries == batch.size()) {
            store.attend(layer, batch, queries, out);
            return;
        }
        int[] ids = new int[entries];
        int[] counts = new int[entries];
        for (int i = 0, j = 0; i < batch.size(); i++) {
            if (!sparse[i]) {
                ids[j] = batch.sequence(i);
                counts[j++] = batch.count(i);
            }
        }
        BatchLayout exact = new BatchLayout(ids, counts);
        int width = store.shape().queryWidth();
        float[] q = new float[exact.rows() * width];
        float[] o = new float[q.length];
        for (int i = 0, row = 0; i < batch.size(); i++) {
            if (!sparse[i]) {
                System.arraycopy(queries, batch.firstRow(i) * width, q, row * width, batch.count(i) * width);
                row += batch.count(i);
            }
        }
        store.attend(layer, exact, q, o);
        for (int i = 0, row = 0; i < batch.size(); i++) {
            if (!sparse[i]) {
                System.arraycopy(o, row * width, out, batch.firstRow(i) * width, batch.count(i) * width);
                row += batch.count(i);
            }
        }
    }
}
