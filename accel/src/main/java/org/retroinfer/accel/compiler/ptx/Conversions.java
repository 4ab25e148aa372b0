package org.retroinfer.accel.compiler.ptx;

import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.Instr;

/**
 * PTX for Java's conversions. Float-to-integer uses {@code cvt.rzi}, which truncates and saturates at the
 * integer range as Java does. Its NaN result depends on the types (PTX ISA, cvt, "Integer Notes"): 0 only
 * from {@code .f32} to a 32-bit integer; from a {@code .f64} source or to a 64-bit integer it is MININT,
 * where Java wants 0. So f2l, d2i and d2l select 0 for NaN explicitly; f2i needs nothing. Integer to float
 * rounds to nearest even ({@code .rn}), as Java does. Narrowing to byte and short sign-extends back, char
 * zero-extends, as the JVM does. Half floats travel in 16-bit registers.
 */
final class Conversions {
    private Conversions() {}

    static void print(PtxEmitter e, Instr i, String d, String a) {
        Conversion c = i.attribute(Conversion.class);
        switch (c) {
            case I2L -> e.line("cvt.s64.s32 \t" + d + ", " + a);
            case L2I -> e.line("cvt.u32.u64 \t" + d + ", " + a);
            case I2F -> e.line("cvt.rn.f32.s32 \t" + d + ", " + a);
            case I2D -> e.line("cvt.rn.f64.s32 \t" + d + ", " + a);
            case L2F -> e.line("cvt.rn.f32.s64 \t" + d + ", " + a);
            case L2D -> e.line("cvt.rn.f64.s64 \t" + d + ", " + a);
            case F2I -> e.line("cvt.rzi.s32.f32 \t" + d + ", " + a);
            case F2L -> truncateNaNToZero(e, "s64", "f32", d, a);
            case F2D -> e.line("cvt.f64.f32 \t" + d + ", " + a);
            case D2I -> truncateNaNToZero(e, "s32", "f64", d, a);
            case D2L -> truncateNaNToZero(e, "s64", "f64", d, a);
            case D2F -> e.line("cvt.rn.f32.f64 \t" + d + ", " + a);
            case I2B -> e.line("cvt.s32.s8 \t" + d + ", " + a);
            case I2S -> e.line("cvt.s32.s16 \t" + d + ", " + a);
            case I2C -> e.line("and.b32 \t" + d + ", " + a + ", 65535");
            case F_BITS, BITS_F -> e.line("mov.b32 \t" + d + ", " + a);
            case D_BITS, BITS_D -> e.line("mov.b64 \t" + d + ", " + a);
            case F16_TO_F32 -> {
                String h = e.temp(Registers.RegClass.B16);
                e.line("cvt.u16.u32 \t" + h + ", " + a);
                e.line("cvt.f32.f16 \t" + d + ", " + h);
            }
            case F32_TO_F16 -> {
                String h = e.temp(Registers.RegClass.B16);
                e.line("cvt.rn.f16.f32 \t" + h + ", " + a);
                e.line("cvt.s32.s16 \t" + d + ", " + h);
            }
            case F32_TO_BF16 -> {
                String h = e.temp(Registers.RegClass.B16);
                e.line("cvt.rn.bf16.f32 \t" + h + ", " + a);
                e.line("cvt.s32.s16 \t" + d + ", " + h);
            }
        }
    }

    /** {@code cvt.rzi}, then 0 where the source is NaN (where PTX gives MININT). */
    private static void truncateNaNToZero(PtxEmitter e, String to, String from, String d, String a) {
        boolean wide = to.equals("s64");
        String t = e.temp(wide ? Registers.RegClass.B64 : Registers.RegClass.B32);
        String nan = e.temp(Registers.RegClass.PRED);
        e.line("cvt.rzi." + to + "." + from + " \t" + t + ", " + a);
        e.line("setp.nan." + from + " \t" + nan + ", " + a + ", " + a);
        e.line("selp.b" + (wide ? "64" : "32") + " \t" + d + ", 0, " + t + ", " + nan);
    }
}
