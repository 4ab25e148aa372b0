package org.retroinfer.kvstore.baseline;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DecodeZones;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.OpenSequences;
import org.retroinfer.kvstore.PartialSoftmax;
import org.retroinfer.kvstore.SparseKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;

/**
 * A sparse attention baseline at RetroInfer's exact budget: the keys and values live in a
 * {@link DenseKvCache} (its pages, its exact prefill path), and each decode row attends exactly to
 * a selection of positions, per KV head, made by the subclass.
 *
 * <p><b>Equal budget.</b> Each decode step of a (sequence, layer) attends exactly to as many
 * positions as RetroInfer at the {@code matched} settings ({@link MatchedBudget}): its steady zone
 * (the first {@code sinks} positions and the last ones it has not indexed: the prompt's
 * {@code window} and the generated positions since its last index update) plus the retrieval
 * zone's nominal size, round(nprobe · indexed / clusters) with nprobe = max(round(C · r), 1) for an
 * index of C clusters ({@link org.retroinfer.kvstore.retro.ZoneBudget#retrievalTokens}), about the
 * fraction r ({@code retrievalBudget}, 1.8% by default) of the indexed positions. The steady zone
 * is attended here as in RetroInfer; the subclass picks the retrieval zone's positions among the
 * ones between (those RetroInfer would have indexed). As in RetroInfer, prefill rows, and every
 * row of a sequence before its {@link #endOfPrefill}, are exact; a step with several rows makes a
 * sequence a prefill again.
 *
 * <p>Decode math is F32 over the stored F16/BF16 keys and values, one (row, KV head) per task on
 * the compute pool; the GQA group's query heads share the selection and stream each run once.
 */
public abstract sealed class SelectiveKvCache implements SparseKvCache permits StreamingLlmKvCache, QuestKvCache {
    /** What a subclass keeps per (sequence, layer) beside the pages, built as positions are appended. */
    interface LayerState {
        /** Position {@code position} was just stored in {@code pages}. */
        void appended(KvPages pages, long position);

        /** Bytes held. */
        long bytes();
    }

    /** The state of a selection that needs none. */
    static final LayerState NO_STATE = new LayerState() {
        @Override
        public void appended(KvPages pages, long position) {}

        @Override
        public long bytes() {
            return 0;
        }
    };

    private final AttentionShape shape;
    private final RetroConfig matched;
    private final DenseKvCache store;
    private final OpenSequences<Sequence> sequences = new OpenSequences<>();

    SelectiveKvCache(AttentionShape shape, RetroConfig matched) {
        this.shape = shape;
        this.matched = matched;
        this.store = new DenseKvCache(shape, new DenseKvCache.Config(matched.storage(), matched.pageTokens()));
    }

    /** A new (sequence, layer)'s state, allocating from the sequence's arena. */
    abstract LayerState newLayerState(Arena arena);

    /**
     * Adds to {@code runs}, in order, exactly min({@code budget}, to − from) positions of [from, to)
     * for the GQA group of {@code kvHead} whose queries are at {@code q[qOff ..]}.
     */
    abstract void selectBetween(LayerState state, KvPages pages, int kvHead, float[] q, int qOff, long from, long to,
                                long budget, PositionRuns runs);

    @Override
    public AttentionShape shape() {
        return shape;
    }

    /** The RetroInfer settings whose exact budget this cache matches; also its storage type and page size. */
    public RetroConfig matched() {
        return matched;
    }

    @Override
    public int openSequence() {
        int stored = store.openSequence();
        int id = sequences.open(new Sequence());
        // Both registries hand out ids in opening order and are opened and closed together.
        if (id != stored) {
            throw new IllegalStateException("sequence ids diverged: " + id + " here, " + stored + " in the store");
        }
        return id;
    }

    @Override
    public void closeSequence(int sequence) {
        Sequence s = sequences.remove(sequence);
        store.closeSequence(sequence);
        s.arena.close();
    }

