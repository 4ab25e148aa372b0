package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.HALF;
import static org.retroinfer.kernels.VectorSupport.INT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * F16 and BF16 values converted to and from float vector lanes, read from and written to memory
 * segments: one {@link VectorSupport#HALF} load widens to one {@link VectorSupport#FLOAT} vector.
 *
 * <p>JDK 25's Vector API has no half-precision conversion, so F16 is converted with integer bit
 * arithmetic in the lanes. Measured in cache on Zen 5 (AVX-512), a dot product with this
 * conversion runs about twice as fast as one over a scratch array filled by a
 * {@code Float.float16ToFloat} loop (which C2 does vectorise to {@code vcvtph2ps}, but which costs
 * a store and a reload); the same loop reading the segment directly is not vectorised at all.
 * The bodies are short on purpose: callers inline them into their loops, and a loop that outgrows
 * C2's parse-time node budget stops inlining, boxes its vectors and runs many times slower.
 */
final class HalfVectors {
    /** 2^112 = 2^(127 − 15): moves an F16 exponent field, shifted into float position, to float bias. */
    private static final float F16_TO_F32_SCALE = 0x1p112f;
    /** Bit 31 and bits 27..13: an F16's sign, exponent and mantissa after a shift left by 13. */
    private static final int F16_SIGN_EXPONENT_MANTISSA = 0x8FFF_E000;
    private static final int F16_EXPONENT = 0x7C00;
    private static final int F32_EXPONENT = 0x7F80_0000;
    private static final int F32_SIGN = 0x8000_0000;

    private HalfVectors() {}

    /** {@link VectorSupport#FLOAT}'s length of F16 or BF16 values at byte {@code offset}. */
    static FloatVector load(DType type, MemorySegment data, long offset) {
        return type == DType.F16 ? loadF16(data, offset) : loadBf16(data, offset);
    }

    /** BF16 is the high half of a float: widen, shift into place. */
    static FloatVector loadBf16(MemorySegment data, long offset) {
        return widen(data, offset).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * F16 → float, exact for every input (subnormals and −0.0 included; NaN stays NaN). Shifted
     * left by 13, the sign-extended F16 bits hold its exponent and mantissa in float position
     * (the mask keeps the sign at bit 31 and clears the sign copies above the exponent), but with
     * F16's exponent bias; multiplying by 2^112 rebiases normals and normalises subnormals
     * exactly. Exponent 31 (Inf, NaN) gets the float exponent 255 instead.
     */
    static FloatVector loadF16(MemorySegment data, long offset) {
        IntVector bits = widen(data, offset);
        FloatVector value = bits.lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA)
                .reinterpretAsFloats().mul(F16_TO_F32_SCALE);
        VectorMask<Integer> infOrNan = bits.and(F16_EXPONENT).compare(VectorOperators.EQ, F16_EXPONENT);
        return value.reinterpretAsInts().lanewise(VectorOperators.OR, F32_EXPONENT, infOrNan).reinterpretAsFloats();
    }

    private static IntVector widen(MemorySegment data, long offset) {
        return (IntVector) ShortVector.fromMemorySegment(HALF, data, offset, ORDER)
                .convertShape(VectorOperators.S2I, INT, 0);
    }

    /** Stores the lanes of {@code v} as F16 or BF16 at byte {@code offset}, rounding to nearest even. */
    static void store(DType type, FloatVector v, MemorySegment data, long offset) {
        IntVector bits = type == DType.F16 ? toF16Bits(v) : toBf16Bits(v);
        bits.convertShape(VectorOperators.I2S, HALF, 0).reinterpretAsShorts().intoMemorySegment(data, offset, ORDER);
    }

    /** As {@link Half#floatToBf16}: add half an ulp (minus one where the kept lsb is even), truncate. */
    private static IntVector toBf16Bits(FloatVector v) {
        IntVector bits = v.reinterpretAsInts();
        IntVector high = bits.lanewise(VectorOperators.LSHR, 16);
        IntVector rounded = bits.add(high.and(1).add(0x7FFF)).lanewise(VectorOperators.LSHR, 16);
        return rounded.blend(high.or(0x0040), v.test(VectorOperators.IS_NAN).cast(INT));
    }

    /**
     * Float → F16 bits, rounding to nearest even like {@link Float#floatToFloat16} (after
     * F. Giesen's float_to_half_fast3_rtne). Three cases, computed in every lane and blended:
     * magnitudes of 65520 and above overflow to Inf (NaN to a quiet NaN); magnitudes below 2^-14
     * become subnormals by adding 0.5f, which makes the FPU round the mantissa at F16's subnormal
     * precision; normals are rebiased and rounded with integer adds.
     */
    private static IntVector toF16Bits(FloatVector v) {
        IntVector bits = v.reinterpretAsInts();
        IntVector sign = bits.and(F32_SIGN).lanewise(VectorOperators.LSHR, 16);
        IntVector abs = bits.and(~F32_SIGN);
        FloatVector absFloat = abs.reinterpretAsFloats();

        IntVector subnormal = absFloat.add(0.5f).reinterpretAsInts().sub(0x3F00_0000);
        IntVector mantissaOdd = abs.lanewise(VectorOperators.LSHR, 13).and(1);
        IntVector normal = abs.add(((15 - 127) << 23) + 0xFFF).add(mantissaOdd).lanewise(VectorOperators.LSHR, 13);
        IntVector overflow = abs.broadcast(0x7C00)
                .blend(abs.broadcast(0x7E00), abs.compare(VectorOperators.GT, F32_EXPONENT));

        IntVector result = normal
                .blend(subnormal, abs.compare(VectorOperators.LT, 113 << 23))
                .blend(overflow, abs.compare(VectorOperators.GE, (127 + 16) << 23));
        return result.or(sign);
    }
}
