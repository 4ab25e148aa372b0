package org.retroinfer.kernels;

/** Matrix products of weights with activations: the linear layers and the logits. */
public final class Matmul {
    private Matmul() {}

    /**
     * {@code out[b·rows + r] = Σ_c W[r][c] · x[b·cols + c]} for every row r of {@code w} and every
     * batch row b < {@code batch}: x is [batch][cols], out is [batch][rows]. Parallel over rows.
     */
    public static void multiply(WeightMatrix w, float[] x, float[] out, int batch) {
        int rows = Math.toIntExact(w.rows());
        int cols = Math.toIntExact(w.cols());
        checkLength("x", x, (long) batch * cols);
        checkLength("out", out, (long) batch * rows);
        ComputePool.forRange(rows, 16, (start, end) -> {
            float[] row = new float[cols];
            for (int r = start; r < end; r++) {
                w.readRow(r, row, 0);
                for (int b = 0; b < batch; b++) {
                    float sum = 0;
                    int base = b * cols;
                    for (int c = 0; c < cols; c++) {
                        sum += row[c] * x[base + c];
                    }
                    out[b * rows + r] = sum;
                }
            }
        });
    }

    static void checkLength(String name, float[] array, long needed) {
        if (array.length < needed) {
            throw new IllegalArgumentException(name + " holds " + array.length + " floats, needs " + needed);
        }
    }
}
