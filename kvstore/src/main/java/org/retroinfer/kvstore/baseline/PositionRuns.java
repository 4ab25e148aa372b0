package org.retroinfer.kvstore.baseline;

import java.util.Arrays;

/**
 * The positions one decode step attends exactly, as runs [start, end) added in increasing order;
 * a run that begins where the previous one ends extends it, so that adjacent pages are read as one.
 */
final class PositionRuns {
    private long[] starts = new long[8];
    private long[] ends = new long[8];
    private int count;

    /** Adds [start, end); empty runs are ignored, and runs must come in order without overlap. */
    void add(long start, long end) {
        if (start >= end) {
            return;
        }
        if (count > 0 && start < ends[count - 1]) {
            throw new IllegalArgumentException("run [" + start + ", " + end + ") overlaps or precedes the previous one, "
                    + "which ends at " + ends[count - 1]);
        }
        if (count > 0 && start == ends[count - 1]) {
            ends[count - 1] = end;
            return;
        }
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, 2 * count);
            ends = Arrays.copyOf(ends, 2 * count);
        }
        starts[count] = start;
        ends[count++] = end;
    }

    int count() {
        return count;
    }

    long start(int run) {
        return starts[run];
    }

    long end(int run) {
        return ends[run];
    }

    /** Positions in all runs. */
    long positions() {
        long n = 0;
        for (int r = 0; r < count; r++) {
            n += ends[r] - starts[r];
        }
        return n;
    }
}
