package org.retroinfer.accel.kernel;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/** A long-indexed array of {@code int}s in host, pinned, mapped or device memory. */
public final class I32Array extends TypedArray {
    private static final VarHandle INTS = JAVA_INT.varHandle();

    private I32Array(MemoryRegion region) {
        super(region, ElementType.I32);
    }

    public static I32Array view(MemoryRegion region) {
        return new I32Array(region);
    }

    /** {@code length} zeroed ints of host memory owned by {@code arena}, 64-byte aligned. */
    public static I32Array allocate(Arena arena, long length) {
        return view(MemoryRegion.host(arena.allocate(JAVA_INT.byteSize() * length, 64)));
    }

    public static I32Array of(Arena arena, int... values) {
        I32Array a = allocate(arena, values.length);
        a.copyFrom(values);
        return a;
    }

    @Override
    public ElementType elementType() {
        return ElementType.I32;
    }

    public int get(long index) {
        return host().getAtIndex(JAVA_INT, index);
    }

    public void set(long index, int value) {
        host().setAtIndex(JAVA_INT, index, value);
    }

    /** Elements {@code index .. index + 3} in one 16-byte load; {@code index} must be a multiple of 4. */
    public Int4 getInt4(long index) {
        checkVector(index, 4, "getInt4");
        MemorySegment h = host();
        return new Int4(h.getAtIndex(JAVA_INT, index), h.getAtIndex(JAVA_INT, index + 1),
                h.getAtIndex(JAVA_INT, index + 2), h.getAtIndex(JAVA_INT, index + 3));
    }

    public void setInt4(long index, Int4 value) {
        checkVector(index, 4, "setInt4");
        MemorySegment h = host();
        h.setAtIndex(JAVA_INT, index, value.x());
        h.setAtIndex(JAVA_INT, index + 1, value.y());
        h.setAtIndex(JAVA_INT, index + 2, value.z());
        h.setAtIndex(JAVA_INT, index + 3, value.w());
    }

    public I32Array slice(long from, long count) {
        return new I32Array(sliceRegion(from, count));
    }

    public void fill(int value) {
        MemorySegment h = host();
        for (long i = 0; i < length(); i++) {
            h.setAtIndex(JAVA_INT, i, value);
        }
    }

    public void copyFrom(int[] values) {
        if (values.length > length()) {
            throw new IndexOutOfBoundsException(values.length + " values do not fit " + describe());
        }
        MemorySegment.copy(values, 0, host(), JAVA_INT, 0, values.length);
    }

    public int[] toArray() {
        return host().toArray(JAVA_INT);
    }

    int getAndAddAtomically(long index, int value) {
        return (int) INTS.getAndAdd(host(), index * Integer.BYTES, value);
    }

    int getAndMaxAtomically(long index, int value) {
        MemorySegment h = host();
        long offset = index * Integer.BYTES;
        int old = (int) INTS.getVolatile(h, offset);
        while (old < value && !INTS.compareAndSet(h, offset, old, value)) {
            old = (int) INTS.getVolatile(h, offset);
        }
        return old;
    }
}
