package org.retroinfer.accel.kernel;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;

/** A long-indexed array of IEEE half floats (binary16) in host, pinned, mapped or device memory. */
public final class F16Array extends HalfPrecisionArray {
    private F16Array(MemoryRegion region) {
        super(region, ElementType.F16);
    }

    public static F16Array view(MemoryRegion region) {
        return new F16Array(region);
    }

    /** {@code length} zeroed halves of host memory owned by {@code arena}, 64-byte aligned. */
    public static F16Array allocate(Arena arena, long length) {
        return view(MemoryRegion.host(arena.allocate(JAVA_SHORT.byteSize() * length, 64)));
    }

    /** Host memory holding {@code values} rounded to half precision. */
    public static F16Array of(Arena arena, float... values) {
        F16Array a = allocate(arena, values.length);
        a.copyFrom(values);
        return a;
    }

    @Override
    public ElementType elementType() {
        return ElementType.F16;
    }

    @Override
    public F16Array slice(long from, long count) {
        return new F16Array(sliceRegion(from, count));
    }

    @Override
    float decode(short bits) {
        return KMath.f16ToFloat(bits);
    }

    @Override
    short encode(float value) {
        return KMath.floatToF16(value);
    }
}
