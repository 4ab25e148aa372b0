package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Weights times several activation rows (prefill), arranged so that arithmetic rather than
 * memory bounds it: each thread decodes a tile of {@value #TILE_ROWS} weight rows ×
 * {@value #CHUNK_COLS} columns once into a float scratch (16 KiB, L1-resident) and applies it to
 * every activation row of a block of {@value #BATCH_BLOCK}, whose same columns (256 KiB) stay in
 * L2. The register tile is 2 activation rows × 4 weight rows: 8 independent FMA chains and
 * 6 loads per 8 FMAs, of which only the 2 activation loads come from L2 (a 4 × 2 tile needed
 * 4, more than L2 delivers, and ran at half the speed).
 */
final class BatchMatmul {
    /** Columns decoded per tile; a multiple of the quantised block size (32). */
    static final int CHUNK_COLS = 1024;
    /** Activation rows whose {@link #CHUNK_COLS} columns are kept hot while tiles stream past. */
    static final int BATCH_BLOCK = 64;
    static final int TILE_ROWS = 4;
    private static final int L = FLOAT.length();
    /** Each thread's decoded weight tile, reused across calls. */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[TILE_ROWS * CHUNK_COLS]);

    private BatchMatmul() {}

    static void multiply(WeightMatrix w, float[] x, float[] out, int batch) {
        int rows = (int) w.rows();
        ComputePool.forRange(rows, 16, (start, end) -> rowRange(w, x, out, batch, start, end));
    }

    private static void rowRange(WeightMatrix w, float[] x, float[] out, int batch, int start, int end) {
        int rows = (int) w.rows();
        int cols = (int) w.cols();
        float[] tile = TILE.get();
        for (int b0 = 0; b0 < batch; b0 += BATCH_BLOCK) {
            int b1 = Math.min(batch, b0 + BATCH_BLOCK);
            for (int k0 = 0; k0 < cols; k0 += CHUNK_COLS) {
                int kc = Math.min(CHUNK_COLS, cols - k0);
                boolean accumulate = k0 > 0;
                long chunkOffset = w.type().byteSize(k0);
                for (int r = start; r < end; r += TILE_ROWS) {
                    // Past the range's last row, the tile repeats it, so that the register tile
                    // stays 4 rows wide; those rows' sums are not stored.
                    int real = Math.min(TILE_ROWS, end - r);
                    for (int t = 0; t < TILE_ROWS; t++) {
                        long row = r + Math.min(t, real - 1);
                        Dequantize.row(w.type(), w.data(), row * w.rowBytes() + chunkOffset, kc, tile, t * kc);
                    }
                    int b = b0;
                    for (; b <= b1 - 2; b += 2) {
                        tile2x4(x, b * cols + k0, cols, tile, kc, out, b * rows + r, rows, real, accumulate);
                    }
                    if (b < b1) {
                        tile1x4(x, b * cols + k0, tile, kc, out, b * rows + r, real, accumulate);
                    }
                }
            }
        }
    }

    /**
     * out[o + i·rows + j] (+)= Σ_c x[xOff + i·xStride + c] · tile[j·kc + c] for the 2 activation
     * rows i and the first {@code real} of the 4 tile rows j.
     */
    private static void tile2x4(float[] x, int xOff, int xStride, float[] tile, int kc,
                                float[] out, int o, int rows, int real, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(FLOAT), s01 = FloatVector.zero(FLOAT);
        FloatVector s02 = FloatVector.zero(FLOAT), s03 = FloatVector.zero(FLOAT);
        FloatVector s10 = FloatVector.zero(FLOAT), s11 = FloatVector.zero(FLOAT);
        FloatVector s12 = FloatVector.zero(FLOAT), s13 = FloatVector.zero(FLOAT);
        int x1 = xOff + xStride;
        int c = 0;
        for (; c <= kc - L; c += L) {
            FloatVector v0 = FloatVector.fromArray(FLOAT, x, xOff + c);
            FloatVector v1 = FloatVector.fromArray(FLOAT, x, x1 + c);
            FloatVector w = FloatVector.fromArray(FLOAT, tile, c);
            s00 = w.fma(v0, s00);
            s10 = w.fma(v1, s10);
            w = FloatVector.fromArray(FLOAT, tile, kc + c);
            s01 = w.fma(v0, s01);
            s11 = w.fma(v1, s11);
            w = FloatVector.fromArray(FLOAT, tile, 2 * kc + c);
            s02 = w.fma(v0, s02);
            s12 = w.fma(v1, s12);
            w = FloatVector.fromArray(FLOAT, tile, 3 * kc + c);
            s03 = w.fma(v0, s03);
            s13 = w.fma(v1, s13);
        }
        emit(out, o, s00, x, xOff, tile, 0, c, kc, accumulate);
        emit(out, o + rows, s10, x, x1, tile, 0, c, kc, accumulate);
        if (real > 1) {
            emit(out, o + 1, s01, x, xOff, tile, kc, c, kc, accumulate);
            emit(out, o + rows + 1, s11, x, x1, tile, kc, c, kc, accumulate);
        }
        if (real > 2) {
            emit(out, o + 2, s02, x, xOff, tile, 2 * kc, c, kc, accumulate);
            emit(out, o + rows + 2, s12, x, x1, tile, 2 * kc, c, kc, accumulate);
        }
        if (real > 3) {
            emit(out, o + 3, s03, x, xOff, tile, 3 * kc, c, kc, accumulate);
            emit(out, o + rows + 3, s13, x, x1, tile, 3 * kc, c, kc, accumulate);
        }
    }

    /** out[o + j] (+)= Σ_c x[xOff + c] · tile[j·kc + c] for the first {@code real} of the 4 tile rows j. */
    private static void tile1x4(float[] x, int xOff, float[] tile, int kc,
                                float[] out, int o, int real, boolean accumulate) {
        FloatVector s0 = FloatVector.zero(FLOAT), s1 = FloatVector.zero(FLOAT);
        FloatVector s2 = FloatVector.zero(FLOAT), s3 = FloatVector.zero(FLOAT);
        int c = 0;
        for (; c <= kc - L; c += L) {
            FloatVector v = FloatVector.fromArray(FLOAT, x, xOff + c);
            s0 = FloatVector.fromArray(FLOAT, tile, c).fma(v, s0);
            s1 = FloatVector.fromArray(FLOAT, tile, kc + c).fma(v, s1);
            s2 = FloatVector.fromArray(FLOAT, tile, 2 * kc + c).fma(v, s2);
            s3 = FloatVector.fromArray(FLOAT, tile, 3 * kc + c).fma(v, s3);
        }
        emit(out, o, s0, x, xOff, tile, 0, c, kc, accumulate);
        if (real > 1) {
            emit(out, o + 1, s1, x, xOff, tile, kc, c, kc, accumulate);
        }
        if (real > 2) {
            emit(out, o + 2, s2, x, xOff, tile, 2 * kc, c, kc, accumulate);
        }
        if (real > 3) {
            emit(out, o + 3, s3, x, xOff, tile, 3 * kc, c, kc, accumulate);
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
