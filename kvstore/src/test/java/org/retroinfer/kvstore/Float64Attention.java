package org.retroinfer.kvstore;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

/** The keys and values of one sequence as stored (rounded to the storage type), with exact float64 attention. */
public final class Float64Attention {
    private final AttentionShape shape;
    private final DType type;
    public final List<List<double[]>> keys = new ArrayList<>();
    public final List<List<double[]>> values = new ArrayList<>();

    public Float64Attention(AttentionShape shape, DType type) {
        this.shape = shape;
        this.type = type;
        for (int l = 0; l < shape.layers(); l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    /** Records one position of {@code layer}: row {@code off} of keys and values, all KV heads. */
    public void append(int layer, float[] k, float[] v, int off) {
        keys.get(layer).add(rounded(k, off, shape.kvWidth(), type));
        values.get(layer).add(rounded(v, off, shape.kvWidth(), type));
    }

    public static double[] rounded(float[] x, int off, int n, DType type) {
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = Half.round(type, x[off + i]);
        }
        return r;
    }

    /** Causal attention of the query row at {@code q[qOff ..]} sitting at {@code position}. */
    public double[] attend(int layer, float[] q, int qOff, int position) {
        return attend(layer, q, qOff, IntStream.rangeClosed(0, position).toArray());
    }

    /** Attention of the query row at {@code q[qOff ..]} restricted to the stored {@code positions}. */
    public double[] attend(int layer, float[] q, int qOff, int[] positions) {
        int d = shape.headDim();
        double[] out = new double[shape.queryWidth()];
        for (int h = 0; h < shape.queryHeads(); h++) {
            int kv = h / shape.groupSize();
            double[] s = new double[positions.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < positions.length; j++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += q[qOff + h * d + i] * keys.get(layer).get(positions[j])[kv * d + i];
                }
                s[j] = dot / Math.sqrt(d);
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < positions.length; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < positions.length; j++) {
                for (int i = 0; i < d; i++) {
                    out[h * d + i] += s[j] / sum * values.get(layer).get(positions[j])[kv * d + i];
                }
            }
        }
        return out;
    }
}
