package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;

/**
 * The device helpers {@link StreamingLinear} and {@link TiledLinear} share: eight F32 inputs at a time, and one
 * output's sums over four rows.
 */
final class LinearSums {
    private LinearSums() {}

    /** Eight floats from {@code at}. */
    static Float8 inputs(F32Array a, long at) {
        Float4 lo = a.getFloat4(at);
        Float4 hi = a.getFloat4(at + 4);
        return new Float8(lo.x(), lo.y(), lo.z(), lo.w(), hi.x(), hi.y(), hi.z(), hi.w());
    }

    /** Inputs {@code i .. i + 7} of row {@code r}; rows past the last read the last row again (in bounds, never written). */
    static Float8 inputs(F32Array x, int r, int rows, int in, int i) {
        return inputs(x, (long) Math.min(r, rows - 1) * in + i);
    }

    static Float4 zero() {
        return new Float4(0f, 0f, 0f, 0f);
    }

    /** One output's sums for four rows plus its eight weights times each row's eight inputs. */
    static Float4 add(Float4 sums, Float8 w, Float8 x0, Float8 x1, Float8 x2, Float8 x3) {
        return new Float4(sums.x() + w.dot(x0), sums.y() + w.dot(x1), sums.z() + w.dot(x2), sums.w() + w.dot(x3));
    }
}
