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
 *
 * <p>F16 and BF16 rows are read as four streams: a thread's range is cut into four contiguous
 * quarters and one loop takes a row from each at once ({@link #STREAMS}). One row after another
 * kept too few cache misses in flight: one core read about 17 GB/s of weights, and two cores
 * reached about half the copy bandwidth at 8192 columns. On the 2-core Zen 5 VM four far-apart
 * streams ran 1.3 to 1.7 times as fast, two far-apart ones 1.15 to 1.35, while two adjacent
 * rows per loop, column panels, or scalar loads ahead of the stream did not help
 * (docs/benchmarks/matmul-batch1-streams.md). Each row is still summed exactly as a lone row
 * is (same accumulators, same order, lanes summed in lane order), so the results do not depend
 * on how rows are grouped.
 */
final class RowDot {
    private static final int L = FLOAT.length();
    /** Rows read at once by the F16/BF16 loops: one from each quarter of a thread's range. */
    static final int STREAMS = 4;

    private RowDot() {}

    /** {@code out[r] = row r · x[0 .. cols)} for rows r in [start, end) of {@code w}. */
    static void rows(WeightMatrix w, float[] x, float[] out, int start, int end) {
        rows(w, x, out, start, end, STREAMS);
    }

    /**
     * As {@link #rows(WeightMatrix, float[], float[], int, int)}, reading F16/BF16 rows as
     * {@code streams} (1 or {@link #STREAMS}) concurrent streams; other types read one row at a
     * time either way. The results are the same bit for bit.
     */
    static void rows(WeightMatrix w, float[] x, float[] out, int start, int end, int streams) {
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        int cols = (int) w.cols();
        // Rows start + j + k·quarter (k < 4, j < quarter) go four at a time; the last
        // (end − start) mod 4 rows go one by one.
        int quarter = streams == STREAMS ? (end - start) / STREAMS : 0;
        int single = start + STREAMS * quarter;
        long stride = quarter * rowBytes;
        float[] lanes = new float[L];
        switch (w.type()) {
            case F32 -> {
                for (int r = start; r < end; r++) {
                    out[r] = f32(data, r * rowBytes, x, cols);
                }
            }
            case F16 -> {
                for (int r = start; r < start + quarter; r++) {
                    f16Four(data, r * rowBytes, stride, x, cols, out, r, quarter, lanes);
                }
                for (int r = single; r < end; r++) {
                    out[r] = f16(data, r * rowBytes, x, cols, lanes);
                }
            }
            case BF16 -> {
                for (int r = start; r < start + quarter; r++) {
                    bf16Four(data, r * rowBytes, stride, x, cols, out, r, quarter, lanes);
                }
                for (int r = single; r < end; r++) {
                    out[r] = bf16(data, r * rowBytes, x, cols, lanes);
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

    /**
     * The sum of {@code lanes} (a row's accumulators, stored) in lane order. Unlike
     * {@code reduceLanes}, whose order C2 picks, this gives the same bits compiled or not, so a
     * row's result does not depend on which loop summed it or on how warm the JIT is.
     */
    private static float inOrder(float[] lanes) {
        float sum = 0;
        for (float lane : lanes) {
            sum += lane;
        }
        return sum;
    }

    /** F16 decoded as in {@link HalfVectors#decodeF16}. */
    private static float f16(MemorySegment data, long offset, float[] x, int n, float[] lanes) {
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
        acc0.add(acc1).intoArray(lanes, 0);
        return f16Tail(inOrder(lanes), data, offset, x, i, n);
    }

    /** {@code sum} plus the products of columns [from, n) of an F16 row, one at a time. */
    private static float f16Tail(float sum, MemorySegment data, long offset, float[] x, int from, int n) {
        for (int i = from; i < n; i++) {
            sum += Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i)) * x[i];
        }
        return sum;
    }

    /**
     * {@link #f16} of the four rows at byte offsets {@code offset + k·stride} (k < 4), into
     * {@code out[r + k·rowStride]}: one loop over the four streams, each row summed as
     * {@link #f16} sums it.
     */
    private static void f16Four(MemorySegment data, long offset, long stride, float[] x, int n, float[] out,
            int r, int rowStride, float[] lanes) {
        long o0 = offset, o1 = offset + stride, o2 = offset + 2 * stride, o3 = offset + 3 * stride;
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, x, i);
            FloatVector x1 = FloatVector.fromArray(FLOAT, x, i + L);
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o0 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            VectorMask<Integer> infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            a0 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x0, a0);
            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o0 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            a1 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x1, a1);
            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o1 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            b0 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x0, b0);
            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o1 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            b1 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x1, b1);
            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o2 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            c0 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x0, c0);
            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o2 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            c1 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x1, c1);
            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o3 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            d0 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x0, d0);
            bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, o3 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            infOrNan = bits.and(HalfVectors.F16_EXPONENT).compare(VectorOperators.EQ, HalfVectors.F16_EXPONENT);
            d1 = bits.lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(HalfVectors.F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, HalfVectors.F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().fma(x1, d1);
        }
        a0.add(a1).intoArray(lanes, 0);
        out[r] = f16Tail(inOrder(lanes), data, o0, x, i, n);
        b0.add(b1).intoArray(lanes, 0);
        out[r + rowStride] = f16Tail(inOrder(lanes), data, o1, x, i, n);
        c0.add(c1).intoArray(lanes, 0);
        out[r + 2 * rowStride] = f16Tail(inOrder(lanes), data, o2, x, i, n);
        d0.add(d1).intoArray(lanes, 0);
        out[r + 3 * rowStride] = f16Tail(inOrder(lanes), data, o3, x, i, n);
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
        f16FiniteRows(w, xScaled, out, start, end, STREAMS);
    }

    /** As {@link #f16FiniteRows(WeightMatrix, float[], float[], int, int)} in {@code streams} (1 or 4) streams. */
    static void f16FiniteRows(WeightMatrix w, float[] xScaled, float[] out, int start, int end, int streams) {
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        int cols = (int) w.cols();
        int quarter = streams == STREAMS ? (end - start) / STREAMS : 0;
        long stride = quarter * rowBytes;
        float[] lanes = new float[L];
        for (int r = start; r < start + quarter; r++) {
            f16FiniteFour(data, r * rowBytes, stride, xScaled, cols, out, r, quarter, lanes);
        }
        for (int r = start + STREAMS * quarter; r < end; r++) {
            out[r] = f16Finite(data, r * rowBytes, xScaled, cols, lanes) * F16_SUM_SCALE;
        }
    }

    /** {@link #f16Finite} of four rows in one loop, as {@link #f16Four}; sums scaled as {@link #f16FiniteRows} does. */
    private static void f16FiniteFour(MemorySegment data, long offset, long stride, float[] xs, int n, float[] out,
            int r, int rowStride, float[] lanes) {
        long o0 = offset, o1 = offset + stride, o2 = offset + 2 * stride, o3 = offset + 3 * stride;
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, xs, i);
            FloatVector x1 = FloatVector.fromArray(FLOAT, xs, i + L);
            a0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o0 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x0, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o0 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x1, a1);
            b0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o1 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x0, b0);
            b1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o1 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x1, b1);
            c0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o2 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x0, c0);
            c1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o2 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x1, c1);
            d0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o3 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x0, d0);
            d1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, o3 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(HalfVectors.F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().fma(x1, d1);
        }
        a0.add(a1).intoArray(lanes, 0);
        out[r] = f16FiniteTail(inOrder(lanes), data, o0, xs, i, n) * F16_SUM_SCALE;
        b0.add(b1).intoArray(lanes, 0);
        out[r + rowStride] = f16FiniteTail(inOrder(lanes), data, o1, xs, i, n)
                * F16_SUM_SCALE;
        c0.add(c1).intoArray(lanes, 0);
        out[r + 2 * rowStride] = f16FiniteTail(inOrder(lanes), data, o2, xs, i, n)
                * F16_SUM_SCALE;
        d0.add(d1).intoArray(lanes, 0);
        out[r + 3 * rowStride] = f16FiniteTail(inOrder(lanes), data, o3, xs, i, n)
                * F16_SUM_SCALE;
    }

    private static float f16Finite(MemorySegment data, long offset, float[] xs, int n, float[] lanes) {
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
        acc0.add(acc1).intoArray(lanes, 0);
        return f16FiniteTail(inOrder(lanes), data, offset, xs, i, n);
    }

    private static float f16FiniteTail(float sum, MemorySegment data, long offset, float[] xs, int from, int n) {
        for (int i = from; i < n; i++) {
            int bits = (data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i) << 13)
                    & HalfVectors.F16_SIGN_EXPONENT_MANTISSA;
            sum += Float.intBitsToFloat(bits) * xs[i];
        }
        return sum;
    }

    /** BF16 decoded as in {@link HalfVectors#decodeBf16}. */
    private static float bf16(MemorySegment data, long offset, float[] x, int n, float[] lanes) {
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
        acc0.add(acc1).intoArray(lanes, 0);
        return bf16Tail(inOrder(lanes), data, offset, x, i, n);
    }

    private static float bf16Tail(float sum, MemorySegment data, long offset, float[] x, int from, int n) {
        for (int i = from; i < n; i++) {
            sum += Half.bf16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i)) * x[i];
        }
        return sum;
    }

    /** {@link #bf16} of four rows in one loop, as {@link #f16Four}. */
    private static void bf16Four(MemorySegment data, long offset, long stride, float[] x, int n, float[] out,
            int r, int rowStride, float[] lanes) {
        long o0 = offset, o1 = offset + stride, o2 = offset + 2 * stride, o3 = offset + 3 * stride;
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, x, i);
            FloatVector x1 = FloatVector.fromArray(FLOAT, x, i + L);
            a0 = ShortVector.fromMemorySegment(HALF, data, o0 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0);
            a1 = ShortVector.fromMemorySegment(HALF, data, o0 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, a1);
            b0 = ShortVector.fromMemorySegment(HALF, data, o1 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, b0);
            b1 = ShortVector.fromMemorySegment(HALF, data, o1 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, b1);
            c0 = ShortVector.fromMemorySegment(HALF, data, o2 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, c0);
            c1 = ShortVector.fromMemorySegment(HALF, data, o2 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, c1);
            d0 = ShortVector.fromMemorySegment(HALF, data, o3 + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, d0);
            d1 = ShortVector.fromMemorySegment(HALF, data, o3 + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, d1);
        }
        a0.add(a1).intoArray(lanes, 0);
        out[r] = bf16Tail(inOrder(lanes), data, o0, x, i, n);
        b0.add(b1).intoArray(lanes, 0);
        out[r + rowStride] = bf16Tail(inOrder(lanes), data, o1, x, i, n);
        c0.add(c1).intoArray(lanes, 0);
        out[r + 2 * rowStride] = bf16Tail(inOrder(lanes), data, o2, x, i, n);
        d0.add(d1).intoArray(lanes, 0);
        out[r + 3 * rowStride] = bf16Tail(inOrder(lanes), data, o3, x, i, n);
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
