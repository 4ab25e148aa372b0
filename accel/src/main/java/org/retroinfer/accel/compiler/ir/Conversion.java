package org.retroinfer.accel.compiler.ir;

/** The conversions of {@link Op#CONVERT}, with Java's rounding and saturation rules. */
public enum Conversion {
    I2L, L2I, I2F, I2D, L2F, L2D, F2I, F2L, F2D, D2I, D2L, D2F,
    /** Narrowing int to byte, short or char (sign- or zero-extended back to int). */
    I2B, I2S, I2C,
    /** Raw bit moves: floatToRawIntBits, intBitsToFloat, doubleToRawLongBits, longBitsToDouble. */
    F_BITS, BITS_F, D_BITS, BITS_D,
    /** IEEE half (low 16 bits of an int) to float, and float to half (sign-extended short in an int). */
    F16_TO_F32, F32_TO_F16,
    /** Float to bfloat16 rounding to nearest even (sign-extended short in an int). */
    F32_TO_BF16
}
