package org.retroinfer.kvstore;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.kernels.PrefillAttention;

/**
 * The keys and values of one (sequence, layer) in position order, as F16 or BF16 pages of
 * {@code pageTokens} positions allocated from an arena as they fill, addressed with long offsets.
 * Within a page each KV head's keys (then values) are contiguous, so a GQA group's query heads
 * stream each page once. The arena belongs to the caller, who frees the pages by closing it.
 */
public final class KvPages {
    private final int kvHeads;
    private final int headDim;
    private final DType type;
    private final int pageTokens;
    private final long pageBytes;
    private final Arena arena;
    private final List<MemorySegment> pages = new ArrayList<>();
    private long length;

    /** Pages of {@code kvHeads} heads of {@code headDim} values stored as {@code type}, allocated from {@code arena}. */
    public KvPages(int kvHeads, int headDim, DType type, int pageTokens, Arena arena) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.type = type;
        this.pageTokens = pageTokens;
        this.pageBytes = pageBytes(kvHeads, headDim, pageTokens);
        this.arena = arena;
    }

    /** Bytes of one page: keys and values of {@code pageTokens} positions, two bytes a number. */
    public static long pageBytes(int kvHeads, int headDim, int pageTokens) {
        return 2L * kvHeads * pageTokens * headDim * 2;
    }

    /** Positions stored. */
    public long length() {
        return length;
    }

    /** Bytes of the pages allocated so far. */
    public long bytes() {
        return pages.size() * pageBytes;
    }

    /**
     * Stores one position: its keys {@code keys[off + h·headDim ..]} and values
     * {@code values[off + h·headDim ..]} for every KV head h.
     */
    public void append(float[] keys, float[] values, int off) {
        int index = (int) (length / pageTokens);
        if (index == pages.size()) {
            pages.add(arena.allocate(pageBytes, 64));
        }
        MemorySegment page = pages.get(index);
        int slot = (int) (length % pageTokens);
        for (int h = 0; h < kvHeads; h++) {
            AttentionKernels.store(keys, off + h * headDim, headDim, page, offset(0, h, slot), type);
            AttentionKernels.store(values, off + h * headDim, headDim, page, offset(1, h, slot), type);
        }
        length++;
    }

    /**
     * Folds positions [0, visible) of {@code kvHead} into {@code state}, for the state's query heads
     * at {@code q[qOff ..]}. {@code scores} is scratch of at least heads × pageTokens floats.
     */
    public void attend(int kvHead, float[] q, int qOff, long visible, float scale, PartialSoftmax state, float[] scores) {
        attend(kvHead, q, qOff, 0, visible, scale, state, scores);
    }

    /**
     * Folds positions [from, to) of {@code kvHead} into {@code state}, one fold per page the range
     * touches. {@code scores} is scratch of at least heads × pageTokens floats.
     */
    public void attend(int kvHead, float[] q, int qOff, long from, long to, float scale, PartialSoftmax state,
                       float[] scores) {
        for (long first = from; first < to; ) {
            int slot = (int) (first % pageTokens);
            int n = (int) Math.min(pageTokens - slot, to - first);
            MemorySegment page = pages.get((int) (first / pageTokens));
            AttentionKernels.scores(q, qOff, state.heads(), headDim, page, offset(0, kvHead, slot), type, n, scale,
                    scores, 0, pageTokens);
            state.add(scores, pageTokens, n, page, offset(1, kvHead, slot), type);
            first += n;
        }
    }

    /**
     * Writes {@code scores[off + h·stride + t] = scale · q_h·k_(from + t)} for the {@code heads} query
     * heads at {@code q[qOff ..]} and positions [from, to) of {@code kvHead}.
     */
    public void scores(int kvHead, float[] q, int qOff, int heads, long from, long to, float scale, float[] scores,
                       int off, int stride) {
        for (long first = from; first < to; ) {
            int slot = (int) (first % pageTokens);
            int n = (int) Math.min(pageTokens - slot, to - first);
            MemorySegment page = pages.get((int) (first / pageTokens));
            AttentionKernels.scores(q, qOff, heads, headDim, page, offset(0, kvHead, slot), type, n, scale, scores,
                    off + (int) (first - from), stride);
            first += n;
        }
    }

    /**
     * Folds the positions of {@code kvHead} that a causal block of rows sees into {@code block}:
     * its row j sees positions [0, visibleToFirstRow + j).
     */
    public void attend(int kvHead, long visibleToFirstRow, PrefillAttention block) {
        long end = Math.min(length, visibleToFirstRow + block.rows() - 1);
        for (long first = 0; first < end; first += pageTokens) {
            int n = (int) Math.min(pageTokens, end - first);
            MemorySegment page = pages.get((int) (first / pageTokens));
            block.add(page, offset(0, kvHead, 0), page, offset(1, kvHead, 0), type, n, first, visibleToFirstRow);
        }
    }

    /** Reads the key of {@code kvHead} at {@code position} as floats into {@code out[off ..]}. */
    public void readKey(int kvHead, long position, float[] out, int off) {
        read(0, kvHead, position, out, off);
    }

    /** Reads the value of {@code kvHead} at {@code position} as floats into {@code out[off ..]}. */
    public void readValue(int kvHead, long position, float[] out, int off) {
        read(1, kvHead, position, out, off);
    }

    private void read(int kind, int kvHead, long position, float[] out, int off) {
        MemorySegment page = pages.get((int) (position / pageTokens));
        Dequantize.row(type, page, offset(kind, kvHead, (int) (position % pageTokens)), headDim, out, off);
    }

    /**
     * Copies the stored key and value of {@code kvHead} at {@code position}, bit for bit, to byte
     * {@code keyOff} of {@code keysDst} and byte {@code valueOff} of {@code valuesDst}.
     */
    public void copy(int kvHead, long position, MemorySegment keysDst, long keyOff, MemorySegment valuesDst,
                     long valueOff) {
        MemorySegment page = pages.get((int) (position / pageTokens));
        int slot = (int) (position % pageTokens);
        long vectorBytes = 2L * headDim;
        MemorySegment.copy(page, offset(0, kvHead, slot), keysDst, keyOff, vectorBytes);
        MemorySegment.copy(page, offset(1, kvHead, slot), valuesDst, valueOff, vectorBytes);
    }

    /** Byte offset in a page of (keys or values, KV head, slot). */
    private long offset(int kind, int kvHead, int slot) {
        return (((long) kind * kvHeads + kvHead) * pageTokens + slot) * headDim * 2;
    }
}
