package org.retroinfer.accel.kernel;

/**
 * Eight floats from one 16-byte access to 16-bit data ({@link F16Array#getFloat8},
 * {@link BF16Array#getFloat8}): converted to float on load and rounded on store. On the GPU a
 * {@code Float8} is eight registers, never an object.
 */
public record Float8(float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7) {
    public Float8 scale(float s) {
        return new Float8(s0 * s, s1 * s, s2 * s, s3 * s, s4 * s, s5 * s, s6 * s, s7 * s);
    }

    /** The sum of the eight lanes as a pairwise tree: (s0+s1)+(s2+s3) + (s4+s5)+(s6+s7). */
    public float sum() {
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** The dot product, accumulated with fma from s0 to s7. */
    public float dot(Float8 o) {
        float acc = s0 * o.s0;
        acc = Math.fma(s1, o.s1, acc);
        acc = Math.fma(s2, o.s2, acc);
        acc = Math.fma(s3, o.s3, acc);
        acc = Math.fma(s4, o.s4, acc);
        acc = Math.fma(s5, o.s5, acc);
        acc = Math.fma(s6, o.s6, acc);
        return Math.fma(s7, o.s7, acc);
    }

    /** The dot product with eight floats held as two {@link Float4}s (for example a query row). */
    public float dot(Float4 lo, Float4 hi) {
        float acc = s0 * lo.x();
        acc = Math.fma(s1, lo.y(), acc);
        acc = Math.fma(s2, lo.z(), acc);
        acc = Math.fma(s3, lo.w(), acc);
        acc = Math.fma(s4, hi.x(), acc);
        acc = Math.fma(s5, hi.y(), acc);
        acc = Math.fma(s6, hi.z(), acc);
        return Math.fma(s7, hi.w(), acc);
    }
}
