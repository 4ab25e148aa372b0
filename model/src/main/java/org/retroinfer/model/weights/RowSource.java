package org.retroinfer.model.weights;

/**
 * A tensor's values handed to a writer one row at a time (a row is the last, innermost dimension),
 * so that a writer never holds a whole tensor: random test models of real size can be generated
 * straight into the file.
 */
@FunctionalInterface
public interface RowSource {
    /** Fills {@code out[0 .. out.length)} with the values of row {@code row}. */
    void read(long row, float[] out);

    /** The rows of {@code values}, a row-major array of rows of {@code columns} values each. */
    static RowSource of(float[] values, int columns) {
        return (row, out) -> System.arraycopy(values, Math.toIntExact(row * columns), out, 0, columns);
    }
}
