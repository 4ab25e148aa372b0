package org.retroinfer.eval.tasks;

import java.util.HashMap;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * The haystack size that fills a length in tokens, found by the search of
 * {@code tools/train-tiny/lengthfit.py} so that Java settles on the same size: doubling from the
 * task's minimum while the sample fits, then bisection between the last size that fits and the
 * first that does not.
 */
public final class LengthFit {
    private LengthFit() {}

    /**
     * The largest size the search finds for which {@code fits} holds.
     *
     * @throws IllegalArgumentException where even {@code minSize} does not fit
     */
    public static int fitSize(IntPredicate fits, int minSize, int target) {
        Map<Integer, Boolean> cache = new HashMap<>();
        IntPredicate cached = size -> cache.computeIfAbsent(size, fits::test);
        if (!cached.test(minSize)) {
            throw new IllegalArgumentException("even the smallest haystack (" + minSize + " units) is longer than "
                    + target + " tokens");
        }
        int lo = minSize;
        int hi = 2 * minSize;
        while (cached.test(hi)) {
            lo = hi;
            hi = Math.multiplyExact(hi, 2);
        }
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (cached.test(mid)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
