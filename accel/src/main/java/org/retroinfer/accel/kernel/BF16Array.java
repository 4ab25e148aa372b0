package org.retroinfer.accel.kernel;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;

/** A long-indexed array of bfloat16s (the top 16 bits of a float) in host, pinned, mapped or device memory. */
public final class BF16Array extends HalfPrecisionArray {
    private BF16Array(MemoryRegion region) {
        super(region, ElementType.BF16);
    }

    public static BF16Array view(MemoryRegion region) {
        return new BF16Array(region);
    }

    /** {@code length} zeroed bfloat16s of host memory owned by {@code arena}, 64-byte aligned. */
    public static BF16Array allocate(Arena arena, long length) {
        return view(MemoryRegion.host(arena.allocate(JAVA_SHORT.byteSize() * length, 64)));
    }

    /** Host memory holding {@code values} rounded to bfloat16. */
    public static BF16Array of(Arena arena, float... values) {
        BF16Array a = allocate(arena, values.length);
        a.copyFrom(values);
        return a;
    }

    @Override
    public ElementType elementType() {
        return ElementType.BF16;
    }

    @Override
    public BF16Array slice(long from, long count) {
        return new BF16Array(sliceRegion(from, count));
    }

    @Override
    float decode(short bits) {
        return KMath.bf16ToFloat(bits);
    }

    @Override
    short encode(float value) {
        return KMath.floatToBf16(value);
    }
}