    @Override
    public long length(int sequence, int layer) {
        return store.length(sequence, layer);
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keys, float[] values) {
        store.append(layer, batch, keys, values);
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = sequences.get(batch.sequence(i));
            if (batch.count(i) > 1) {
                s.decoding = false;
            }
            KvPages pages = store.pages(batch.sequence(i), layer);
            for (long p = pages.length() - batch.count(i); p < pages.length(); p++) {
                if (s.decoding) {
                    s.budgets[layer].appendGenerated();
                } else {
                    s.budgets[layer].appendPrompt();
                }
                s.states[layer].appended(pages, p);
            }
        }
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        boolean[] sparse = new boolean[batch.size()];
        int sparseRows = 0;
        for (int i = 0; i < batch.size(); i++) {
            sparse[i] = batch.count(i) == 1 && sequences.get(batch.sequence(i)).decoding;
            sparseRows += sparse[i] ? 1 : 0;
        }
        if (sparseRows < batch.size()) {
            ExactRows.attend(store, layer, batch, sparse, queries, out);
        }
        if (sparseRows == 0) {
            return;
        }
        int[] entryOf = new int[sparseRows];
        for (int i = 0, j = 0; i < batch.size(); i++) {
            if (sparse[i]) {
                entryOf[j++] = i;
            }
        }
        int kvHeads = shape.kvHeads();
        int group = shape.groupSize();
        int d = shape.headDim();
        ComputePool.forRange(sparseRows * kvHeads, (start, end) -> {
            PartialSoftmax state = new PartialSoftmax(group, d);
            float[] scores = new float[group * matched.pageTokens()];
            for (int task = start; task < end; task++) {
                int entry = entryOf[task / kvHeads];
                int kvHead = task % kvHeads;
                int sequence = batch.sequence(entry);
                int qOff = batch.firstRow(entry) * shape.queryWidth() + kvHead * group * d;
                KvPages pages = store.pages(sequence, layer);
                PositionRuns runs = select(sequence, layer, kvHead, queries, qOff);
                state.reset();
                for (int r = 0; r < runs.count(); r++) {
                    pages.attend(kvHead, queries, qOff, runs.start(r), runs.end(r), shape.scale(), state, scores);
                }
                state.writeOutput(out, qOff);
            }
        });
    }

    /** The decode step's exact positions: the steady zone's two ends and the subclass's pick between them. */
    private PositionRuns select(int sequence, int layer, int kvHead, float[] q, int qOff) {
        Sequence s = sequences.get(sequence);
        MatchedBudget budget = s.budgets[layer];
        KvPages pages = store.pages(sequence, layer);
        long length = pages.length();
        long from = budget.sinks();
        long to = length - budget.recent();
        PositionRuns runs = new PositionRuns();
        runs.add(0, from);
        selectBetween(s.states[layer], pages, kvHead, q, qOff, from, to, budget.retrievalTokens(), runs);
        runs.add(to, length);
        return runs;
    }

    @Override
    public void endOfPrefill(int sequence) {
        Sequence s = sequences.get(sequence);
        for (MatchedBudget budget : s.budgets) {
            budget.endOfPrefill();
        }
        s.decoding = true;
    }

    @Override
    public boolean isSparse(int sequence) {
        return sequences.get(sequence).decoding;
    }

    @Override
    public void attendExactly(int layer, BatchLayout batch, float[] queries, float[] out) {
        store.attend(layer, batch, queries, out);
    }

    /** Every stored position in position order, scored exactly, the selected ones exact and the rest dropped. */
    @Override
    public DecodeZones zones(int sequence, int layer, int kvHead, float[] queries, int qOff) {
        KvPages pages = store.pages(sequence, layer);
        int n = (int) pages.length();
        int group = shape.groupSize();
        float[] scores = new float[group * n];
        pages.scores(kvHead, queries, qOff, group, 0, n, shape.scale(), scores, 0, n);
        byte[] zones = new byte[n];
        PositionRuns runs = select(sequence, layer, kvHead, queries, qOff);
        for (int r = 0; r < runs.count(); r++) {
            Arrays.fill(zones, (int) runs.start(r), (int) runs.end(r), DecodeZones.EXACT);
        }
        return new DecodeZones(n, group, scores, zones);
    }

    @Override
    public long exactBudget(int sequence, int layer) {
        Sequence s = sequences.get(sequence);
        return s.decoding ? s.budgets[layer].exact() : store.length(sequence, layer);
    }

    /** The stored pages and each (sequence, layer)'s selection state. */
    @Override
    public long memoryBytes() {
        long total = store.memoryBytes();
        for (Sequence s : sequences.all()) {
            for (LayerState state : s.states) {
                total += state.bytes();
            }
        }
        return total;
    }

    @Override
    public void close() {
        for (Integer id : sequences.ids()) {
            closeSequence(id);
        }
        store.close();
    }

    /** One sequence's budgets and selection state (freed with its arena), and whether it is decoding. */
    private final class Sequence {
        final Arena arena = Arena.ofShared();
        final MatchedBudget[] budgets = new MatchedBudget[shape.layers()];
        final LayerState[] states = new LayerState[shape.layers()];
        boolean decoding;

        Sequence() {
            for (int l = 0; l < budgets.length; l++) {
                budgets[l] = new MatchedBudget(matched);
                states[l] = newLayerState(arena);
            }
        }
    }
}
