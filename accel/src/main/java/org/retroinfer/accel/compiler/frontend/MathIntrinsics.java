package org.retroinfer.accel.compiler.frontend;

import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * Static calls that become GPU instructions: {@code KMath}, the supported parts of {@code Math}, and the
 * bit and half-float conversions of {@code Float}, {@code Double}, {@code Integer} and {@code Long}.
 */
final class MathIntrinsics {
    private static final String KMATH = "org/retroinfer/accel/kernel/KMath";

    private MathIntrinsics() {}

    /** Translates the static call if it is an intrinsic; false otherwise (arguments stay on the stack). */
    static boolean apply(MethodTranslator t, String owner, String name, String descriptor) {
        String key = name + descriptor;
        return switch (owner) {
            case KMATH -> kmath(t, key);
            case "java/lang/Math", "java/lang/StrictMath" -> math(t, key, name);
            case "java/lang/Float" -> floats(t, key);
            case "java/lang/Double" -> doubles(t, key);
            case "java/lang/Integer" -> integers(t, key);
            case "java/lang/Long" -> longs(t, key);
            default -> false;
        };
    }

    private static boolean kmath(MethodTranslator t, String key) {
        switch (key) {
            case "exp(F)F" -> unary(t, Op.EXP, Type.F32);
            case "log(F)F" -> unary(t, Op.LOG, Type.F32);
            case "sqrt(F)F" -> unary(t, Op.SQRT, Type.F32);
            case "rsqrt(F)F" -> unary(t, Op.RSQRT, Type.F32);
            case "abs(F)F" -> unary(t, Op.ABS, Type.F32);
            case "fma(FFF)F" -> fma(t, Type.F32);
            case "max(FF)F" -> binary(t, Op.MAX, Type.F32);
            case "min(FF)F" -> binary(t, Op.MIN, Type.F32);
            case "f16ToFloat(S)F" -> convert(t, Conversion.F16_TO_F32, Type.F32);
            case "floatToF16(F)S" -> convert(t, Conversion.F32_TO_F16, Type.I32);
            case "bf16ToFloat(S)F" -> t.push(bf16ToFloat(t, t.popValue()));
            case "floatToBf16(F)S" -> convert(t, Conversion.F32_TO_BF16, Type.I32);
            case "packBf16x2(FF)I" -> binary(t, Op.PACK_BF16X2, Type.I32);
            case "dp4a(III)I" -> ternary(t, Op.DP4A, Type.I32);
            case "noUnroll()V" -> t.noUnrollNextLoop();
            default -> {
                return false;
            }
        }
        return true;
    }

    /** bfloat16 bits to float: the bits are the top half of the float's (exact). */
    static Value bf16ToFloat(MethodTranslator t, Value bits) {
        Value shifted = t.emit(Op.SHL, Type.I32, null, bits, Const.i32(16));
        return t.emit(Op.CONVERT, Type.F32, Conversion.BITS_F, shifted);
    }

    private static boolean math(MethodTranslator t, String key, String name) {
        switch (key) {
            case "fma(FFF)F" -> fma(t, Type.F32);
            case "fma(DDD)D" -> fma(t, Type.F64);
            case "max(II)I" -> binary(t, Op.MAX, Type.I32);
            case "max(JJ)J" -> binary(t, Op.MAX, Type.I64);
            case "max(FF)F" -> binary(t, Op.MAX, Type.F32);
            case "max(DD)D" -> binary(t, Op.MAX, Type.F64);
            case "min(II)I" -> binary(t, Op.MIN, Type.I32);
            case "min(JJ)J" -> binary(t, Op.MIN, Type.I64);
            case "min(FF)F" -> binary(t, Op.MIN, Type.F32);
            case "min(DD)D" -> binary(t, Op.MIN, Type.F64);
            case "abs(I)I" -> unary(t, Op.ABS, Type.I32);
            case "abs(J)J" -> unary(t, Op.ABS, Type.I64);
            case "abs(F)F" -> unary(t, Op.ABS, Type.F32);
            case "abs(D)D" -> unary(t, Op.ABS, Type.F64);
            case "sqrt(D)D" -> {
                // The root stays a double, so 1.0 / Math.sqrt(f) divides by the exact root as Java does; where
                // it is only rounded to float, the float root replaces it (sqrt.rn.f32 equals the double root
                // rounded to float, as a double carries more than 2·24 + 2 bits) and dead code drops the f64.
                Value x = t.popValue();
                Value root = t.emit(Op.SQRT, Type.F64, null, x);
                Value f = t.builder().widenedFrom(x);
                if (f != null) {
                    t.builder().recordRounding(root, t.emit(Op.SQRT, Type.F32, null, f));
                }
                t.push(root);
            }
            case "exp(D)D" -> floatOnly(t, Op.EXP, "exp");
            case "log(D)D" -> floatOnly(t, Op.LOG, "log");
            default -> throw t.error("Math." + name + " is not available on the GPU",
                    "the supported functions are Math.fma, min, max, abs, sqrt and (float) Math.exp/log of a float,"
                            + " plus KMath");
        }
        return true;
    }

