package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The CPU twin of {@link StoreDecode} followed by {@link SplitKvMerge#merge}: each group's query heads attend, in
 * float64 and without splits, to its steady zone and then its units' vectors, a quantised one read as level times
 * scale ({@link Int4Vectors#dequantise}, {@link Int8Vectors#dequantise}) with no rounding to 16 bits, as the kernel
 * reads it. Arguments as the kernel's, with the 16-bit stores viewed as half-precision arrays.
 */
public final class StoreDecodeTwin {
    /** How the store holds a vector. */
    public enum Format {
        HALF, INT8, INT4
    }

    private StoreDecodeTwin() {}

    /**
     * The merged output {@code [groups][group][128]} and lse {@code [groups][group]} of {@code groups} groups of
     * {@code group} query heads; {@code listHalfK}/{@code listHalfV} are the 16-bit store ({@link Format#HALF}), else
     * {@code listK}/{@code listV} and their scales the quantised one.
     */
    public static SplitKvDecodeTwin.Output attend(int groups, int group, F32Array q, float scale, HalfPrecisionArray steadyK,
            HalfPrecisionArray steadyV, I32Array steadyLengths, int steadyStride, Format format, HalfPrecisionArray listHalfK,
            HalfPrecisionArray listHalfV, I32Array listK, I32Array listV, I32Array scalesK, I32Array scalesV, int listStride,
            I32Array unitStarts, I32Array unitSizes, I32Array unitCounts, int maxUnits) {
        double[] out = new double[groups * group * HEAD_DIM];
        double[] lse = new double[groups * group];
        for (int g = 0; g < groups; g++) {
            java.util.List<double[][]> vectors = new java.util.ArrayList<>(); // (key, value) pairs in attention order
            for (int t = 0; t < steadyLengths.get(g); t++) {
                long at = ((long) g * steadyStride + t) * HEAD_DIM;
                vectors.add(new double[][] {halfVector(steadyK, at), halfVector(steadyV, at)});
            }
            for (int u = 0; u < unitCounts.get(g); u++) {
                long unit = (long) g * maxUnits + u;
                for (int r = 0; r < unitSizes.get(unit); r++) {
                    long vector = (long) g * listStride + unitStarts.get(unit) + r;
                    vectors.add(switch (format) {
                        case HALF -> new double[][] {halfVector(listHalfK, vector * HEAD_DIM),
                                halfVector(listHalfV, vector * HEAD_DIM)};
                        case INT8 -> new double[][] {int8Vector(listK, scalesK, vector), int8Vector(listV, scalesV, vector)};
                        case INT4 -> new double[][] {int4Vector(listK, scalesK, vector), int4Vector(listV, scalesV, vector)};
                    });
                }
            }
            for (int h = 0; h < group; h++) {
                int head = g * group + h;
                lse[head] = attend(q, (long) head * HEAD_DIM, scale, vectors, out, head * HEAD_DIM);
            }
        }
        return new SplitKvDecodeTwin.Output(out, lse);
    }

    /** Softmax attention of one query head; writes its output at {@code out[at..]} and returns its lse (−∞ if none). */
    private static double attend(F32Array q, long query, float scale, java.util.List<double[][]> vectors, double[] out, int at) {
        double[] y = new double[vectors.size()];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < y.length; t++) {
            double dot = 0;
            for (int d = 0; d < HEAD_DIM; d++) dot += (double) q.get(query + d) * vectors.get(t)[0][d];
            y[t] = dot * scale;
            max = Math.max(max, y[t]);
        }
        if (y.length == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        double[] acc = new double[HEAD_DIM];
        for (int t = 0; t < y.length; t++) {
            double p = Math.exp(y[t] - max);
            sum += p;
            for (int d = 0; d < HEAD_DIM; d++) acc[d] += p * vectors.get(t)[1][d];
        }
        for (int d = 0; d < HEAD_DIM; d++) out[at + d] = acc[d] / sum;
        return max + Math.log(sum);
    }

    private static double[] halfVector(HalfPrecisionArray a, long at) {
        double[] x = new double[HEAD_DIM];
        for (int d = 0; d < HEAD_DIM; d++) x[d] = a.get(at + d);
        return x;
    }

    private static double[] int8Vector(I32Array levels, I32Array scales, long vector) {
        double[] x = new double[HEAD_DIM];
        for (int d = 0; d < HEAD_DIM; d++) x[d] = Int8Vectors.dequantise(Int8Vectors.get(levels, vector, d), Int8Vectors.scale(scales, vector));
        return x;
    }

    private static double[] int4Vector(I32Array levels, I32Array scales, long vector) {
        double[] x = new double[HEAD_DIM];
        for (int d = 0; d < HEAD_DIM; d++) {
            x[d] = Int4Vectors.dequantise(Int4Vectors.get(levels, vector, d), Int4Vectors.scale(scales, vector, d));
        }
        return x;
    }
}
