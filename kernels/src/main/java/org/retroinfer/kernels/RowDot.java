package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The dot product of one stored weight row with a float vector, reading the row straight from
 * its segment and converting in registers: the whole work of a decode-time (batch 1) matmul,
 * which streams every weight byte once and is bound by memory bandwidth.
 *
 * <p>Each loop keeps two independent accumulators, enough to hide the FMA latency behind the
 * conversions, and small enough that C2 inlines the whole body (a larger unroll exceeded its
 * inlining budget for F16 and ran several times slower, boxing vectors).
 */
final class RowDot {
    private static final int L = FLOAT.length();

    private RowDot() {}

    /** Σ_c row[c]·x[xOff + c] for c < n, the row starting at byte {@code offset} of {@code data}. */
    static float dot(DType type, MemorySegment data, long offset, float[] x, int xOff, int n) {
        return switch (type) {
            case F32 -> f32(data, offset, x, xOff, n);
            case F16, BF16 -> halves(type, data, offset, x, xOff, n);
            case Q8_0 -> q8(data, offset, x, xOff, n / QuantBlocks.VALUES);
            case Q4_0 -> q4(data, offset, x, xOff, n / QuantBlocks.VALUES);
        };
    }

    private static float f32(MemorySegment data, long offset, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            acc0 = FloatVector.fromMemorySegment(FLOAT, data, offset + 4L * i, ORDER)
                    .fma(FloatVector.fromArray(FLOAT, x, xOff + i), acc0);
            acc1 = FloatVector.fromMemorySegment(FLOAT, data, offset + 4L * (i + L), ORDER)
                    .fma(FloatVector.fromArray(FLOAT, x, xOff + i + L), acc1);
        }
        if (i <= n - L) {
            acc0 = FloatVector.fromMemorySegment(FLOAT, data, offset + 4L * i, ORDER)
                    .fma(FloatVector.fromArray(FLOAT, x, xOff + i), acc0);
            i += L;
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, offset + 4L * i) * x[xOff + i];
        }
        return sum;
    }

    private static float halves(DType type, MemorySegment data, long offset, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            acc0 = HalfVectors.load(type, data, offset + 2L * i).fma(FloatVector.fromArray(FLOAT, x, xOff + i), acc0);
            acc1 = HalfVectors.load(type, data, offset + 2L * (i + L))
                    .fma(FloatVector.fromArray(FLOAT, x, xOff + i + L), acc1);
        }
        if (i <= n - L) {
            acc0 = HalfVectors.load(type, data, offset + 2L * i).fma(FloatVector.fromArray(FLOAT, x, xOff + i), acc0);
            i += L;
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Half.toFloat(type, data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i)) * x[xOff + i];
        }
        return sum;
    }

    /** Blocks are summed unscaled, then scaled once: Σ_blocks d·(Σ_j q_j·x_j). */
    private static float q8(MemorySegment data, long offset, float[] x, int xOff, int blocks) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int b = 0;
        for (; b <= blocks - 2; b += 2) {
            acc0 = q8Block(data, offset + 34L * b, x, xOff + QuantBlocks.VALUES * b, acc0);
            acc1 = q8Block(data, offset + 34L * (b + 1), x, xOff + QuantBlocks.VALUES * (b + 1), acc1);
        }
        if (b < blocks) {
            acc0 = q8Block(data, offset + 34L * b, x, xOff + QuantBlocks.VALUES * b, acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector q8Block(MemorySegment data, long block, float[] x, int xOff, FloatVector acc) {
        FloatVector sum = QuantBlocks.q8(data, block, 0).mul(FloatVector.fromArray(FLOAT, x, xOff));
        for (int c = 1; c < QuantBlocks.CHUNKS; c++) {
            sum = QuantBlocks.q8(data, block, c).fma(FloatVector.fromArray(FLOAT, x, xOff + c * L), sum);
        }
        return sum.fma(FloatVector.broadcast(FLOAT, QuantBlocks.scale(data, block)), acc);
    }

    private static float q4(MemorySegment data, long offset, float[] x, int xOff, int blocks) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int b = 0;
        for (; b <= blocks - 2; b += 2) {
            acc0 = q4Block(data, offset + 18L * b, x, xOff + QuantBlocks.VALUES * b, acc0);
            acc1 = q4Block(data, offset + 18L * (b + 1), x, xOff + QuantBlocks.VALUES * (b + 1), acc1);
        }
        if (b < blocks) {
            acc0 = q4Block(data, offset + 18L * b, x, xOff + QuantBlocks.VALUES * b, acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector q4Block(MemorySegment data, long block, float[] x, int xOff, FloatVector acc) {
        FloatVector sum = QuantBlocks.q4(data, block, 0).mul(FloatVector.fromArray(FLOAT, x, xOff));
        for (int c = 1; c < QuantBlocks.CHUNKS; c++) {
            sum = QuantBlocks.q4(data, block, c).fma(FloatVector.fromArray(FLOAT, x, xOff + c * L), sum);
        }
        return sum.fma(FloatVector.broadcast(FLOAT, QuantBlocks.scale(data, block)), acc);
    }
}
