package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.HALF;
import static org.retroinfer.kernels.VectorSupport.INT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Runs of F16 and BF16 values converted to and from floats, a {@link VectorSupport#FLOAT} vector
 * at a time: one {@link VectorSupport#HALF} load widens to one float vector.
 *
 * <p>JDK 25's Vector API has no half-precision conversion, so F16 is converted with integer bit
 * arithmetic in the lanes. Measured in cache on Zen 5 (AVX-512), a dot product with this
 * conversion runs about twice as fast as one over a scratch array filled by a
 * {@code Float.float16ToFloat} loop (which C2 does vectorise to {@code vcvtph2ps}, but which costs
 * a store and a reload); the same loop reading the segment directly is not vectorised at all.
 *
 * <p>Vector values never cross a method boundary of ours: a helper returning a vector is
 * inlined only while C2's parse-time budget lasts, and where a large caller had used it up the
 * helper was called instead and every vector boxed (over 100 MB allocated per matmul, an order
 * of magnitude slower). Methods here take and fill arrays and segments; {@link RowDot} repeats
 * the two decode formulas in its streaming loops for the same reason.
 */
final class HalfVectors {
    /** 2^112 = 2^(127 − 15): moves an F16 exponent field, shifted into float position, to float bias. */
    static final float F16_TO_F32_SCALE = 0x1p112f;
    /** Bit 31 and bits 27..13: an F16's sign, exponent and mantissa after a shift left by 13. */
    static final int F16_SIGN_EXPONENT_MANTISSA = 0x8FFF_E000;
    static final int F16_EXPONENT = 0x7C00;
    static final int F32_EXPONENT = 0x7F80_0000;
    private static final int F32_SIGN = 0x8000_0000;
    private static final int L = FLOAT.length();
    /** Full-width short lanes, for scans that convert nothing. */
    private static final VectorSpecies<Short> SHORT = FLOAT.withLanes(short.class);
    /** Values per parallel chunk of {@link #f16AllFinite}: 2 MiB. */
    private static final long SCAN_CHUNK = 1L << 20;

    private HalfVectors() {}

    /**
     * F16 → float for {@code count} values at byte {@code offset}, exact for every input
     * (subnormals and −0.0 included; NaN stays NaN). Shifted left by 13, the sign-extended F16
     * bits hold its exponent and mantissa in float position (the mask keeps the sign at bit 31
     * and clears the sign copies above the exponent), but with F16's exponent bias; multiplying
     * by 2^112 rebiases normals and normalises subnormals exactly. Exponent 31 (Inf, NaN) gets
     * the float exponent 255 instead.
     */
    static void decodeF16(MemorySegment data, long offset, int count, float[] out, int outOffset) {
        int i = 0;
        for (; i <= count - L; i += L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0);
            VectorMask<Integer> infOrNan = bits.and(F16_EXPONENT).compare(VectorOperators.EQ, F16_EXPONENT);
            bits.lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA)
                    .reinterpretAsFloats().mul(F16_TO_F32_SCALE)
                    .reinterpretAsInts().lanewise(VectorOperators.OR, F32_EXPONENT, infOrNan)
                    .reinterpretAsFloats().intoArray(out, outOffset + i);
        }
        for (; i < count; i++) {
            out[outOffset + i] = Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i));
        }
    }

    /**
     * Whether no value of the F16 array {@code data} is Inf or NaN (exponent field 31). Scans in
     * parallel chunks with vectors as wide as {@link VectorSupport#FLOAT}.
     */
    static boolean f16AllFinite(MemorySegment data) {
        long values = data.byteSize() / 2;
        int chunks = Math.toIntExact((values + SCAN_CHUNK - 1) / SCAN_CHUNK);
        AtomicBoolean finite = new AtomicBoolean(true);
        ComputePool.forRange(chunks, (first, end) -> {
            for (int c = first; c < end && finite.get(); c++) {
                long from = (long) c * SCAN_CHUNK;
                if (!f16Finite(data, from, Math.min(values, from + SCAN_CHUNK))) {
                    finite.set(false);
                }
            }
        });
        return finite.get();
    }

    private static boolean f16Finite(MemorySegment data, long from, long to) {
        int lanes = SHORT.length();
        long i = from;
        ShortVector exponents = ShortVector.zero(SHORT);
        for (; i <= to - lanes; i += lanes) {
            // Max over (bits & 0x7C00) as unsigned ints is 0x7C00 exactly where some value is Inf/NaN;
            // the field is below the sign bit, so a signed max works too.
            exponents = exponents.max(ShortVector.fromMemorySegment(SHORT, data, 2 * i, ORDER).and((short) F16_EXPONENT));
        }
        boolean finite = exponents.reduceLanes(VectorOperators.MAX) != F16_EXPONENT;
        for (; i < to; i++) {
            finite &= (data.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i) & F16_EXPONENT) != F16_EXPONENT;
        }
        return finite;
    }

    /** BF16 → float for {@code count} values at byte {@code offset}: BF16 is a float's high half. */
    static void decodeBf16(MemorySegment data, long offset, int count, float[] out, int outOffset) {
        int i = 0;
        for (; i <= count - L; i += L) {
            ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOffset + i);
        }
        for (; i < count; i++) {
            out[outOffset + i] = Half.bf16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i));
        }
    }

    /**
     * Float → F16 for {@code src[srcOff .. srcOff + n)}, rounding to nearest even like
     * {@link Float#floatToFloat16} (after F. Giesen's float_to_half_fast3_rtne). Three cases,
     * computed in every lane and blended: magnitudes of 65520 and above overflow to Inf (NaN to
     * a quiet NaN); magnitudes below 2^-14 become subnormals by adding 0.5f, which makes the FPU
     * round the mantissa at F16's subnormal precision; normals are rebiased and rounded with
     * integer adds.
     */
    static void encodeF16(float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        int i = 0;
        for (; i <= n - L; i += L) {
            IntVector bits = FloatVector.fromArray(FLOAT, src, srcOff + i).reinterpretAsInts();
            IntVector sign = bits.and(F32_SIGN).lanewise(VectorOperators.LSHR, 16);
            IntVector abs = bits.and(~F32_SIGN);
            IntVector subnormal = abs.reinterpretAsFloats().add(0.5f).reinterpretAsInts().sub(0x3F00_0000);
            IntVector mantissaOdd = abs.lanewise(VectorOperators.LSHR, 13).and(1);
            IntVector normal = abs.add(((15 - 127) << 23) + 0xFFF).add(mantissaOdd).lanewise(VectorOperators.LSHR, 13);
            IntVector overflow = abs.broadcast(0x7C00)
                    .blend(abs.broadcast(0x7E00), abs.compare(VectorOperators.GT, F32_EXPONENT));
            normal.blend(subnormal, abs.compare(VectorOperators.LT, 113 << 23))
                    .blend(overflow, abs.compare(VectorOperators.GE, (127 + 16) << 23))
                    .or(sign)
                    .convertShape(VectorOperators.I2S, HALF, 0).reinterpretAsShorts()
                    .intoMemorySegment(dst, dstOff + 2L * i, ORDER);
        }
        for (; i < n; i++) {
            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, dstOff + 2L * i, Float.floatToFloat16(src[srcOff + i]));
        }
    }

    /**
     * Float → BF16 for {@code src[srcOff .. srcOff + n)}, as {@link Half#floatToBf16}: add half an
     * ulp (less one where the kept lowest bit is even), truncate; NaN becomes a quiet NaN.
     */
    static void encodeBf16(float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(FLOAT, src, srcOff + i);
            IntVector bits = v.reinterpretAsInts();
            IntVector high = bits.lanewise(VectorOperators.LSHR, 16);
            bits.add(high.and(1).add(0x7FFF)).lanewise(VectorOperators.LSHR, 16)
                    .blend(high.or(0x0040), v.test(VectorOperators.IS_NAN).cast(INT))
                    .convertShape(VectorOperators.I2S, HALF, 0).reinterpretAsShorts()
                    .intoMemorySegment(dst, dstOff + 2L * i, ORDER);
        }
        for (; i < n; i++) {
            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, dstOff + 2L * i, Half.floatToBf16(src[srcOff + i]));
        }
    }
}
