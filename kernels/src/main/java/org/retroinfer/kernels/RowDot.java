package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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

    /** Two conversion sites only (see {@link AttentionKernels}); up to 2L − 1 values go to the scalar tail. */
    private static float halves(DType type, MemorySegment data, long offset, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            acc0 = HalfVectors.load(type, data, offset + 2L * i).fma(FloatVector.fromArray(FLOAT, x, xOff + i), acc0);
            acc1 = HalfVectors.load(type, data, offset + 2L * (i + L))
                    .fma(FloatVector.fromArray(FLOAT, x, xOff + i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Half.toFloat(type, data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i)) * x[xOff + i];
        }
        return sum;
    }

    /**
     * Blocks are summed unscaled, then scaled once: Σ_blocks d·(Σ_j q_j·x_j). One block per
     * iteration and a single accumulator: C2 unrolls the loop itself after inlining, whereas
     * unrolling it by hand ran out of C2's parse-time node budget (the block's scale read was then
     * left as a call, which spills every vector register) and was 2.5x slower.
     */
    private static float q8(MemorySegment data, long offset, float[] x, int xOff, int blocks) {
        FloatVector acc = FloatVector.zero(FLOAT);
        for (int b = 0; b < blocks; b++) {
            long block = offset + 34L * b;
            int xb = xOff + QuantBlocks.VALUES * b;
            FloatVector sum = FloatVector.zero(FLOAT);
            for (int first = 0; first < QuantBlocks.VALUES; first += L) {
                sum = QuantBlocks.q8(data, block, first).fma(FloatVector.fromArray(FLOAT, x, xb + first), sum);
            }
            acc = sum.fma(FloatVector.broadcast(FLOAT, QuantBlocks.scale(data, block)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** As {@link #q8}; each load of packed bytes serves a low-nibble and a high-nibble vector. */
    private static float q4(MemorySegment data, long offset, float[] x, int xOff, int blocks) {
        FloatVector acc = FloatVector.zero(FLOAT);
        for (int b = 0; b < blocks; b++) {
            long block = offset + 18L * b;
            int xb = xOff + QuantBlocks.VALUES * b;
            FloatVector sum = FloatVector.zero(FLOAT);
            for (int first = 0; first < QuantBlocks.VALUES / 2; first += L) {
                IntVector packed = QuantBlocks.q4Packed(data, block, first);
                sum = QuantBlocks.q4Low(packed).fma(FloatVector.fromArray(FLOAT, x, xb + first), sum);
                sum = QuantBlocks.q4High(packed).fma(FloatVector.fromArray(FLOAT, x, xb + 16 + first), sum);
            }
            acc = sum.fma(FloatVector.broadcast(FLOAT, QuantBlocks.scale(data, block)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
