package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.util.function.LongToDoubleFunction;

/**
 * What the k-means kernels compute, in float64 or exact Java, for the emulator tests and {@link KMeansGpuCheck}:
 * the best centroid of a key with its margin over the runner-up (so a check can tell a wrong choice from a
 * near-tie that F32 rounding may break either way), the stable counting sort of an assignment, and the mean and
 * value sums of the resulting clusters. Arrays are {@code [n][HEAD_DIM]} floats as in {@link KMeansShape}.
 */
public final class KMeansTwin {
    private KMeansTwin() {}

    /** The centroid of largest float64 inner product (the lowest id of exact ties) and its lead over the next. */
    public record Choice(int id, double best, double margin) {}

    /** Clusters as runs of key ids: {@code members[starts[c] .. starts[c] + sizes[c])} in token order. */
    public record Runs(int[] sizes, int[] starts, int[] members) {}

    /** Key {@code t} against centroids {@code [first, first + count)}. */
    public static Choice nearest(LongToDoubleFunction keys, LongToDoubleFunction centroids, int t, int first, int count) {
        int id = -1;
        double best = Double.NEGATIVE_INFINITY;
        double second = Double.NEGATIVE_INFINITY;
        for (int c = first; c < first + count; c++) {
            double dot = 0;
            for (int d = 0; d < HEAD_DIM; d++) {
                dot += keys.applyAsDouble((long) t * HEAD_DIM + d) * centroids.applyAsDouble((long) c * HEAD_DIM + d);
            }
            if (dot > best) {
                second = best;
                best = dot;
                id = c;
            } else if (dot > second) {
                second = dot;
            }
        }
        return new Choice(id, best, best - second);
    }

    /**
     * Allowed F32 error of an inner product of two 128-dimensional vectors: a few ulps of Σ|k_d·c_d|, with room;
     * a choice within twice this of the runner-up may go either way.
     */
    public static double dotTolerance(LongToDoubleFunction keys, LongToDoubleFunction centroids, int t, int c) {
        double magnitude = 0;
        for (int d = 0; d < HEAD_DIM; d++) {
            magnitude += Math.abs(keys.applyAsDouble((long) t * HEAD_DIM + d) * centroids.applyAsDouble((long) c * HEAD_DIM + d));
        }
        return 1e-6 * magnitude + 1e-30;
    }

    /** The stable counting sort of the first {@code sorted} keys' clusters. */
    public static Runs sort(int[] assignment, int sorted, int clusters) {
        int[] sizes = new int[clusters];
        for (int t = 0; t < sorted; t++) sizes[assignment[t]]++;
        int[] starts = new int[clusters];
        for (int c = 1; c < clusters; c++) starts[c] = starts[c - 1] + sizes[c - 1];
        int[] next = starts.clone();
        int[] members = new int[sorted];
        for (int t = 0; t < sorted; t++) members[next[assignment[t]]++] = t;
        return new Runs(sizes, starts, members);
    }

    /**
     * Each non-empty cluster's mean key in float64, L2-normalised if asked; an empty cluster keeps
     * {@code previous}'s centroid. {@code [clusters][HEAD_DIM]}.
     */
    public static double[] means(LongToDoubleFunction keys, Runs runs, LongToDoubleFunction previous, boolean normalise) {
        int clusters = runs.sizes().length;
        double[] out = new double[clusters * HEAD_DIM];
        for (int c = 0; c < clusters; c++) {
            int size = runs.sizes()[c];
            if (size == 0) {
                for (int d = 0; d < HEAD_DIM; d++) out[c * HEAD_DIM + d] = previous.applyAsDouble((long) c * HEAD_DIM + d);
                continue;
            }
            double[] sum = sums(keys, runs, c);
            double squares = 0;
            for (int d = 0; d < HEAD_DIM; d++) {
                sum[d] /= size;
                squares += sum[d] * sum[d];
            }
            double scale = normalise ? 1 / Math.max(Math.sqrt(squares), 1e-12) : 1;
            for (int d = 0; d < HEAD_DIM; d++) out[c * HEAD_DIM + d] = sum[d] * scale;
        }
        return out;
    }

    /** Σ of cluster {@code c}'s members' rows of {@code rows} (keys or values), in float64. */
    public static double[] sums(LongToDoubleFunction rows, Runs runs, int c) {
        double[] sum = new double[HEAD_DIM];
        for (int m = runs.starts()[c]; m < runs.starts()[c] + runs.sizes()[c]; m++) {
            for (int d = 0; d < HEAD_DIM; d++) sum[d] += rows.applyAsDouble((long) runs.members()[m] * HEAD_DIM + d);
        }
        return sum;
    }
}
