package org.retroinfer.accel.kernel;

/**
 * Float math for kernels. {@code java.lang.Math} works in double; these work in float and map to single
 * GPU instructions (or short sequences). The Java bodies are the CPU (emulator) semantics; on the GPU:
 * <ul>
 *   <li>{@link #sqrt}, {@link #fma}, {@link #max}, {@link #min}, {@link #abs} and the half and bfloat16
 *       conversions are exact, as in Java (except NaN bit patterns, which are unspecified);</li>
 *   <li>{@link #exp} uses {@code ex2.approx} on a split product: within 2 ulp of the exact result over the
 *       normal range in strict mode; with fast math a single {@code ex2.approx.ftz} (error growing with
 *       |x|, subnormal results flushed to zero);</li>
 *   <li>{@link #log} uses {@code lg2.approx}: relative error about 2<sup>-22</sup>, absolute error about
 *       2<sup>-22</sup> near 1;</li>
 *   <li>{@link #rsqrt} uses {@code rsqrt.approx}: relative error below 2<sup>-22</sup>.</li>
 * </ul>
 * Compare kernel results with a tolerance that allows for these bounds.
 */
public final class KMath {
    private KMath() {}

    public static float exp(float x) {
        return (float) Math.exp(x);
    }

    public static float log(float x) {
        return (float) Math.log(x);
    }

    /** Correctly rounded square root, bit-exact on CPU and GPU. */
    public static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }

    /** {@code 1 / sqrt(x)}. */
    public static float rsqrt(float x) {
        return (float) (1.0 / Math.sqrt(x));
    }

    /** {@code a * b + c} with one rounding. */
    public static float fma(float a, float b, float c) {
        return Math.fma(a, b, c);
    }

    /** The larger value; NaN if either is NaN; +0 is larger than -0 (as {@link Math#max(float, float)}). */
    public static float max(float a, float b) {
        return Math.max(a, b);
    }

    public static float min(float a, float b) {
        return Math.min(a, b);
    }

    public static float abs(float x) {
        return Math.abs(x);
    }

    /** The IEEE half float with bits {@code bits} as a float (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** The nearest IEEE half float (ties to even), as its 16 bits. */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /** The bfloat16 with bits {@code bits} as a float (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** The nearest bfloat16 (ties to even), as its 16 bits; NaN stays a quiet NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /**
     * {@code low} and {@code high} rounded to bfloat16 (nearest, ties to even) and packed into one word, {@code low}
     * in bits 0-15: the register format of {@link KernelContext#mmaBf16}'s operands. One {@code cvt.rn.bf16x2.f32} on
     * the GPU.
     */
    public static int packBf16x2(float low, float high) {
        return (floatToBf16(high) << 16) | (floatToBf16(low) & 0xFFFF);
    }

    /**
     * {@code c} plus the dot product of the four signed bytes of {@code a} with those of {@code b} (byte {@code k} is bits
     * {@code 8k} up), in 32-bit two's-complement arithmetic: one {@code dp4a.s32.s32} on the GPU, four multiply-adds of
     * INT8 levels without converting them to floats.
     */
    public static int dp4a(int a, int b, int c) {
        int sum = c;
        for (int k = 0; k < 32; k += 8) {
            sum += (byte) (a >> k) * (byte) (b >> k);
        }
        return sum;
    }

    /**
     * Tells the GPU compiler not to unroll the next loop (PTX {@code .pragma "nounroll"} on its header). Use it
     * when ptxas would fully unroll a constant-trip loop and hoist every load out of an outer loop, which can
     * multiply register use (167 instead of 31 registers in the prototype's decode attention). No effect on
     * the CPU.
     */
    public static void noUnroll() {
        // a marker for the compiler; nothing to do on the CPU
    }
}
