package org.retroinfer.accel.compiler.ptx;

/**
 * Float exp and log as PTX sequences. {@code ex2}/{@code lg2} are the hardware's base-2 approximations
 * (about 2<sup>-22</sup> relative error); the conversion to base e is where accuracy is won or lost.
 */
final class PtxMath {
    /** log2(e) rounded to float, and the remainder log2(e) - that float. */
    private static final String LOG2E = literal(1.4426950408889634f);
    private static final String LOG2E_LO = literal(1.92596299e-8f);
    private static final String LN2 = literal(0.6931471805599453f);

    private PtxMath() {}

    static String literal(float f) {
        return String.format("0f%08X", Float.floatToRawIntBits(f));
    }

    /**
     * e^x. Strict: x is clamped to [-105, 90] (beyond that the result is 0 or infinity anyway, and the clamp
     * keeps the error term finite), x·log2(e) is split into hi + lo with an fma so that its rounding error
     * is not magnified by ex2, and 2^lo is applied as 1 + lo·ln2: within about 2 ulp over the whole range.
     * Fast: one rounded product and {@code ex2.approx.ftz}, whose error grows with |x|.
     */
    static void exp(PtxEmitter e, String d, String x, boolean fast) {
        if (fast) {
            String t = e.temp(Registers.RegClass.F32);
            e.line("mul.ftz.f32 \t" + t + ", " + x + ", " + LOG2E);
            e.line("ex2.approx.ftz.f32 \t" + d + ", " + t);
            return;
        }
        String xc = e.temp(Registers.RegClass.F32);
        String hi = e.temp(Registers.RegClass.F32);
        String nhi = e.temp(Registers.RegClass.F32);
        String lo = e.temp(Registers.RegClass.F32);
        String lo2 = e.temp(Registers.RegClass.F32);
        String p = e.temp(Registers.RegClass.F32);
        String c = e.temp(Registers.RegClass.F32);
        e.line("max.NaN.f32 \t" + xc + ", " + x + ", " + literal(-105f));
        e.line("min.NaN.f32 \t" + xc + ", " + xc + ", " + literal(90f));
        e.line("mul.rn.f32 \t" + hi + ", " + xc + ", " + LOG2E);
        e.line("neg.f32 \t" + nhi + ", " + hi);
        e.line("fma.rn.f32 \t" + lo + ", " + xc + ", " + LOG2E + ", " + nhi);
        e.line("fma.rn.f32 \t" + lo2 + ", " + xc + ", " + LOG2E_LO + ", " + lo);
        e.line("ex2.approx.f32 \t" + p + ", " + hi);
        e.line("fma.rn.f32 \t" + c + ", " + lo2 + ", " + LN2 + ", " + literal(1f));
        e.line("mul.rn.f32 \t" + d + ", " + p + ", " + c);
    }

    /** ln x = log2(x) · ln 2. */
    static void log(PtxEmitter e, String d, String x, boolean fast) {
        String t = e.temp(Registers.RegClass.F32);
        e.line((fast ? "lg2.approx.ftz.f32 \t" : "lg2.approx.f32 \t") + t + ", " + x);
        e.line((fast ? "mul.ftz.f32 \t" : "mul.rn.f32 \t") + d + ", " + t + ", " + LN2);
    }
}
