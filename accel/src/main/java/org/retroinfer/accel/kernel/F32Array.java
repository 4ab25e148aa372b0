package org.retroinfer.accel.kernel;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/** A long-indexed array of {@code float}s in host, pinned, mapped or device memory. */
public final class F32Array extends TypedArray {
    private static final VarHandle BITS = JAVA_INT.varHandle();

    private F32Array(MemoryRegion region) {
        super(region, ElementType.F32);
    }

    /** A view of {@code region} as floats. */
    public static F32Array view(MemoryRegion region) {
        return new F32Array(region);
    }

    /** {@code length} zeroed floats of host memory owned by {@code arena}, 64-byte aligned. */
    public static F32Array allocate(Arena arena, long length) {
        return view(MemoryRegion.host(arena.allocate(JAVA_FLOAT.byteSize() * length, 64)));
    }

    /** Host memory owned by {@code arena} holding {@code values}. */
    public static F32Array of(Arena arena, float... values) {
        F32Array a = allocate(arena, values.length);
        a.copyFrom(values);
        return a;
    }

    @Override
    public ElementType elementType() {
        return ElementType.F32;
    }

    public float get(long index) {
        return host().getAtIndex(JAVA_FLOAT, index);
    }

    public void set(long index, float value) {
        host().setAtIndex(JAVA_FLOAT, index, value);
    }

    /** Elements {@code index .. index + 3} in one 16-byte load; {@code index} must be a multiple of 4. */
    public Float4 getFloat4(long index) {
        checkVector(index, 4, "getFloat4");
        MemorySegment h = host();
        return new Float4(h.getAtIndex(JAVA_FLOAT, index), h.getAtIndex(JAVA_FLOAT, index + 1),
                h.getAtIndex(JAVA_FLOAT, index + 2), h.getAtIndex(JAVA_FLOAT, index + 3));
    }

    /** Stores elements {@code index .. index + 3} in one 16-byte store; {@code index} must be a multiple of 4. */
    public void setFloat4(long index, Float4 value) {
        checkVector(index, 4, "setFloat4");
        MemorySegment h = host();
        h.setAtIndex(JAVA_FLOAT, index, value.x());
        h.setAtIndex(JAVA_FLOAT, index + 1, value.y());
        h.setAtIndex(JAVA_FLOAT, index + 2, value.z());
        h.setAtIndex(JAVA_FLOAT, index + 3, value.w());
    }

    /** Elements {@code [from, from + count)} as an array over the same memory. */
    public F32Array slice(long from, long count) {
        return new F32Array(sliceRegion(from, count));
    }

    public void fill(float value) {
        MemorySegment h = host();
        for (long i = 0; i < length(); i++) {
            h.setAtIndex(JAVA_FLOAT, i, value);
        }
    }

    /** Copies {@code values} into elements {@code 0 .. values.length - 1}. */
    public void copyFrom(float[] values) {
        MemorySegment.copy(values, 0, host(), JAVA_FLOAT, 0, checkedCount(values.length));
    }

    public float[] toArray() {
        return host().toArray(JAVA_FLOAT);
    }

    /** The emulator's {@code atomicAdd}: a compare-and-set loop on the float's bits. */
    float getAndAddAtomically(long index, float value) {
        MemorySegment h = host();
        long offset = index * Float.BYTES;
        while (true) {
            int old = (int) BITS.getVolatile(h, offset);
            float updated = Float.intBitsToFloat(old) + value;
            if (BITS.compareAndSet(h, offset, old, Float.floatToRawIntBits(updated))) {
                return Float.intBitsToFloat(old);
            }
        }
    }

    private int checkedCount(int count) {
        if (count > length()) {
            throw new IndexOutOfBoundsException(count + " values do not fit " + describe());
        }
        return count;
    }
}
