package org.retroinfer.kvstore.baseline;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.retroinfer.kvstore.KvPages;

/**
 * Quest's page metadata for one (sequence, layer) (Tang et al., ICML 2024, §3): per page of
 * {@code pageTokens} consecutive positions and per KV head, the per-dimension minimum m and
 * maximum M of the page's post-RoPE keys, as stored (F16/BF16 values, kept as F32 so that the
 * bound is exact about them). For a query q, Σ_i max(q_i·m_i, q_i·M_i) ≥ q·k for every key k of
 * the page, term by term. Kept off-heap in chunks of {@value #CHUNK_PAGES} pages allocated from the
 * sequence's arena as the pages fill; within a chunk each KV head's pages are contiguous
 * (minimum, then maximum, per page).
 */
final class PageBounds {
    /** Pages per allocation. */
    static final int CHUNK_PAGES = 64;
    private static final int L = FLOAT.length();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ORDER);

    private final int kvHeads;
    private final int headDim;
    private final int pageTokens;
    private final Arena arena;
    private final List<MemorySegment> chunks = new ArrayList<>();
    private final float[] key;

    PageBounds(int kvHeads, int headDim, int pageTokens, Arena arena) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.pageTokens = pageTokens;
        this.arena = arena;
        this.key = new float[headDim];
    }

    /** Bytes of one chunk. */
    static long chunkBytes(int kvHeads, int headDim) {
        return (long) kvHeads * CHUNK_PAGES * 2 * headDim * Float.BYTES;
    }

    long bytes() {
        return chunks.size() * chunkBytes(kvHeads, headDim);
    }

    int pageTokens() {
        return pageTokens;
    }

    /** Folds the stored keys of {@code position} (every KV head), just appended to {@code pages}, into its page. */
    void add(KvPages pages, long position) {
        long page = position / pageTokens;
        if (page == (long) chunks.size() * CHUNK_PAGES) {
            chunks.add(arena.allocate(chunkBytes(kvHeads, headDim), 64));
        }
        boolean first = position % pageTokens == 0;
        for (int h = 0; h < kvHeads; h++) {
            pages.readKey(h, position, key, 0);
            MemorySegment chunk = chunks.get((int) (page / CHUNK_PAGES));
            long min = offset(h, page);
            long max = min + (long) headDim * Float.BYTES;
            for (int i = 0; i < headDim; i++) {
                long at = (long) i * Float.BYTES;
                float lo = first ? key[i] : Math.min(key[i], chunk.get(F32, min + at));
                float hi = first ? key[i] : Math.max(key[i], chunk.get(F32, max + at));
                chunk.set(F32, min + at, lo);
                chunk.set(F32, max + at, hi);
            }
        }
    }

    /**
     * Quest's upper bound of page {@code page} of {@code kvHead} for a GQA group: the largest over
     * the {@code heads} query heads at {@code q[qOff ..]} of scale · Σ_i max(q_i·m_i, q_i·M_i). The
     * maximum keeps it an upper bound of every group head's score of every key in the page (Quest
     * is MHA: one query per page set; see {@link QuestKvCache} for the choice).
     */
    float bound(int kvHead, float[] q, int qOff, int heads, float scale, long page) {
        MemorySegment chunk = chunks.get((int) (page / CHUNK_PAGES));
        long min = offset(kvHead, page);
        long max = min + (long) headDim * Float.BYTES;
        float best = Float.NEGATIVE_INFINITY;
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
            int i = 0;
            for (; i + 2 * L <= headDim; i += 2 * L) {
                acc0 = acc0.add(term(q, qh + i, chunk, min, max, i));
                acc1 = acc1.add(term(q, qh + i + L, chunk, min, max, i + L));
            }
            for (; i + L <= headDim; i += L) {
                acc0 = acc0.add(term(q, qh + i, chunk, min, max, i));
            }
            float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            for (; i < headDim; i++) {
                long at = (long) i * Float.BYTES;
                float x = q[qh + i];
                sum += Math.max(x * chunk.get(F32, min + at),
                        x * chunk.get(F32, max + at));
            }
            best = Math.max(best, scale * sum);
        }
        return best;
    }

    /** max(q·m, q·M) lane by lane for the dimensions from {@code i}. */
    private static FloatVector term(float[] q, int qi, MemorySegment chunk, long min, long max, int i) {
        FloatVector x = FloatVector.fromArray(FLOAT, q, qi);
        long at = (long) i * Float.BYTES;
        FloatVector lo = FloatVector.fromMemorySegment(FLOAT, chunk, min + at, ORDER);
        FloatVector hi = FloatVector.fromMemorySegment(FLOAT, chunk, max + at, ORDER);
        return x.mul(lo).max(x.mul(hi));
    }

    /** Byte offset in its chunk of the minimum of (KV head, page); the maximum follows it. */
    private long offset(int kvHead, long page) {
        long inChunk = page % CHUNK_PAGES;
        return (((long) kvHead * CHUNK_PAGES + inChunk) * 2) * headDim * Float.BYTES;
    }
}
