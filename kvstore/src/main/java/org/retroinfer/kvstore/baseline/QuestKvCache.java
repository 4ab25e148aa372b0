package org.retroinfer.kvstore.baseline;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.TopK;

/**
 * Quest (Tang et al., ICML 2024) as a decode-time baseline at RetroInfer's exact budget. The keys
 * of each (sequence, layer) are grouped in pages of {@code pageTokens} positions (counted from
 * position 0) with per-page, per-KV-head minimum and maximum keys ({@link PageBounds}, post-RoPE,
 * built as positions are appended). Each decode step attends exactly to the same steady zone as
 * RetroInfer (sinks, prompt window, generated positions; see {@link SelectiveKvCache}) and to the
 * positions between them of the pages with the highest upper bounds Σ_i max(q_i·m_i, q_i·M_i),
 * until the retrieval zone's nominal size is reached: whole pages (their positions between the
 * steady zone's ends) in bound order, the last one cut to the budget's remainder, earliest
 * positions first, so that the count equals RetroInfer's exactly. Unlike Quest's paper setup,
 * every layer is sparse (Quest keeps the first two dense), as RetroInfer is.
 *
 * <p><b>GQA.</b> Quest is MHA: one query per page set. Here one page set serves a KV head's GQA
 * group, and a page's bound is the largest of its query heads' bounds. That stays an upper bound
 * of every group head's score for every key of the page, and a page that one head needs is not
 * averaged away by heads that ignore it; a sum of raw bounds would mix heads whose scores have
 * different scales.
 */
public final class QuestKvCache extends SelectiveKvCache {
    private final QuestConfig config;

    public QuestKvCache(AttentionShape shape, QuestConfig config) {
        super(shape, config.matched());
        this.config = config;
    }

    public QuestConfig config() {
        return config;
    }

    /** A (sequence, layer)'s page bounds, grown as positions are appended. */
    private record QuestLayer(PageBounds bounds) implements LayerState {
        @Override
        public void appended(KvPages pages, long position) {
            bounds.add(pages, position);
        }

        @Override
        public long bytes() {
            return bounds.bytes();
        }
    }

    @Override
    LayerState newLayerState(Arena arena) {
        return new QuestLayer(new PageBounds(shape().kvHeads(), shape().headDim(), config.pageTokens(), arena));
    }

    @Override
    void selectBetween(LayerState state, KvPages pages, int kvHead, float[] q, int qOff, long from, long to,
                       long budget, PositionRuns runs) {
        if (from >= to || budget <= 0) {
            return;
        }
        PageBounds bounds = ((QuestLayer) state).bounds();
        int p = config.pageTokens();
        long firstPage = from / p;
        int candidates = (int) ((to + p - 1) / p - firstPage);
        long[] keys = new long[candidates];
        for (int i = 0; i < candidates; i++) {
            float bound = bounds.bound(kvHead, q, qOff, shape().groupSize(), shape().scale(), firstPage + i);
            keys[i] = rankKey(bound, i);
        }
        // Whole pages inside [from, to) give p positions each; only the first and last may give
        // fewer, so ⌈budget / p⌉ + 2 candidates always fill the budget.
        int needed = (int) Math.min(candidates, (budget + p - 1) / p + 2);
        TopK.select(keys, candidates, needed);
        Arrays.sort(keys, 0, needed);
        long[] take = new long[candidates];
        long taken = 0;
        for (int k = needed - 1; k >= 0 && taken < budget; k--) {
            int i = pageOf(keys[k]);
            long lo = Math.max(from, (firstPage + i) * p);
            long hi = Math.min(to, (firstPage + i + 1) * p);
            take[i] = Math.min(hi - lo, budget - taken);
            taken += take[i];
        }
        for (int i = 0; i < candidates; i++) {
            long lo = Math.max(from, (firstPage + i) * p);
            runs.add(lo, lo + take[i]);
        }
    }

    /** Orders by bound, then by lower page: larger keys rank first. */
    private static long rankKey(float bound, int page) {
        int bits = Float.floatToRawIntBits(bound);
        int sortable = bits ^ ((bits >> 31) & 0x7FFF_FFFF);
        return ((long) sortable << 32) | (0xFFFF_FFFFL - page);
    }

    private static int pageOf(long key) {
        return (int) (0xFFFF_FFFFL - (key & 0xFFFF_FFFFL));
    }
}
