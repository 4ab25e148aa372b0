package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.BYTE;
import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * GGML's Q8_0 and Q4_0 blocks (see {@link DType}) read into float vector lanes. A block of 32
 * values is {@link #CHUNKS} chunks of {@link VectorSupport#FLOAT}'s length; chunk c holds values
 * [c·L, c·L + L). The lanes hold the unscaled integers (q, or nibble − 8): callers multiply by
 * the block's {@link #scale} once per block, which keeps that multiply out of the inner loop.
 */
final class QuantBlocks {
    /** Values per block, the same for both types. */
    static final int VALUES = 32;
    /** Float vectors per block. */
    static final int CHUNKS = VALUES / FLOAT.length();

    private QuantBlocks() {}

    /** The block's F16 scale d, its first two bytes. */
    static float scale(MemorySegment data, long block) {
        return Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
    }

    /** Chunk {@code chunk} of the Q8_0 block at byte {@code block}: signed bytes 2 + c·L onwards. */
    static FloatVector q8(MemorySegment data, long block, int chunk) {
        int first = chunk * FLOAT.length();
        ByteVector bytes = ByteVector.fromMemorySegment(BYTE, data, block + 2 + first - first % BYTE.length(), ORDER);
        return (FloatVector) bytes.convertShape(VectorOperators.B2F, FLOAT, first % BYTE.length() / FLOAT.length());
    }

    /**
     * Chunk {@code chunk} of the Q4_0 block at byte {@code block}: values j < 16 are the low
     * nibbles of bytes 2 + j, values j ≥ 16 the high nibbles of bytes 2 + j − 16; each minus 8.
     */
    static FloatVector q4(MemorySegment data, long block, int chunk) {
        int first = chunk * FLOAT.length();
        int firstByte = first % 16;
        ByteVector bytes = ByteVector.fromMemorySegment(BYTE, data,
                block + 2 + firstByte - firstByte % BYTE.length(), ORDER);
        ByteVector nibbles = first < 16 ? bytes.and((byte) 0x0F) : bytes.lanewise(VectorOperators.LSHR, 4);
        return (FloatVector) nibbles.sub((byte) 8)
                .convertShape(VectorOperators.B2F, FLOAT, firstByte % BYTE.length() / FLOAT.length());
    }

    static {
        // A Q4_0 chunk must lie within the low or the high nibbles of a block.
        if (FLOAT.length() > 16) {
            throw new IllegalStateException("quantised kernels split 32-value blocks into float vectors of at most"
                    + " 16 lanes, got " + FLOAT.length() + "; run with -Dretroinfer.vectorBits=512 or less");
        }
    }
}
