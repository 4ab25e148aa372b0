package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.BYTE;
import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.INT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * GGML's Q8_0 and Q4_0 blocks (see {@link DType}) read into float vector lanes of
 * {@link VectorSupport#FLOAT}'s length L. The lanes hold the unscaled integers (q, or nibble − 8):
 * callers multiply by the block's {@link #scale} once per block, which keeps that multiply out of
 * the inner loop. Kernels walk a block in an inner loop over {@code first = 0, L, 2L, ..}, which
 * C2 unrolls completely (it is one or two passes for 512- and 256-bit vectors).
 *
 * <p>Each load reads exactly L bytes and widens them by part 0 of a conversion: C2 only
 * intrinsifies conversions whose part number is a constant when it parses them; a computed part
 * left the kernels boxing their vectors, several times slower. A 4-lane float species has no
 * 4-byte vector, so its 8-byte loads are masked to their first 4 lanes, which also keeps the last
 * load of a segment from reading past its end.
 */
final class QuantBlocks {
    /** Values per block, the same for both types. */
    static final int VALUES = 32;
    /** The bits of the float 2^23, whose mantissa's low bits hold small integers exactly. */
    private static final int FLOAT_2_POW_23 = 0x4B00_0000;
    private static final boolean MASKED_LOADS = BYTE.length() > FLOAT.length();
    private static final VectorMask<Byte> FIRST_LANES = VectorMask.fromLong(BYTE, (1L << FLOAT.length()) - 1);

    private QuantBlocks() {}

    /** The block's F16 scale d, its first two bytes. */
    static float scale(MemorySegment data, long block) {
        return Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
    }

    /** Values [first, first + L) of the Q8_0 block at byte {@code block}: its signed bytes 2 + first onwards. */
    static FloatVector q8(MemorySegment data, long block, int first) {
        long offset = block + 2 + first;
        ByteVector bytes = MASKED_LOADS
                ? ByteVector.fromMemorySegment(BYTE, data, offset, ORDER, FIRST_LANES)
                : ByteVector.fromMemorySegment(BYTE, data, offset, ORDER);
        return (FloatVector) bytes.convertShape(VectorOperators.B2F, FLOAT, 0);
    }

    /**
     * Bytes 2 + first .. 2 + first + L of the Q4_0 block at byte {@code block}, zero-extended to
     * int lanes (x86 has no byte shifts), for first < 16: their low nibbles are values
     * [first, first + L) of the block, their high nibbles values [16 + first, 16 + first + L).
     */
    static IntVector q4Packed(MemorySegment data, long block, int first) {
        long offset = block + 2 + first;
        ByteVector bytes = MASKED_LOADS
                ? ByteVector.fromMemorySegment(BYTE, data, offset, ORDER, FIRST_LANES)
                : ByteVector.fromMemorySegment(BYTE, data, offset, ORDER);
        return (IntVector) bytes.convertShape(VectorOperators.ZERO_EXTEND_B2I, INT, 0);
    }

    /** The low nibbles n of {@link #q4Packed} lanes as the values n − 8. */
    static FloatVector q4Low(IntVector packed) {
        return nibbleValues(packed.and(0x0F));
    }

    /** The high nibbles n of {@link #q4Packed} lanes as the values n − 8. */
    static FloatVector q4High(IntVector packed) {
        return nibbleValues(packed.lanewise(VectorOperators.LSHR, 4));
    }

    /**
     * Nibbles n to floats n − 8 by the exponent trick: the bits 0x4B000000 | n are the float
     * 2^23 + n, so subtracting 2^23 + 8 leaves n − 8 exactly, in two instructions.
     */
    private static FloatVector nibbleValues(IntVector nibbles) {
        return nibbles.or(FLOAT_2_POW_23).reinterpretAsFloats().sub(0x1p23f + 8);
    }

    static {
        // A Q4_0 chunk must lie within the low or the high nibbles of a block.
        if (FLOAT.length() > 16) {
            throw new IllegalStateException("quantised kernels split 32-value blocks into float vectors of at most"
                    + " 16 lanes, got " + FLOAT.length() + "; run with -Dretroinfer.vectorBits=512 or less");
        }
    }
}
