package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.Grid;

/** A {@link Linear} launch: {@code rows} rows of {@code in} inputs to {@code out} outputs. */
public record LinearShape(int rows, int in, int out) {
    public LinearShape {
        if (rows < 1) throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        if (in < 8 || in % 8 != 0) throw new IllegalArgumentException("in must be a positive multiple of 8, got " + in);
        if (out < 1) throw new IllegalArgumentException("out must be at least 1, got " + out);
        if ((long) rows * Math.max(in, out) > Integer.MAX_VALUE)
            throw new IllegalArgumentException("rows × the wider side must fit an int, got " + rows + " × " + Math.max(in, out));
    }

    /** One block per {@link Linear#OUTPUTS} outputs. */
    public Grid grid() {
        return Grid.of((out + Linear.OUTPUTS - 1) / Linear.OUTPUTS, Linear.THREADS);
    }
}
