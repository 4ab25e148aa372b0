package org.retroinfer.kernels;

/**
 * Matrix products of weights with activations: the linear layers and the logits. Batch 1
 * (decode) streams each weight row once through {@link RowDot}, F16/BF16 rows as four streams per
 * thread; larger batches (prefill) decode weight tiles once and apply them to many activation rows
 * ({@link BatchMatmul}). Both run in parallel over output rows on the {@link ComputePool}.
 */
public final class Matmul {
    /** Rows per scheduling grain: a few KiB to a few MiB of weights. */
    private static final int ROW_GRAIN = 16;

    private Matmul() {}

    /**
     * {@code out[b·rows + r] = Σ_c W[r][c] · x[b·cols + c]} for every row r of {@code w} and every
     * batch row b < {@code batch}: x is [batch][cols], out is [batch][rows]. Parallel over rows.
     */
    public static void multiply(WeightMatrix w, float[] x, float[] out, int batch) {
        multiply(w, x, out, batch, RowStreams.FOUR);
    }

    /**
     * How a batch-1 product reads F16/BF16 rows on each thread. {@link #multiply(WeightMatrix,
     * float[], float[], int)} always takes {@link #FOUR}; {@link #ONE} is the earlier order, kept
     * so that benchmarks can time both side by side. Both give the same results bit for bit.
     */
    public enum RowStreams {
        /** One row after another: a single stream of weights per thread. */
        ONE(1),
        /** One row from each quarter of the thread's rows at once: four streams per thread. */
        FOUR(RowDot.STREAMS);

        final int streams;

        RowStreams(int streams) {
            this.streams = streams;
        }
    }

    /** As {@link #multiply(WeightMatrix, float[], float[], int)}, reading batch-1 rows as {@code order} says. */
    public static void multiply(WeightMatrix w, float[] x, float[] out, int batch, RowStreams order) {
        int streams = order.streams;
        int rows = Math.toIntExact(w.rows());
        int cols = Math.toIntExact(w.cols());
        if (batch < 0) {
            throw new IllegalArgumentException("batch must be >= 0, got " + batch);
        }
        checkLength("x", x, (long) batch * cols);
        checkLength("out", out, (long) batch * rows);
        if (batch == 1) {
            float[] xScaled = w.f16Finite() ? RowDot.scaledForFiniteF16(x, cols) : null;
            if (xScaled != null) {
                ComputePool.forRange(rows, ROW_GRAIN, (start, end) -> RowDot.f16FiniteRows(w, xScaled, out, start, end, streams));
            } else {
                ComputePool.forRange(rows, ROW_GRAIN, (start, end) -> RowDot.rows(w, x, out, start, end, streams));
            }
        } else if (batch > 1) {
            BatchMatmul.multiply(w, x, out, batch);
        }
    }

    static void checkLength(String name, float[] array, long needed) {
        if (array.length < needed) {
            throw new IllegalArgumentException(name + " holds " + array.length + " floats, needs " + needed);
        }
    }
}
