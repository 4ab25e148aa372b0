package org.retroinfer.accel.kernel;

/**
 * Four ints from one 16-byte access ({@link I32Array#getInt4}, or sixteen packed bytes from
 * {@link I8Array#getInt4}). On the GPU an {@code Int4} is four registers, never an object.
 */
public record Int4(int x, int y, int z, int w) {
    public Int4 add(Int4 o) {
        return new Int4(x + o.x, y + o.y, z + o.z, w + o.w);
    }

    public int sum() {
        return x + y + z + w;
    }
}
