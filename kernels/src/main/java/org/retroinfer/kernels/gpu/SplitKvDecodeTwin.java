package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.util.Arrays;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The CPU twin of {@link SplitKvDecode}: the same splits ({@link SplitKvDecode#tokensPerSplit}) and the same
 * merge rule, in plain loops with float64 accumulation, over host arrays in {@link DecodeAttentionShape}'s
 * layout. Tests compare the kernels' partials and merged output with it.
 */
public final class SplitKvDecodeTwin {
    /**
     * Per-split results in the kernels' partial layout: {@code out} normalised, {@code lse} natural-log
     * sum of {@code e^y}; an empty split has {@code out} 0 and {@code lse} −∞.
     */
    public record Partials(double[] out, double[] lse) {}

    /** Merged attention, {@code [batch][queryHeads][HEAD_DIM]} and its lse per (sequence, query head). */
    public record Output(double[] out, double[] lse) {}

    private SplitKvDecodeTwin() {}

    public static Partials partials(DecodeAttentionShape shape, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v,
            I32Array lengths, float scale) {
        return split(shape, q, k, v, null, null, lengths, scale);
    }

    /**
     * The partials of {@code SplitKvDecode.rows*}: query row {@code r} ({@code shape}'s batch counts rows) attends
     * to the first {@code lengths[r]} tokens of cache slot {@code slots[r]}.
     */
    public static Partials rowPartials(DecodeAttentionShape shape, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v,
            I32Array slots, I32Array lengths, float scale) {
        return split(shape, q, k, v, null, slots, lengths, scale);
    }

    /**
     * The partials of {@code SplitKvDecode.partialsWeighted*}: {@code out = Σ e^y·v / Σ w·e^y},
     * {@code lse = log Σ w·e^y} (spec §2.4), {@code weights} in {@link DecodeAttentionShape#weightOffset}'s layout.
     */
    public static Partials weightedPartials(DecodeAttentionShape shape, F32Array q, HalfPrecisionArray k,
            HalfPrecisionArray v, F32Array weights, I32Array lengths, float scale) {
        return split(shape, q, k, v, weights, null, lengths, scale);
    }

    /** {@code slots} null: row s reads sequence s. */
    private static Partials split(DecodeAttentionShape shape, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v,
            F32Array weights, I32Array slots, I32Array lengths, float scale) {
        int rows = Math.toIntExact(shape.partialRows());
        double[] out = new double[rows * HEAD_DIM];
        double[] lse = new double[rows];
        int group = shape.groupSize();
        for (int s = 0; s < shape.batch(); s++) {
            int length = lengths.get(s);
            int perSplit = SplitKvDecode.tokensPerSplit(length, shape.splits());
            for (int h = 0; h < shape.kvHeads(); h++) {
                for (int split = 0; split < shape.splits(); split++) {
                    int from = Math.min(length, split * perSplit);
                    int to = Math.min(length, (split + 1) * perSplit);
                    for (int g = 0; g < group; g++) {
                        int row = ((s * shape.kvHeads() + h) * shape.splits() + split) * group + g;
                        long query = ((long) s * shape.queryHeads() + (long) h * group + g) * HEAD_DIM;
                        int slot = slots == null ? s : slots.get(s);
                        lse[row] = attend(shape, q, query, k, v, weights, slot, h, from, to, scale, out, (long) row * HEAD_DIM);
                    }
                }
            }
        }
        return new Partials(out, lse);
    }

    /** Merges the partials of every (sequence, query head) by retroinfer-spec.md §2.4's log-sum-exp rule. */
    public static Output merge(DecodeAttentionShape shape, Partials partials) {
        int heads = shape.batch() * shape.queryHeads();
        double[] noLse = new double[heads];
        Arrays.fill(noLse, Double.NEGATIVE_INFINITY);
        return merge(shape, partials, new Output(new double[heads * HEAD_DIM], noLse));
    }

    /** {@link #merge(DecodeAttentionShape, Partials)} with {@code previous} as one more split of each head. */
    public static Output merge(DecodeAttentionShape shape, Partials partials, Output previous) {
        int heads = shape.batch() * shape.queryHeads();
        int group = shape.groupSize();
        double[] out = new double[heads * HEAD_DIM];
        double[] lse = new double[heads];
        for (int head = 0; head < heads; head++) {
            int firstRow = head / group * shape.splits() * group + head % group;
            double max = previous.lse[head];
            for (int s = 0; s < shape.splits(); s++) max = Math.max(max, partials.lse[firstRow + s * group]);
            double shift = max == Double.NEGATIVE_INFINITY ? 0 : max; // all empty: lse −∞ and o = 0
            double total = Math.exp(previous.lse[head] - shift);
            for (int s = 0; s < shape.splits(); s++) total += Math.exp(partials.lse[firstRow + s * group] - shift);
            lse[head] = shift + Math.log(total);
            double base = lse[head] == Double.NEGATIVE_INFINITY ? 0 : lse[head];
            double wPrevious = Math.exp(previous.lse[head] - base);
            for (int d = 0; d < HEAD_DIM; d++) out[head * HEAD_DIM + d] = wPrevious * previous.out[head * HEAD_DIM + d];
            for (int s = 0; s < shape.splits(); s++) {
                int row = firstRow + s * group;
                double w = Math.exp(partials.lse[row] - base);
                for (int d = 0; d < HEAD_DIM; d++) out[head * HEAD_DIM + d] += w * partials.out[row * HEAD_DIM + d];
            }
        }
        return new Output(out, lse);
    }

    /**
     * Softmax attention of one query row over tokens {@code [from, to)} of (sequence, KV head), written
     * normalised at {@code out[at..]}; returns the lse ({@code −∞} with zeros written when the range is empty).
     * With {@code weights} (null: all 1) each token's term is weighted in the denominator only.
     */
    static double attend(DecodeAttentionShape shape, F32Array q, long query, HalfPrecisionArray k, HalfPrecisionArray v,
            F32Array weights, int sequence, int kvHead, int from, int to, float scale, double[] out, long at) {
        double[] y = new double[Math.max(0, to - from)];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = from; t < to; t++) {
            long key = shape.kvOffset(sequence, kvHead, t);
            double dot = 0;
            for (int d = 0; d < HEAD_DIM; d++) dot += (double) q.get(query + d) * k.get(key + d);
            y[t - from] = dot * scale;
            max = Math.max(max, y[t - from]);
        }
        if (to <= from) {
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        double[] acc = new double[HEAD_DIM];
        for (int t = from; t < to; t++) {
            double p = Math.exp(y[t - from] - max);
            sum += weights == null ? p : weights.get(shape.weightOffset(sequence, kvHead, t)) * p;
            long value = shape.kvOffset(sequence, kvHead, t);
            for (int d = 0; d < HEAD_DIM; d++) acc[d] += p * v.get(value + d);
        }
        for (int d = 0; d < HEAD_DIM; d++) out[(int) at + d] = acc[d] / sum;
        return max + Math.log(sum);
    }
}
