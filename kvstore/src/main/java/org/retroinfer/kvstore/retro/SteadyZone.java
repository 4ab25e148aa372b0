package org.retroinfer.kvstore.retro;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.kernels.PrefillAttention;
import org.retroinfer.kvstore.PartialSoftmax;

/**
 * The steady zone of one (sequence, layer) (spec §2.1): the first {@code sinks} positions of the
 * sequence and the local positions after them that are not in the wave index yet (the prompt's
 * last {@code window}, then every generated position since the last update), attended exactly at
 * every step. Its slots are allocated once for {@link RetroConfig#steadyCapacity()} positions; the
 * sinks fill slots [0, sinks) and the local positions the slots after them, oldest first, so the
 * whole zone is one contiguous run per KV head. Within the segment each KV head's keys (then
 * values) are contiguous.
 */
final class SteadyZone {
    private final int kvHeads;
    private final int headDim;
    private final DType type;
    private final int sinks;
    private final int capacity;
    private final MemorySegment data;
    private int count;

    SteadyZone(int kvHeads, int headDim, DType type, int sinks, int capacity, Arena arena) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.type = type;
        this.sinks = sinks;
        this.capacity = capacity;
        this.data = arena.allocate(bytes(kvHeads, headDim, capacity), 64);
    }

    /** Bytes of a zone of {@code capacity} positions. */
    static long bytes(int kvHeads, int headDim, int capacity) {
        return 2L * kvHeads * capacity * headDim * 2;
    }

    long bytes() {
        return data.byteSize();
    }

    /** Positions held, sinks included. */
    int count() {
        return count;
    }

    /** Local positions held: those after the sinks. */
    int local() {
        return Math.max(0, count - sinks);
    }

    boolean isFull() {
        return count == capacity;
    }

    /** Stores one position: keys {@code keys[off + h·headDim ..]} and values likewise, for every KV head. */
    void append(float[] keys, float[] values, int off) {
        int slot = claimSlot();
        for (int h = 0; h < kvHeads; h++) {
            AttentionKernels.store(keys, off + h * headDim, headDim, data, offset(0, h, slot), type);
            AttentionKernels.store(values, off + h * headDim, headDim, data, offset(1, h, slot), type);
        }
    }

    /** Stores a copy of position {@code t} of {@code source}, bit for bit. */
    void append(StoredTokens source, long t) {
        int slot = claimSlot();
        for (int h = 0; h < kvHeads; h++) {
            source.copy(h, t, data, offset(0, h, slot), data, offset(1, h, slot));
        }
    }

    private int claimSlot() {
        if (count == capacity) {
            throw new IllegalStateException("the steady zone holds " + capacity + " positions and is full; it must "
                    + "flush into the wave index first");
        }
        return count++;
    }

    /**
     * Folds every position held for {@code kvHead} into {@code state}, for the state's query heads at
     * {@code q[qOff ..]}. {@code scores} is scratch of at least heads × {@code tile} floats.
     */
    void attend(int kvHead, float[] q, int qOff, float scale, PartialSoftmax state, float[] scores, int tile) {
        for (int first = 0; first < count; first += tile) {
            int n = Math.min(tile, count - first);
            AttentionKernels.scores(q, qOff, state.heads(), headDim, data, offset(0, kvHead, first), type, n, scale,
                    scores, 0, tile);
            state.add(scores, tile, n, data, offset(1, kvHead, first), type);
        }
    }

    /** Folds every position held for {@code kvHead} into a block of prefill rows, which all see them. */
    void attend(int kvHead, PrefillAttention block) {
        if (count > 0) {
            block.add(data, offset(0, kvHead, 0), data, offset(1, kvHead, 0), type, count);
        }
    }

    /** The local positions, oldest first, as a run for an index build. */
    StoredTokens localTokens() {
        return tokensFrom(sinks);
    }

    /** The positions held from slot {@code first} on, oldest first. */
    StoredTokens tokensFrom(int first) {
        return new StoredTokens() {
            @Override
            public long length() {
                return Math.max(0, count - first);
            }

            @Override
            public void readKey(int kvHead, long t, float[] out, int off) {
                Dequantize.row(type, data, offset(0, kvHead, first + (int) t), headDim, out, off);
            }

            @Override
            public void readValue(int kvHead, long t, float[] out, int off) {
                Dequantize.row(type, data, offset(1, kvHead, first + (int) t), headDim, out, off);
            }

            @Override
            public void copy(int kvHead, long t, MemorySegment keysDst, long keyOff, MemorySegment valuesDst,
                             long valueOff) {
                MemorySegment.copy(data, offset(0, kvHead, first + (int) t), keysDst, keyOff, 2L * headDim);
                MemorySegment.copy(data, offset(1, kvHead, first + (int) t), valuesDst, valueOff, 2L * headDim);
            }
        };
    }

    /** Removes the {@code n} oldest local positions (now in the index) and slides the rest down (spec §1.4). */
    void dropOldestLocal(int n) {
        if (n < 0 || n > local()) {
            throw new IllegalArgumentException("cannot drop " + n + " of " + local() + " local positions");
        }
        int keep = local() - n;
        for (int kind = 0; kind < 2; kind++) {
            for (int h = 0; h < kvHeads; h++) {
                MemorySegment.copy(data, offset(kind, h, sinks + n), data, offset(kind, h, sinks), 2L * headDim * keep);
            }
        }
        count -= n;
    }

    /** Byte offset of (keys or values, KV head, slot). */
    private long offset(int kind, int kvHead, int slot) {
        return (((long) kind * kvHeads + kvHead) * capacity + slot) * headDim * 2;
    }
}
