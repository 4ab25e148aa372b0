package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Weights times several activation rows (prefill), arranged so that arithmetic rather than
 * memory bounds it: each thread decodes a tile of {@value #TILE_ROWS} weight rows ×
 * {@value #CHUNK_COLS} columns once into a small float scratch (L1-resident) and applies it to
 * every activation row of a block of {@value #BATCH_BLOCK}, whose same columns (256 KiB) stay in
 * L2. The register tile is 4 activation rows × 2 weight rows: 8 independent FMA chains, and
 * 6 loads per 8 FMAs.
 */
final class BatchMatmul {
    /** Columns decoded per tile; a multiple of the quantised block size (32). */
    static final int CHUNK_COLS = 1024;
    /** Activation rows whose {@link #CHUNK_COLS} columns are kept hot while tiles stream past. */
    static final int BATCH_BLOCK = 64;
    static final int TILE_ROWS = 2;
    private static final int L = FLOAT.length();

    private BatchMatmul() {}

    static void multiply(WeightMatrix w, float[] x, float[] out, int batch) {
        int rows = (int) w.rows();
        ComputePool.forRange(rows, 16, (start, end) -> rowRange(w, x, out, batch, start, end));
    }

    private static void rowRange(WeightMatrix w, float[] x, float[] out, int batch, int start, int end) {
        int rows = (int) w.rows();
        int cols = (int) w.cols();
        float[] tile = new float[TILE_ROWS * CHUNK_COLS];
        for (int b0 = 0; b0 < batch; b0 += BATCH_BLOCK) {
            int b1 = Math.min(batch, b0 + BATCH_BLOCK);
            for (int k0 = 0; k0 < cols; k0 += CHUNK_COLS) {
                int kc = Math.min(CHUNK_COLS, cols - k0);
                boolean accumulate = k0 > 0;
                for (int r = start; r < end; r += TILE_ROWS) {
                    // A last, single row is decoded twice so that the register tile stays 2 rows wide.
                    int second = Math.min(r + 1, end - 1);
                    long chunkOffset = w.type().byteSize(k0);
                    Dequantize.row(w.type(), w.data(), r * w.rowBytes() + chunkOffset, kc, tile, 0);
                    Dequantize.row(w.type(), w.data(), second * w.rowBytes() + chunkOffset, kc, tile, kc);
                    boolean secondIsReal = second != r;
                    int b = b0;
                    for (; b <= b1 - 4; b += 4) {
                        tile4x2(x, b * cols + k0, cols, tile, kc, out, b * rows + r, rows, secondIsReal, accumulate);
                    }
                    for (; b < b1; b++) {
                        tile1x2(x, b * cols + k0, tile, kc, out, b * rows + r, secondIsReal, accumulate);
                    }
                }
            }
        }
    }

    /**
     * out[o + i·rows + j] (+)= Σ_c x[xOff + i·xStride + c] · tile[j·kc + c], for the 4 activation
     * rows i and 2 tile rows j.
     */
    private static void tile4x2(float[] x, int xOff, int xStride, float[] tile, int kc,
                                float[] out, int o, int rows, boolean second, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(FLOAT), s01 = FloatVector.zero(FLOAT);
        FloatVector s10 = FloatVector.zero(FLOAT), s11 = FloatVector.zero(FLOAT);
        FloatVector s20 = FloatVector.zero(FLOAT), s21 = FloatVector.zero(FLOAT);
        FloatVector s30 = FloatVector.zero(FLOAT), s31 = FloatVector.zero(FLOAT);
        int x1 = xOff + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
        int c = 0;
        for (; c <= kc - L; c += L) {
            FloatVector w0 = FloatVector.fromArray(FLOAT, tile, c);
            FloatVector w1 = FloatVector.fromArray(FLOAT, tile, kc + c);
            FloatVector v = FloatVector.fromArray(FLOAT, x, xOff + c);
            s00 = w0.fma(v, s00);
            s01 = w1.fma(v, s01);
            v = FloatVector.fromArray(FLOAT, x, x1 + c);
            s10 = w0.fma(v, s10);
            s11 = w1.fma(v, s11);
            v = FloatVector.fromArray(FLOAT, x, x2 + c);
            s20 = w0.fma(v, s20);
            s21 = w1.fma(v, s21);
            v = FloatVector.fromArray(FLOAT, x, x3 + c);
            s30 = w0.fma(v, s30);
            s31 = w1.fma(v, s31);
        }
        emit(out, o, s00, x, xOff, tile, 0, c, kc, accumulate);
        emit(out, o + rows, s10, x, x1, tile, 0, c, kc, accumulate);
        emit(out, o + 2 * rows, s20, x, x2, tile, 0, c, kc, accumulate);
        emit(out, o + 3 * rows, s30, x, x3, tile, 0, c, kc, accumulate);
        if (second) {
            emit(out, o + 1, s01, x, xOff, tile, kc, c, kc, accumulate);
            emit(out, o + rows + 1, s11, x, x1, tile, kc, c, kc, accumulate);
            emit(out, o + 2 * rows + 1, s21, x, x2, tile, kc, c, kc, accumulate);
            emit(out, o + 3 * rows + 1, s31, x, x3, tile, kc, c, kc, accumulate);
        }
    }

    /** out[o + j] (+)= Σ_c x[xOff + c] · tile[j·kc + c] for the 2 tile rows j. */
    private static void tile1x2(float[] x, int xOff, float[] tile, int kc,
                                float[] out, int o, boolean second, boolean accumulate) {
        FloatVector s0 = FloatVector.zero(FLOAT), s1 = FloatVector.zero(FLOAT);
        int c = 0;
        for (; c <= kc - L; c += L) {
            FloatVector v = FloatVector.fromArray(FLOAT, x, xOff + c);
            s0 = FloatVector.fromArray(FLOAT, tile, c).fma(v, s0);
            s1 = FloatVector.fromArray(FLOAT, tile, kc + c).fma(v, s1);
        }
        emit(out, o, s0, x, xOff, tile, 0, c, kc, accumulate);
        if (second) {
            emit(out, o + 1, s1, x, xOff, tile, kc, c, kc, accumulate);
        }
    }

    /** Reduces a lane sum, adds the scalar tail [from, kc) and stores or accumulates it. */
    private static void emit(float[] out, int o, FloatVector lanes, float[] x, int xOff,
                             float[] tile, int tileOff, int from, int kc, boolean accumulate) {
        float sum = lanes.reduceLanes(VectorOperators.ADD);
        for (int c = from; c < kc; c++) {
            sum += x[xOff + c] * tile[tileOff + c];
        }
        out[o] = accumulate ? out[o] + sum : sum;
    }
}