    /** {@code (float) Math.exp((double) f)}: computed in float; a genuine double has no GPU routine. */
    private static void floatOnly(MethodTranslator t, Op op, String name) {
        Value x = t.popValue();
        Value f = t.builder().widenedFrom(x);
        if (f == null) {
            throw t.error("Math." + name + " of a double: there is no double-precision " + name + " on the GPU",
                    "use KMath." + name + "(float), or (float) Math." + name + "(floatValue)");
        }
        t.push(widen(t, t.emit(op, Type.F32, null, f)));
    }

    private static Value widen(MethodTranslator t, Value f) {
        Value d = t.emit(Op.CONVERT, Type.F64, Conversion.F2D, f);
        t.builder().recordWidening(d, f);
        return d;
    }

    private static boolean floats(MethodTranslator t, String key) {
        switch (key) {
            case "float16ToFloat(S)F" -> convert(t, Conversion.F16_TO_F32, Type.F32);
            case "floatToFloat16(F)S" -> convert(t, Conversion.F32_TO_F16, Type.I32);
            case "floatToRawIntBits(F)I" -> convert(t, Conversion.F_BITS, Type.I32);
            case "intBitsToFloat(I)F" -> convert(t, Conversion.BITS_F, Type.F32);
            case "floatToIntBits(F)I" -> {
                Value x = t.popValue();
                Value nan = t.emit(Op.IS_NAN, Type.PRED, null, x, x);
                Value bits = t.emit(Op.CONVERT, Type.I32, Conversion.F_BITS, x);
                t.push(t.emit(Op.SELECT, Type.I32, null, nan, Const.i32(0x7fc00000), bits));
            }
            case "isNaN(F)Z" -> isNaN(t);
            case "min(FF)F" -> binary(t, Op.MIN, Type.F32);
            case "max(FF)F" -> binary(t, Op.MAX, Type.F32);
            default -> {
                return false;
            }
        }
        return true;
    }

    private static boolean doubles(MethodTranslator t, String key) {
        switch (key) {
            case "doubleToRawLongBits(D)J" -> convert(t, Conversion.D_BITS, Type.I64);
            case "longBitsToDouble(J)D" -> convert(t, Conversion.BITS_D, Type.F64);
            case "isNaN(D)Z" -> isNaN(t);
            default -> {
                return false;
            }
        }
        return true;
    }

    private static boolean integers(MethodTranslator t, String key) {
        switch (key) {
            case "bitCount(I)I" -> unary(t, Op.POPC, Type.I32);
            case "numberOfLeadingZeros(I)I" -> unary(t, Op.CLZ, Type.I32);
            case "min(II)I" -> binary(t, Op.MIN, Type.I32);
            case "max(II)I" -> binary(t, Op.MAX, Type.I32);
            default -> {
                return false;
            }
        }
        return true;
    }

    private static boolean longs(MethodTranslator t, String key) {
        switch (key) {
            case "bitCount(J)I" -> unary(t, Op.POPC, Type.I32);
            case "numberOfLeadingZeros(J)I" -> unary(t, Op.CLZ, Type.I32);
            case "min(JJ)J" -> binary(t, Op.MIN, Type.I64);
            case "max(JJ)J" -> binary(t, Op.MAX, Type.I64);
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void isNaN(MethodTranslator t) {
        Value x = t.popValue();
        Value nan = t.emit(Op.IS_NAN, Type.PRED, null, x, x);
        t.push(t.emit(Op.SELECT, Type.I32, null, nan, Const.i32(1), Const.i32(0)));
    }

    private static void unary(MethodTranslator t, Op op, Type type) {
        t.push(t.emit(op, type, null, t.popValue()));
    }

    private static void binary(MethodTranslator t, Op op, Type type) {
        Value b = t.popValue();
        Value a = t.popValue();
        t.push(t.emit(op, type, null, a, b));
    }

    private static void fma(MethodTranslator t, Type type) {
        ternary(t, Op.FMA, type);
    }

    private static void ternary(MethodTranslator t, Op op, Type type) {
        Value c = t.popValue();
        Value b = t.popValue();
        Value a = t.popValue();
        t.push(t.emit(op, type, null, a, b, c));
    }

    private static void convert(MethodTranslator t, Conversion c, Type result) {
        t.push(t.emit(Op.CONVERT, result, c, t.popValue()));
    }
}
