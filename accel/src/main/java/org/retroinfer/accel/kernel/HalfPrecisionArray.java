package org.retroinfer.accel.kernel;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;

/**
 * The 16-bit float arrays ({@link F16Array}, {@link BF16Array}): elements are stored as 16 bits and read
 * and written as floats (converted exactly on read, rounded to nearest even on write).
 */
public abstract sealed class HalfPrecisionArray extends TypedArray permits F16Array, BF16Array {
    HalfPrecisionArray(MemoryRegion region, ElementType type) {
        super(region, type);
    }

    abstract float decode(short bits);

    /** Elements {@code [from, from + count)} as an array of the same type over the same memory. */
    public abstract HalfPrecisionArray slice(long from, long count);

    abstract short encode(float value);

    public final float get(long index) {
        return decode(host().getAtIndex(JAVA_SHORT, index));
    }

    public final void set(long index, float value) {
        host().setAtIndex(JAVA_SHORT, index, encode(value));
    }

    /** The raw 16 bits of element {@code index}. */
    public final short getBits(long index) {
        return host().getAtIndex(JAVA_SHORT, index);
    }

    public final void setBits(long index, short bits) {
        host().setAtIndex(JAVA_SHORT, index, bits);
    }

    /** Elements {@code index .. index + 7} in one 16-byte load, as floats; {@code index} must be a multiple of 8. */
    public final Float8 getFloat8(long index) {
        checkVector(index, 8, "getFloat8");
        return new Float8(get(index), get(index + 1), get(index + 2), get(index + 3), get(index + 4), get(index + 5),
                get(index + 6), get(index + 7));
    }

    /** Rounds and stores elements {@code index .. index + 7} in one 16-byte store; {@code index} must be a multiple of 8. */
    public final void setFloat8(long index, Float8 value) {
        checkVector(index, 8, "setFloat8");
        set(index, value.s0());
        set(index + 1, value.s1());
        set(index + 2, value.s2());
        set(index + 3, value.s3());
        set(index + 4, value.s4());
        set(index + 5, value.s5());
        set(index + 6, value.s6());
        set(index + 7, value.s7());
    }

    /**
     * Elements {@code index} and {@code index + 1} as one word, {@code index} in the low 16 bits (the register format
     * of {@link KernelContext#mmaBf16}'s operands); {@code index} must be even. One 4-byte load on the GPU.
     */
    public final int getWord(long index) {
        checkVector(index, 2, "getWord");
        return (getBits(index) & 0xFFFF) | (getBits(index + 1) << 16);
    }

    /**
     * Elements {@code index .. index + 7} in one 16-byte load as four words ({@link #getWord} of {@code index},
     * {@code index + 2}, {@code index + 4}, {@code index + 6}); {@code index} must be a multiple of 8.
     */
    public final Int4 getWords(long index) {
        checkVector(index, 8, "getWords");
        return new Int4(getWord(index), getWord(index + 2), getWord(index + 4), getWord(index + 6));
    }

    /** Rounds {@code values} into elements {@code 0 .. values.length - 1}. */
    public final void copyFrom(float[] values) {
        if (values.length > length()) {
            throw new IndexOutOfBoundsException(values.length + " values do not fit " + describe());
        }
        MemorySegment h = host();
        for (int i = 0; i < values.length; i++) {
            h.setAtIndex(JAVA_SHORT, i, encode(values[i]));
        }
    }

    /** All elements, converted to float. */
    public final float[] toFloatArray() {
        if (length() > Integer.MAX_VALUE) {
            throw new IllegalStateException(describe() + " has too many elements for a Java array");
        }
        float[] out = new float[(int) length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }
}
