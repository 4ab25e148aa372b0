package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.BYTE;
import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.HALF;
import static org.retroinfer.kernels.VectorSupport.INT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Dot products of stored weight rows with a float vector, reading each row straight from its
 * segment and converting in registers: the whole work of a decode-time (batch 1) matmul, which
 * streams every weight byte once and is bound by memory bandwidth.
 *
 * <p>Each loop converts at most two vectors per iteration, with the formulas of
 * {@link HalfVectors} and {@link QuantBlocks} written out in place (vectors never cross a method
 * boundary of ours, see {@link HalfVectors}); F16 and BF16 keep two accumulators, enough to hide
 * the FMA latency behind the conversions. Quantised rows take one block per iteration with a
 * single accumulator and let C2 unroll: unrolled by hand, the loop ran out of C2's node budget.
 */
final class RowDot {
    private static final int L = FLOAT.length();

    private RowDot() {}

    /** {@code out[r] = row r · x[0 .. cols)} for rows r in [start, end) of {@code w}. */
    static void rows(WeightMatrix w, float[] x, float[] out, int start, int end) {
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        int cols = (int) w.cols();
        switch (w.type()) {
            case F32 -> {
                for (int r = start; r < end; r++) {
                    out[r] = f32(data, r * rowBytes, x, cols);
                }
            }
            case F16 -> {
                for (int r = start; r < end; r++) {
                    out[r] = f16(data, r * rowBytes, x, cols);
                }
            }
            case BF16 -> {
                for (int r = start; r < end; r++) {
                    out[r] = bf16(data, r * rowBytes, x, cols);
                }
            }
            case Q8_0 -> {
                for (int r = start; r < end; r++) {
                    out[r] = q8(data, r * rowBytes, x, cols / QuantBlocks.VALUES);
                }
            }
            case Q4_0 -> {
                for (int r = start; r < end; r++) {
                    out[r] = q4(data, r * rowBytes, x, cols / QuantBlocks.VALUES);
                }
            }
        }
    }

    private static float f32(MemorySegment data, long offset, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            acc0 = FloatVector.fromMemorySegment(FLOAT, data, offset + 4L * i, ORDER)
                    .fma(FloatVector.fromArray(FLOAT, x, i), acc0);
            acc1 = FloatVector.fromMemorySegment(FLOAT, data, offset + 4L * (i + L), ORDER)
                    .fma(FloatVector.fromArray(FLOAT, x, i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, offset + 4L * i) * x[i];
        }
        return sum;
    }

