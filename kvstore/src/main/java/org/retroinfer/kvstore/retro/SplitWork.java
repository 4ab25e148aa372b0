package org.retroinfer.kvstore.retro;

import org.retroinfer.kernels.ComputePool;

/**
 * Runs work over an index range in at most a given number of parts on the {@link ComputePool}, so
 * that {@link RetroConfig#threads()} bounds how many cores RetroInfer's loops take.
 */
final class SplitWork {
    private SplitWork() {}

    /** Runs {@code body} over [0, n) split into at most {@code parts} contiguous ranges, and waits. */
    static void run(int n, int parts, ComputePool.RangeBody body) {
        int p = Math.min(parts, n);
        if (p <= 1) {
            body.run(0, n);
            return;
        }
        ComputePool.forRange(p, (first, last) -> {
            for (int part = first; part < last; part++) {
                body.run((int) ((long) n * part / p), (int) ((long) n * (part + 1) / p));
            }
        });
    }
}
