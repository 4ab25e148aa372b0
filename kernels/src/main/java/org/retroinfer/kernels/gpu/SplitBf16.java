package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * F32 values as {@link KernelContext#mmaBf16}'s A operand in two bfloat16 parts, {@code hi = bf16(x)} and
 * {@code lo = bf16(x − hi)} (the difference exact in float), both multiplied: the products see {@code hi + lo}, within
 * about 2<sup>-17</sup> of {@code x}, where one bfloat16 would be within 2<sup>-9</sup>. The tensor-core kernels whose
 * inputs are F32 activations ({@link TensorCoreLinear}, {@link TensorCoreGemm}, {@link FlashPrefill}) share it.
 */
final class SplitBf16 {
    private SplitBf16() {}

    /** Rows g and g + 8's four values rounded to bfloat16 as an A operand (a0, a1, a2, a3: g, g + 8, g, g + 8). */
    static Int4 pack(Float4 rowG, Float4 rowG8) {
        return new Int4(KMath.packBf16x2(rowG.x(), rowG.y()), KMath.packBf16x2(rowG8.x(), rowG8.y()),
                KMath.packBf16x2(rowG.z(), rowG.w()), KMath.packBf16x2(rowG8.z(), rowG8.w()));
    }

    /** What {@link #pack} rounded away ({@code high} is its result), rounded to bfloat16 in turn. */
    static Int4 lowPart(Float4 rowG, Float4 rowG8, Int4 high) {
        return pack(residual(rowG, high.x(), high.z()), residual(rowG8, high.y(), high.w()));
    }

    /** {@code v} less its rounding to bfloat16 (the words {@link #pack} made of it): exact in float. */
    private static Float4 residual(Float4 v, int xy, int zw) {
        return new Float4(v.x() - Float.intBitsToFloat(xy << 16), v.y() - Float.intBitsToFloat(xy & 0xFFFF0000),
                v.z() - Float.intBitsToFloat(zw << 16), v.w() - Float.intBitsToFloat(zw & 0xFFFF0000));
    }

    /** {@code c} plus the products of both parts of A with B. */
    static Float4 mma(KernelContext ctx, Float4 c, Int4 hi, Int4 lo, int b0, int b1) {
        Float4 withHigh = ctx.mmaBf16(c, hi.x(), hi.y(), hi.z(), hi.w(), b0, b1);
        return ctx.mmaBf16(withHigh, lo.x(), lo.y(), lo.z(), lo.w(), b0, b1);
    }
}
