package org.retroinfer.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A read-only matrix of {@code rows × cols} values, row-major, stored as {@code type} in
 * {@code data} (usually a slice of a memory-mapped weights file). A linear layer's weight in the
 * Hugging Face layout [out_features, in_features] is a WeightMatrix with rows = out_features.
 * Quantised rows are whole blocks, so {@code cols} is a multiple of the block size.
 */
public record WeightMatrix(DType type, long rows, long cols, MemorySegment data) {
    public WeightMatrix {
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
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(cols);
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
}
