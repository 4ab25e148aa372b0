package org.retroinfer.model.weights;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.WeightMatrix;

/**
 * One named tensor of a weights file: its type, its shape in row-major order (outermost
 * dimension first, as Hugging Face and PyTorch write it), and its bytes, a slice of the
 * memory-mapped file.
 */
public record Tensor(Path file, String name, DType type, long[] shape, MemorySegment data) {
    public Tensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** This tensor, checked to have exactly the given shape. */
    public Tensor requireShape(long... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new ModelFileException(file, "tensor " + name + " has shape " + Arrays.toString(shape)
                    + " but the model's config needs " + Arrays.toString(expected));
        }
        return this;
    }

    /** This tensor, checked to have one of the given types. */
    public Tensor requireType(DType... allowed) {
        for (DType t : allowed) {
            if (t == type) {
                return this;
            }
        }
        throw new ModelFileException(file, "tensor " + name + " is stored as " + type
                + " but must be one of " + Arrays.toString(allowed));
    }

    /** A 2-D tensor as a weight matrix [shape[0] rows, shape[1] columns]. */
    public WeightMatrix asMatrix() {
        if (shape.length != 2) {
            throw new ModelFileException(file, "tensor " + name + " has shape " + Arrays.toString(shape)
                    + " but a 2-D matrix is needed");
        }
        return new WeightMatrix(type, shape[0], shape[1], data);
    }

    /** All values as floats; only for small tensors (norm weights, biases). */
    public float[] toFloats() {
        long n = elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelFileException(file, "tensor " + name + " has " + n + " values, too many to copy");
        }
        float[] out = new float[(int) n];
        org.retroinfer.kernels.Dequantize.row(type, data, 0, (int) n, out, 0);
        return out;
    }
}
