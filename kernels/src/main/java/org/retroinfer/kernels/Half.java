package org.retroinfer.kernels;

/** Scalar conversions between float and the 16-bit float formats, rounding to nearest even. */
public final class Half {
    private Half() {}

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds to the nearest bfloat16, ties to even; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /** Decodes one 16-bit value of the given type. */
    public static float toFloat(DType type, short bits) {
        return switch (type) {
            case F16 -> Float.float16ToFloat(bits);
            case BF16 -> bf16ToFloat(bits);
            default -> throw new IllegalArgumentException(type + " is not a 16-bit float type");
        };
    }

    /** {@code value} rounded to the given 16-bit type (nearest even) and back: the float that type stores for it. */
    public static float round(DType type, float value) {
        return toFloat(type, fromFloat(type, value));
    }

    /** Encodes one value as the given 16-bit type. */
    public static short fromFloat(DType type, float value) {
        return switch (type) {
            case F16 -> Float.floatToFloat16(value);
            case BF16 -> floatToBf16(value);
            default -> throw new IllegalArgumentException(type + " is not a 16-bit float type");
        };
    }
}
