package org.retroinfer.accel.kernel;

/**
 * Four floats loaded or stored with one 16-byte access ({@link F32Array#getFloat4},
 * {@link F32Array#setFloat4}). On the GPU a {@code Float4} is four registers, never an object: create one
 * with {@code new Float4(...)} or a load and read its components; do not store it in arrays or fields.
 */
public record Float4(float x, float y, float z, float w) {
    public Float4 add(Float4 o) {
        return new Float4(x + o.x, y + o.y, z + o.z, w + o.w);
    }

    public Float4 mul(Float4 o) {
        return new Float4(x * o.x, y * o.y, z * o.z, w * o.w);
    }

    public Float4 scale(float s) {
        return new Float4(x * s, y * s, z * s, w * s);
    }

    /** {@code this * b + c} lane by lane, each with one rounding. */
    public Float4 fma(Float4 b, Float4 c) {
        return new Float4(Math.fma(x, b.x, c.x), Math.fma(y, b.y, c.y), Math.fma(z, b.z, c.z), Math.fma(w, b.w, c.w));
    }

    /** {@code x + y + z + w}, summed left to right. */
    public float sum() {
        return x + y + z + w;
    }

    /** The dot product, accumulated with fma from x to w. */
    public float dot(Float4 o) {
        return Math.fma(w, o.w, Math.fma(z, o.z, Math.fma(y, o.y, x * o.x)));
    }
}
