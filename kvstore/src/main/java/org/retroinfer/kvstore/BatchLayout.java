package org.retroinfer.kvstore;

import java.util.Arrays;

/**
 * How the rows of one forward step map to sequences: the first {@code counts[0]} rows are the next
 * tokens of sequence {@code sequences[0]}, the following {@code counts[1]} rows those of
 * {@code sequences[1]}, and so on. A prefill chunk is one sequence with many rows; a lock-step
 * decode step is many sequences with one row each.
 */
public record BatchLayout(int[] sequences, int[] counts) {
    public BatchLayout {
        if (sequences.length != counts.length || sequences.length == 0) {
            throw new IllegalArgumentException("a batch needs one count per sequence and at least one sequence");
        }
        for (int c : counts) {
            if (c <= 0) {
                throw new IllegalArgumentException("every sequence in a batch needs at least one row, got " + c);
            }
        }
        if (Arrays.stream(sequences).distinct().count() != sequences.length) {
            throw new IllegalArgumentException("a sequence appears twice in one batch: " + Arrays.toString(sequences));
        }
        sequences = sequences.clone();
        counts = counts.clone();
    }

    /** One sequence contributing {@code rows} consecutive rows. */
    public static BatchLayout single(int sequence, int rows) {
        return new BatchLayout(new int[] {sequence}, new int[] {rows});
    }

    /** Each sequence contributing one row, in order: a decode step. */
    public static BatchLayout oneRowEach(int[] sequences) {
        int[] ones = new int[sequences.length];
        Arrays.fill(ones, 1);
        return new BatchLayout(sequences, ones);
    }

    @Override
    public int[] sequences() {
        return sequences.clone();
    }

    @Override
    public int[] counts() {
        return counts.clone();
    }

    public int size() {
        return sequences.length;
    }

    public int sequence(int i) {
        return sequences[i];
    }

    public int count(int i) {
        return counts[i];
    }

    /** The index of entry {@code i}'s first row. */
    public int firstRow(int i) {
        int row = 0;
        for (int j = 0; j < i; j++) {
            row += counts[j];
        }
        return row;
    }

    public int rows() {
        int rows = 0;
        for (int c : counts) {
            rows += c;
        }
        return rows;
    }
}
