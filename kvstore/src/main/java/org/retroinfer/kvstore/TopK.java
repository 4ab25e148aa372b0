package org.retroinfer.kvstore;

/**
 * Partial selection: moves the k largest of n keys to the front of the array, in O(n) expected
 * time (quickselect, Hoare partitioning around a median of three). Callers make the keys distinct
 * (a score in the high bits, an id such as a cluster's or a position's in the low bits), so the
 * result is the same set whatever the pivots.
 */
public final class TopK {
    private TopK() {}

    /** Rearranges {@code keys[0 .. n)} so that its k largest are in {@code keys[0 .. k)}. */
    public static void select(long[] keys, int n, int k) {
        if (k < 0 || k > n || n > keys.length) {
            throw new IllegalArgumentException("cannot select the top " + k + " of " + n + " keys");
        }
        int lo = 0;
        int hi = n - 1;
        // Invariant: keys[0 .. lo) are all larger than keys[lo .. hi], which are larger than keys(hi .. n).
        while (lo < hi && lo < k && hi >= k) {
            long pivot = medianOfThree(keys[lo], keys[(lo + hi) >>> 1], keys[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (keys[i] > pivot) {
                    i++;
                }
                while (keys[j] < pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = keys[i];
                    keys[i] = keys[j];
                    keys[j] = t;
                    i++;
                    j--;
                }
            }
            // Now keys[lo .. j] ≥ pivot ≥ keys[i .. hi], and anything strictly between equals the pivot.
            if (k <= j) {
                hi = j;
            } else if (k >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    private static long medianOfThree(long a, long b, long c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
