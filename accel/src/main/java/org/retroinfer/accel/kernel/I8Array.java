package org.retroinfer.accel.kernel;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A long-indexed array of signed bytes (quantised weights, masks) in host, pinned, mapped or device memory. */
public final class I8Array extends TypedArray {
    private I8Array(MemoryRegion region) {
        super(region, ElementType.I8);
    }

    public static I8Array view(MemoryRegion region) {
        return new I8Array(region);
    }

    /** {@code length} zeroed bytes of host memory owned by {@code arena}, 64-byte aligned. */
    public static I8Array allocate(Arena arena, long length) {
        return view(MemoryRegion.host(arena.allocate(length, 64)));
    }

    public static I8Array of(Arena arena, byte... values) {
        I8Array a = allocate(arena, values.length);
        a.copyFrom(values);
        return a;
    }

    @Override
    public ElementType elementType() {
        return ElementType.I8;
    }

    public byte get(long index) {
        return host().get(JAVA_BYTE, index);
    }

    public void set(long index, byte value) {
        host().set(JAVA_BYTE, index, value);
    }

    /**
     * Bytes {@code index .. index + 15} in one 16-byte load, packed little-endian into four ints (byte
     * {@code index + 4k + j} is bits {@code 8j .. 8j + 7} of int {@code k}); {@code index} must be a multiple of 16.
     */
    public Int4 getInt4(long index) {
        checkVector(index, 16, "getInt4");
        MemorySegment h = host();
        return new Int4(h.get(JAVA_INT_UNALIGNED, index), h.get(JAVA_INT_UNALIGNED, index + 4),
                h.get(JAVA_INT_UNALIGNED, index + 8), h.get(JAVA_INT_UNALIGNED, index + 12));
    }

    public void setInt4(long index, Int4 value) {
        checkVector(index, 16, "setInt4");
        MemorySegment h = host();
        h.set(JAVA_INT_UNALIGNED, index, value.x());
        h.set(JAVA_INT_UNALIGNED, index + 4, value.y());
        h.set(JAVA_INT_UNALIGNED, index + 8, value.z());
        h.set(JAVA_INT_UNALIGNED, index + 12, value.w());
    }

    public I8Array slice(long from, long count) {
        return new I8Array(sliceRegion(from, count));
    }

    public void copyFrom(byte[] values) {
        if (values.length > length()) {
            throw new IndexOutOfBoundsException(values.length + " values do not fit " + describe());
        }
        MemorySegment.copy(values, 0, host(), JAVA_BYTE, 0, values.length);
    }

    public byte[] toArray() {
        return host().toArray(JAVA_BYTE);
    }
}
