package org.retroinfer.accel.compiler.ptx;

import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.Instr;

/**
 * PTX for Java's conversions. Float-to-integer uses {@code cvt.rzi}, which truncates, saturates at the
 * integer range and turns NaN into 0: exactly Java's f2i/f2l/d2i/d2l. Narrowing to byte and short
 * sign-extends back, char zero-extends, as the JVM does. Half floats travel in 16-bit registers.
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
            case F2L -> e.line("cvt.rzi.s64.f32 \t" + d + ", " + a);
            case F2D -> e.line("cvt.f64.f32 \t" + d + ", " + a);
            case D2I -> e.line("cvt.rzi.s32.f64 \t" + d + ", " + a);
            case D2L -> e.line("cvt.rzi.s64.f64 \t" + d + ", " + a);
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
}
