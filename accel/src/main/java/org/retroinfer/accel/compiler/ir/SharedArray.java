package org.retroinfer.accel.compiler.ir;

/** A block-shared array: one {@code .shared} variable of {@code length} elements. */
public record SharedArray(String symbol, MemType element, int length) {
    public long bytes() {
        return (long) element.bytes() * length;
    }
}
