package org.retroinfer.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Turns stored values of any {@link DType} back into floats. */
public final class Dequantize {
    private Dequantize() {}

    /**
     * Decodes {@code count} values (whole blocks) starting at byte {@code offset} of {@code data}
     * into {@code out[outOffset ..]}.
     */
    public static void row(DType type, MemorySegment data, long offset, int count, float[] out, int outOffset) {
        switch (type) {
            case F32 -> MemorySegment.copy(data, ValueLayout.JAVA_FLOAT_UNALIGNED, offset, out, outOffset, count);
            case F16 -> HalfVectors.decodeF16(data, offset, count, out, outOffset);
            case BF16 -> HalfVectors.decodeBf16(data, offset, count, out, outOffset);
            case Q8_0 -> QuantBlocks.decodeQ8(data, offset, type.byteSize(count) / type.blockBytes(), out, outOffset);
            case Q4_0 -> QuantBlocks.decodeQ4(data, offset, type.byteSize(count) / type.blockBytes(), out, outOffset);
        }
    }
}
