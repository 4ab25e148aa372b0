package org.retroinfer.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A read-only matrix of {@code rows × cols} values, row-major, stored as {@code type} in
 * {@code data} (usually a slice of a memory-mapped weights file). A linear layer's weight in the
 * Hugging Face layout [out_features, in_features] is a WeightMatrix with rows = out_features.
 * Quantised rows are whole blocks, so {@code cols} is a multiple of the block size.
 *
 * <p>Not a record: an F16 matrix remembers whether all its values are finite, which it learns
 * by one scan on first use (see {@link #f16Finite}).
 */
public final class WeightMatrix {
    private static final byte UNKNOWN = 0, FINITE = 1, NOT_FINITE = 2;

    private final DType type;
    private final long rows;
    private final long cols;
    private final MemorySegment data;
    /** A benign race: threads that scan at once all find the same answer. */
    private volatile byte finiteness = UNKNOWN;

    public WeightMatrix(DType type, long rows, long cols, MemorySegment data) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix must be non-empty, got " + rows + " x " + cols);
        }
        if (cols % type.blockElements() != 0) {
            throw new IllegalArgumentException(type + " rows must hold whole blocks of "
                    + type.blockElements() + " values, got " + cols + " columns");
        }
        long expected = type.byteSize(rows * cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("a " + rows + " x " + cols + " " + type + " matrix needs "
                    + expected + " bytes, got " + data.byteSize());
        }
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    public DType type() {
        return type;
    }

    public long rows() {
        return rows;
    }

    public long cols() {
        return cols;
    }

    public MemorySegment data() {
        return data;
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }

    /**
     * Whether this is an F16 matrix without Inf or NaN, which lets batch-1 products use a
     * cheaper conversion ({@link RowDot}). Scans the matrix once, in parallel, on first call.
     */
    boolean f16Finite() {
        if (type != DType.F16) {
            return false;
        }
        byte known = finiteness;
        if (known == UNKNOWN) {
            known = HalfVectors.f16AllFinite(data) ? FINITE : NOT_FINITE;
            finiteness = known;
        }
        return known == FINITE;
    }

    /** Dequantises row {@code row} into {@code out[offset .. offset + cols)}. */
    public void readRow(long row, float[] out, int offset) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " of a matrix with " + rows + " rows");
        }
        Dequantize.row(type, data, row * rowBytes(), (int) cols, out, offset);
    }

    /** The value at (row, col), dequantised; for tests and references, not for hot loops. */
    public float get(long row, long col) {
        long base = row * rowBytes();
        return switch (type) {
            case F32 -> data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, base + 4 * col);
            case F16 -> Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2 * col));
            case BF16 -> Half.bf16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2 * col));
            case Q8_0, Q4_0 -> {
                float[] block = new float[32];
                long blockOffset = base + (col / 32) * type.blockBytes();
                Dequantize.row(type, data, blockOffset, 32, block, 0);
                yield block[(int) (col % 32)];
            }
        };
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + type + ", " + rows + " x " + cols + "]";
    }
}
