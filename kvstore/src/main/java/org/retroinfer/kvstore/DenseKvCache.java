package org.retroinfer.kvstore;

import java.lang.foreign.Arena;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;

/**
 * Exact attention over every stored position. Keys and values are kept off-heap as F16 or BF16 in
 * pages of {@code pageTokens} positions per (sequence, layer), addressed with long offsets; math is
 * F32. Within a page each KV head's keys (then values) are contiguous, so a GQA group's query heads
 * stream each page once.
 */
public final class DenseKvCache implements KvCache {
    /** Storage type of K and V, and positions per page. */
    public record Config(DType storage, int pageTokens) {
        public Config {
            if (storage != DType.F16 && storage != DType.BF16) {
                throw new IllegalArgumentException("KV storage must be F16 or BF16, got " + storage);
            }
            if (pageTokens < 1 || pageTokens > 1 << 16) {
                throw new IllegalArgumentException("pageTokens must be in [1, 65536], got " + pageTokens);
            }
        }

        public static Config defaults() {
            return new Config(DType.F16, 256);
        }
    }

    private final AttentionShape shape;
    private final Config config;
    private final OpenSequences<Sequence> sequences = new OpenSequences<>();

    public DenseKvCache(AttentionShape shape, Config config) {
        this.shape = shape;
        this.config = config;
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public Config config() {
        return config;
    }

    @Override
    public int openSequence() {
        return sequences.open(new Sequence(shape.layers()));
    }

    @Override
    public void closeSequence(int sequence) {
        Sequence s = sequences.remove(sequence);
        s.arena.close();
    }

    @Override
    public long length(int sequence, int layer) {
        return sequence(sequence).layers[layer].length();
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keys, float[] values) {
        int width = shape.kvWidth();
        for (int i = 0; i < batch.size(); i++) {
            KvPages pages = sequence(batch.sequence(i)).layers[layer];
            int row = batch.firstRow(i);
            for (int r = 0; r < batch.count(i); r++, row++) {
                pages.append(keys, values, row * width);
            }
        }
    }

    /**
     * Entries with several rows (prefill chunks) are attended in blocks of rows
     * ({@link PrefillBlocks}), which read each page once per block; single rows (decode steps)
     * one row and KV head per task, which reads each page once per row as decoding must anyway.
     */
    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        KvPages[] pagesOfEntry = new KvPages[batch.size()];
        boolean[] blocked = new boolean[batch.size()];
        long[] visible = new long[batch.size()];
        int singleRows = 0;
        for (int i = 0; i < batch.size(); i++) {
            pagesOfEntry[i] = sequence(batch.sequence(i)).layers[layer];
            blocked[i] = batch.count(i) > 1;
            visible[i] = pagesOfEntry[i].length();
            singleRows += blocked[i] ? 0 : 1;
        }
        if (singleRows < batch.size()) {
            // Row r of an entry with `count` rows is position length − count + r.
            PrefillBlocks.attend(shape, batch, blocked, visible, queries, out, ComputePool.threads(),
                    (entry, kvHead, firstRow, block) -> {
                        KvPages pages = pagesOfEntry[entry];
                        pages.attend(kvHead, pages.length() - batch.count(entry) + firstRow + 1, block);
                    });
        }
        if (singleRows > 0) {
            attendSingleRows(batch, blocked, pagesOfEntry, singleRows, queries, out);
        }
    }

    /** Attention of the entries with one row each, which sees every stored position. */
    private void attendSingleRows(BatchLayout batch, boolean[] blocked, KvPages[] pagesOfEntry, int singleRows,
                                  float[] queries, float[] out) {
        int kvHeads = shape.kvHeads();
        int group = shape.groupSize();
        int d = shape.headDim();
        int[] entryOf = new int[singleRows];
        int[] rowOf = new int[singleRows];
        for (int i = 0, j = 0, row = 0; i < batch.size(); row += batch.count(i), i++) {
            if (!blocked[i]) {
                entryOf[j] = i;
                rowOf[j++] = row;
            }
        }
        ComputePool.forRange(singleRows * kvHeads, (start, end) -> {
            PartialSoftmax state = new PartialSoftmax(group, d);
            float[] scores = new float[group * config.pageTokens()];
            for (int task = start; task < end; task++) {
                int j = task / kvHeads;
                int kvHead = task % kvHeads;
                KvPages pages = pagesOfEntry[entryOf[j]];
                int qOff = rowOf[j] * shape.queryWidth() + kvHead * group * d;
                state.reset();
                pages.attend(kvHead, queries, qOff, pages.length(), shape.scale(), state, scores);
                state.writeOutput(out, qOff);
            }
        });
    }

    /**
     * The bytes one sequence of {@code positions} positions holds: whole pages of every layer, so
     * that a server can admit sequences against a memory budget before it runs them.
     */
    public long sequenceBytes(long positions) {
        long pages = (positions + config.pageTokens() - 1) / config.pageTokens();
        return shape.layers() * pages * KvPages.pageBytes(shape.kvHeads(), shape.headDim(), config.pageTokens());
    }

    @Override
    public long sequenceBytesBound(long promptTokens, long generatedTokens) {
        return sequenceBytes(promptTokens + generatedTokens);
    }

    @Override
    public long memoryBytes() {
        long total = 0;
        for (Sequence s : sequences.all()) {
            total += s.bytes();
        }
        return total;
    }

    @Override
    public void close() {
        for (Integer id : sequences.ids()) {
            closeSequence(id);
        }
    }

    /**
     * The pages of an open sequence's layer, for caches that keep their keys and values in a dense
     * store and attend to a selection of them (the baselines of
     * {@code org.retroinfer.kvstore.baseline}). Appending through them bypasses this cache's
     * bookkeeping; callers read.
     */
    public KvPages pages(int sequence, int layer) {
        return sequence(sequence).layers[layer];
    }

    private Sequence sequence(int id) {
        return sequences.get(id);
    }

    /** One sequence's pages, all freed together when it closes. */
    private final class Sequence {
        final Arena arena = Arena.ofShared();
        final KvPages[] layers;

        Sequence(int layerCount) {
            layers = new KvPages[layerCount];
            for (int l = 0; l < layerCount; l++) {
                layers[l] = new KvPages(shape.kvHeads(), shape.headDim(), config.storage(), config.pageTokens(), arena);
            }
        }

        long bytes() {
            long total = 0;
            for (KvPages pages : layers) {
                total += pages.bytes();
            }
            return total;
        }
    }
}
