package org.retroinfer.model.weights;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.retroinfer.kernels.DType;

/**
 * A tensor waiting to be written: its name, stored type, row-major shape, and either its values row by
 * row ({@code rows}, encoded by the writer) or its bytes already in the stored type ({@code raw}).
 */
record TensorPayload(String name, DType type, long[] shape, RowSource rows, MemorySegment raw) {
    TensorPayload {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a tensor needs a non-empty name");
        }
        shape = shape.clone();
        if ((rows == null) == (raw == null)) {
            throw new IllegalArgumentException("tensor " + name + " needs either rows or raw bytes");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + " has a negative dimension: " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        if (cols % type.blockElements() != 0) {
            throw new IllegalArgumentException("tensor " + name + " is to be stored as " + type + ", whose rows must hold whole"
                    + " blocks of " + type.blockElements() + " values, but its shape " + Arrays.toString(shape)
                    + " has rows of " + cols);
        }
        if (rows != null && cols > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor " + name + " has rows of " + cols + " values, too long for a float[]");
        }
        if (raw != null && raw.byteSize() != type.byteSize(elements)) {
            throw new IllegalArgumentException("tensor " + name + " of type " + type + " and shape " + Arrays.toString(shape)
                    + " needs " + type.byteSize(elements) + " bytes, got " + raw.byteSize());
        }
    }

    /** A tensor given as a row-major float array; it is read when the file is written, not copied now. */
    static TensorPayload of(String name, DType type, long[] shape, float[] values) {
        long elements = 1;
        for (long d : shape) {
            elements = Math.multiplyExact(elements, d);
        }
        if (elements != values.length) {
            throw new IllegalArgumentException("tensor " + name + " of shape " + Arrays.toString(shape) + " has "
                    + elements + " values, but " + values.length + " were given");
        }
        int cols = shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
        return new TensorPayload(name, type, shape, RowSource.of(values, cols), null);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    long bytes() {
        return type.byteSize(elements());
    }

    /** Values per row: the last dimension (1 for a scalar). */
    int columns() {
        return shape.length == 0 ? 1 : (int) shape[shape.length - 1];
    }

    long rowCount() {
        long c = columns();
        return c == 0 ? 0 : elements() / c;
    }
}
