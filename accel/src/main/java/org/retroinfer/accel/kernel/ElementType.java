package org.retroinfer.accel.kernel;

/** The element types of the typed arrays and their sizes in bytes. */
public enum ElementType {
    F32(4),
    F16(2),
    BF16(2),
    I32(4),
    I8(1);

    private final int bytes;

    ElementType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
