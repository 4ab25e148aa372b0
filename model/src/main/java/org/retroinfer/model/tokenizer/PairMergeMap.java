package org.retroinfer.model.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge table: (left id, right id) to (rank, merged id), in an open-addressing hash table
 * of primitive longs. Looking up a pair is the inner loop of encoding, so no boxing and no
 * per-pair objects; 300K merges take about 8 MiB.
 */
final class PairMergeMap {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final long[] values;
    private final int mask;
    private int size;

    PairMergeMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /**
     * Sets the pair's merge. A pair listed twice keeps its last entry, as the library's merge
     * table (a Rust HashMap collected in file order) does.
     */
    void put(int left, int right, int rank, int merged) {
        long k = key(left, right);
        int s = slot(k, mask);
        while (keys[s] != EMPTY && keys[s] != k) {
            s = (s + 1) & mask;
        }
        if (keys[s] == EMPTY) {
            size++;
        }
        keys[s] = k;
        values[s] = ((long) rank << 32) | (merged & 0xFFFFFFFFL);
    }

    /** Adds the merge unless the pair has one already (llama.cpp keeps the first of a repeated pair). */
    void putIfAbsent(int left, int right, int rank, int merged) {
        if (get(left, right) < 0) {
            put(left, right, rank, merged);
        }
    }

    /** {@code rank << 32 | mergedId}, or -1 when the pair does not merge. */
    long get(int left, int right) {
        long k = key(left, right);
        int s = slot(k, mask);
        while (true) {
            long at = keys[s];
            if (at == k) {
                return values[s];
            }
            if (at == EMPTY) {
                return -1L;
            }
            s = (s + 1) & mask;
        }
    }

    int size() {
        return size;
    }
}
