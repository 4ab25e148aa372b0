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
 * GGML's Q8_0 and Q4_0 blocks (see {@link DType}) decoded to floats. A block of 32 values is
 * walked in an inner loop over {@code first = 0, L, 2L, ..} (L = {@link VectorSupport#FLOAT}'s
 * length), which C2 unrolls completely: one or two passes for 512- and 256-bit vectors.
 *
 * <p>Each load reads exactly L bytes and widens them by part 0 of a conversion: C2 only
 * intrinsifies conversions whose part number is a constant when it parses them; a computed part
 * left the kernels boxing their vectors, several times slower. A 4-lane float species has no
 * 4-byte vector, so its 8-byte loads are masked to their first 4 lanes ({@link #MASKED_LOADS}),
 * which also keeps the last load of a segment from reading past its end. Q4_0's packed bytes are
 * zero-extended to int lanes before the nibbles are split (x86 has no byte shifts), and a nibble
 * n becomes a float by the exponent trick: the bits {@code 0x4B000000 | n} are the float 2^23 + n,
 * so subtracting 2^23 + 8 leaves n − 8 exactly. {@link RowDot} repeats these loads in its
 * streaming loops (see {@link HalfVectors} for why vectors do not cross our method boundaries).
 */
final class QuantBlocks {
    /** Values per block, the same for both types. */
    static final int VALUES = 32;
    /** The bits of the float 2^23, whose mantissa's low bits hold small integers exactly. */
    static final int FLOAT_2_POW_23 = 0x4B00_0000;
    static final boolean MASKED_LOADS = BYTE.length() > FLOAT.length();
    static final VectorMask<Byte> FIRST_LANES = VectorMask.fromLong(BYTE, (1L << FLOAT.length()) - 1);
    private static final int L = FLOAT.length();

    private QuantBlocks() {}

    /** The F16 scale d of the block at byte {@code block}: its first two bytes. */
    static float scale(MemorySegment data, long block) {
        return Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
    }

    /** Decodes {@code blocks} Q8_0 blocks at byte {@code offset}: value = d·q for signed bytes q. */
    static void decodeQ8(MemorySegment data, long offset, long blocks, float[] out, int outOffset) {
        for (long b = 0; b < blocks; b++) {
            long block = offset + 34 * b;
            FloatVector d = FloatVector.broadcast(FLOAT,
                    Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block)));
            int base = outOffset + (int) b * VALUES;
            for (int first = 0; first < VALUES; first += L) {
                ByteVector q = MASKED_LOADS
                        ? ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER, FIRST_LANES)
                        : ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER);
                ((FloatVector) q.convertShape(VectorOperators.B2F, FLOAT, 0)).mul(d).intoArray(out, base + first);
            }
        }
    }

    /**
     * Decodes {@code blocks} Q4_0 blocks at byte {@code offset}: value j < 16 is d·(n − 8) for
     * the low nibble n of byte 2 + j, value j + 16 the same for its high nibble.
     */
    static void decodeQ4(MemorySegment data, long offset, long blocks, float[] out, int outOffset) {
        for (long b = 0; b < blocks; b++) {
            long block = offset + 18 * b;
            FloatVector d = FloatVector.broadcast(FLOAT,
                    Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block)));
            int base = outOffset + (int) b * VALUES;
            for (int first = 0; first < VALUES / 2; first += L) {
                ByteVector q = MASKED_LOADS
                        ? ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER, FIRST_LANES)
                        : ByteVector.fromMemorySegment(BYTE, data, block + 2 + first, ORDER);
                IntVector packed = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, INT, 0);
                packed.and(0x0F).or(FLOAT_2_POW_23).reinterpretAsFloats().sub(0x1p23f + 8).mul(d)
                        .intoArray(out, base + first);
                packed.lanewise(VectorOperators.LSHR, 4).or(FLOAT_2_POW_23).reinterpretAsFloats().sub(0x1p23f + 8)
                        .mul(d).intoArray(out, base + VALUES / 2 + first);
            }
        }
    }

    static {
        // A Q4_0 pass must lie within the 16 packed bytes of a block.
        if (FLOAT.length() > 16) {
            throw new IllegalStateException("quantised kernels split 32-value blocks into float vectors of at most"
                    + " 16 lanes, got " + FLOAT.length() + "; run with -Dretroinfer.vectorBits=512 or less");
        }
    }
}