    /** F16 decoded as in {@link HalfVectors#decodeF16}. */
    private static float f16(MemorySegment data, long offset, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            VectorMask<Integer> infOrNan = bits.and(HalfVectors.F16_EXPONENT)
                    .compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            FloatVector w = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats();
            acc0 = w.fma(FloatVector.fromArray(FLOAT, x, i), acc0);

            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, offset + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            w = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats();
            acc1 = w.fma(FloatVector.fromArray(FLOAT, x, i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i)) * x[i];
        }
        return sum;
    }

    /**
     * The factor on x for {@link #f16FiniteRows}: F16 bits moved into float position read as the
     * weight times 2^-112 (exactly, subnormals included), so x is scaled up by 2^64 and each sum
     * by the remaining 2^48. Powers of two scale exactly: the results equal the exact-decode
     * path's bit for bit unless some |x| reaches 2^63 (checked, see {@link #scaledForFiniteF16})
     * or a product is below 2^-78 (it then rounds to a float subnormal, off by at most 2^-101).
     */
    private static final float F16_X_SCALE = 0x1p64f;
    private static final float F16_SUM_SCALE = 0x1p48f;
    private static final float F16_X_LIMIT = 0x1p63f;

    /**
     * x scaled for {@link #f16FiniteRows}, or null where a finite |x| would overflow when scaled
     * (the caller then takes the exact-decode path).
     */
    static float[] scaledForFiniteF16(float[] x, int n) {
        float[] scaled = new float[n];
        for (int i = 0; i < n; i++) {
            float v = x[i];
            if (Math.abs(v) >= F16_X_LIMIT && Float.isFinite(v)) {
                return null;
            }
            scaled[i] = v * F16_X_SCALE;
        }
        return scaled;
    }

    /**
     * {@code out[r] = row r · x} for an F16 matrix without Inf or NaN ({@link WeightMatrix#f16Finite}),
     * given {@code xScaled} from {@link #scaledForFiniteF16}. The conversion drops the exact
     * path's rebias multiply and Inf/NaN fix-up: a shift and a mask after the widening, one
     * operation more than BF16's.
     */
    static void f16FiniteRows(WeightMatrix w, float[] xScaled, float[] out, int start, int end) {
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        int cols = (int) w.cols();
        for (int r = start; r < end; r++) {
            out[r] = f16Finite(data, r * rowBytes, xScaled, cols) * F16_SUM_SCALE;
        }
    }

    private static float f16Finite(MemorySegment data, long offset, float[] xs, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offset + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats();
            acc0 = w0.fma(FloatVector.fromArray(FLOAT, xs, i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(FLOAT, xs, i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            int bits = (data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i) << 13)
                    & HalfVectors.F16_SIGN_EXPONENT_MANTISSA;
            sum += Float.intBitsToFloat(bits) * xs[i];
        }
        return sum;
    }

    /** BF16 decoded as in {@link HalfVectors#decodeBf16}. */
    private static float bf16(MemorySegment data, long offset, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector w0 = ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ShortVector.fromMemorySegment(HALF, data, offset + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = w0.fma(FloatVector.fromArray(FLOAT, x, i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(FLOAT, x, i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += Half.bf16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i)) * x[i];
        }
        return sum;
    }

    /** Q8_0 loaded as in {@link QuantBlocks#decodeQ8}; blocks are summed unscaled, then scaled once. */
    private static float q8(MemorySegment data, long offset, float[] x, int blocks) {
        FloatVector acc = FloatVector.zero(FLOAT);
        for (int b = 0; b < blocks; b++) {
            long block = offset + 34L * b;
            int xb = QuantBlocks.VALUES * b;
            FloatVector sum = FloatVector.zero(FLOAT);
            for (int first = 0; first < QuantBlocks.VALUES; first += L) {
                ByteVector q = QuantBlocks.MASKED_LOADS
                        ? ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER, QuantBlocks.FIRST_LANES)
                        : ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER);
                sum = ((FloatVector) q.convertShape(VectorOperators.B2F, FLOAT, 0))
                        .fma(FloatVector.fromArray(FLOAT, x, xb + first), sum);
            }
            float d = Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
            acc = sum.fma(FloatVector.broadcast(FLOAT, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Q4_0 loaded as in {@link QuantBlocks#decodeQ4}; each load of packed bytes serves two vectors. */
    private static float q4(MemorySegment data, long offset, float[] x, int blocks) {
        FloatVector acc = FloatVector.zero(FLOAT);
        for (int b = 0; b < blocks; b++) {
            long block = offset + 18L * b;
            int xb = QuantBlocks.VALUES * b;
            FloatVector sum = FloatVector.zero(FLOAT);
            for (int first = 0; first < QuantBlocks.VALUES / 2; first += L) {
                ByteVector q = QuantBlocks.MASKED_LOADS
                        ? ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER, QuantBlocks.FIRST_LANES)
                        : ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER);
                IntVector packed = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, INT, 0);
                sum = packed.and(0x0F).or(QuantBlocks.FLOAT_2_POW_23).reinterpretAsFloats().sub(0x1p23f + 8)
                        .fma(FloatVector.fromArray(FLOAT, x, xb + first), sum);
                sum = packed.lanewise(VectorOperators.LSHR, 4).or(QuantBlocks.FLOAT_2_POW_23).reinterpretAsFloats()
                        .sub(0x1p23f + 8).fma(FloatVector.fromArray(FLOAT, x, xb + QuantBlocks.VALUES / 2 + first), sum);
            }
            float d = Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
            acc = sum.fma(FloatVector.broadcast(FLOAT, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
