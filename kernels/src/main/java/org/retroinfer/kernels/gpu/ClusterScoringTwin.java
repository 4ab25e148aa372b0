package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.util.Arrays;
import java.util.function.LongToDoubleFunction;
import java.util.stream.IntStream;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The CPU twin of {@link CentroidScoring} and {@link ClusterTopK}: the same splits and log-sum-exp combine in
 * plain float64 loops, and the same selection rule by sorting, over host arrays in {@link ClusterScoringShape}'s
 * layout. Tests compare the kernels' outputs with it.
 */
public final class ClusterScoringTwin {
    /**
     * Everything the two kernels compute before selecting, in their layouts: per-split max of y and
     * Σ e^(y − max) (−∞ and 0 for an empty split), y itself (0 past each row's count), the per-head combined
     * max and sum, and each cluster's score (0 past the count).
     */
    public record Scores(double[] partialMax, double[] partialSum, double[] logits, double[] headMax, double[] headSum,
            double[] scores) {}

    /** Per row, the ids of the retrieval zone and of the estimation zone, each ascending. */
    public record Zones(int[][] retrieval, int[][] estimation) {}

    private ClusterScoringTwin() {}

    /**
     * The queries as {@link CentroidScoring#logitsInt8} scores with them: each query head's 128 values times
     * {@code scale} (in F32), quantised as one {@link Int8Vectors} vector and read back as level × its scale. Score INT8
     * centroids against these with a scale of 1.
     */
    public static F32Array int8Queries(ClusterScoringShape shape, F32Array q, float scale, java.lang.foreign.Arena arena) {
        F32Array out = F32Array.allocate(arena, shape.queryElements());
        float[] head = new float[HEAD_DIM];
        for (long from = 0; from < shape.queryElements(); from += HEAD_DIM) {
            for (int d = 0; d < HEAD_DIM; d++) head[d] = q.get(from + d);
            float[] rounded = int8Query(head, 0, scale);
            for (int d = 0; d < HEAD_DIM; d++) out.set(from + d, rounded[d]);
        }
        return out;
    }

    /** One query head of {@link #int8Queries}: {@code q[from, from + 128)} times {@code scale}, quantised and read back. */
    public static float[] int8Query(float[] q, int from, float scale) {
        float[] scaled = new float[HEAD_DIM];
        for (int d = 0; d < HEAD_DIM; d++) scaled[d] = q[from + d] * scale;
        byte[] levels = new byte[HEAD_DIM];
        float s = Int8Vectors.quantise(scaled, 0, levels);
        float[] out = new float[HEAD_DIM];
        for (int d = 0; d < HEAD_DIM; d++) out[d] = Int8Vectors.dequantise(levels[d], s);
        return out;
    }

    /**
     * The logits, statistics and scores for centroids read through {@code centroid} (an F32 or BF16 array's
     * {@code get}), with the kernels' splits ({@link SplitKvDecode#tokensPerSplit}).
     */
    public static Scores score(ClusterScoringShape shape, F32Array q, LongToDoubleFunction centroid, I32Array counts,
            float scale) {
        int group = shape.groupSize();
        double[] partialMax = new double[Math.toIntExact(shape.partialElements())];
        double[] partialSum = new double[partialMax.length];
        double[] logits = new double[Math.toIntExact(shape.logitElements())];
        double[] headMax = new double[Math.toIntExact(shape.headElements())];
        double[] headSum = new double[headMax.length];
        double[] scores = new double[Math.toIntExact(shape.clusterElements())];
        for (int row = 0; row < shape.rows(); row++) {
            int count = counts.get(row);
            int perSplit = SplitKvDecode.tokensPerSplit(count, shape.splits());
            for (int g = 0; g < group; g++) {
                long query = ((long) row * group + g) * HEAD_DIM;
                for (int c = 0; c < count; c++) {
                    double dot = 0;
                    for (int d = 0; d < HEAD_DIM; d++) {
                        dot += (double) q.get(query + d) * centroid.applyAsDouble(shape.centroidOffset(row, c) + d);
                    }
                    logits[(int) shape.logitOffset(row, g, c)] = dot * scale;
                }
                double max = Double.NEGATIVE_INFINITY;
                double sum = 0;
                for (int split = 0; split < shape.splits(); split++) {
                    int at = (row * shape.splits() + split) * group + g;
                    int from = Math.min(count, split * perSplit);
                    int to = Math.min(count, (split + 1) * perSplit);
                    partialMax[at] = Double.NEGATIVE_INFINITY;
                    for (int c = from; c < to; c++) {
                        partialMax[at] = Math.max(partialMax[at], logits[(int) shape.logitOffset(row, g, c)]);
                    }
                    for (int c = from; c < to; c++) {
                        partialSum[at] += Math.exp(logits[(int) shape.logitOffset(row, g, c)] - partialMax[at]);
                    }
                    max = Math.max(max, partialMax[at]);
                }
                for (int split = 0; split < shape.splits(); split++) {
                    int at = (row * shape.splits() + split) * group + g;
                    if (partialSum[at] > 0) {
                        sum += partialSum[at] * Math.exp(partialMax[at] - max);
                    }
                }
                headMax[row * group + g] = max;
                headSum[row * group + g] = sum;
                for (int c = 0; c < count; c++) {
                    scores[(int) shape.clusterOffset(row, c)] += Math.exp(logits[(int) shape.logitOffset(row, g, c)] - max) / sum;
                }
            }
        }
        return new Scores(partialMax, partialSum, logits, headMax, headSum, scores);
    }

    /**
     * The zones {@link ClusterTopK} selects from F32 {@code scores}: the non-empty clusters below each row's
     * count ranked by score, then by lower id; the first {@code R = min(retrieval budget, maxRetrieval,
     * candidates)} retrieved, the next {@code E = min(estimation budget, maxEstimation, candidates − R)} estimated.
     */
    public static Zones select(ClusterScoringShape shape, F32Array scores, F32Array sizes, I32Array counts,
            I32Array budgets) {
        int[][] retrieval = new int[shape.rows()][];
        int[][] estimation = new int[shape.rows()][];
        for (int row = 0; row < shape.rows(); row++) {
            int r0 = row;
            Integer[] ranked = IntStream.range(0, counts.get(row))
                    .filter(c -> sizes.get(shape.clusterOffset(r0, c)) > 0).boxed().toArray(Integer[]::new);
            Arrays.sort(ranked, (a, b) -> {
                int byScore = Float.compare(scores.get(shape.clusterOffset(r0, b)), scores.get(shape.clusterOffset(r0, a)));
                return byScore != 0 ? byScore : Integer.compare(a, b);
            });
            int r = Math.min(Math.min(budgets.get(2L * row), shape.maxRetrieval()), ranked.length);
            int e = Math.min(Math.min(budgets.get(2L * row + 1), shape.maxEstimation()), ranked.length - r);
            retrieval[row] = Arrays.stream(ranked, 0, r).mapToInt(Integer::intValue).sorted().toArray();
            estimation[row] = Arrays.stream(ranked, r, r + e).mapToInt(Integer::intValue).sorted().toArray();
        }
        return new Zones(retrieval, estimation);
    }
}
