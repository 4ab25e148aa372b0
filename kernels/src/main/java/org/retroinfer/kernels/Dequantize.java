package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

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
            case F16, BF16 -> halves(type, data, offset, count, out, outOffset);
            case Q8_0, Q4_0 -> blocks(type, data, offset, type.byteSize(count) / type.blockBytes(), out, outOffset);
        }
    }

    private static void halves(DType type, MemorySegment data, long offset, int count, float[] out, int outOffset) {
        int i = 0;
        for (; i <= count - FLOAT.length(); i += FLOAT.length()) {
            HalfVectors.load(type, data, offset + 2L * i).intoArray(out, outOffset + i);
        }
        for (; i < count; i++) {
            out[outOffset + i] = Half.toFloat(type, data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i));
        }
    }

    private static void blocks(DType type, MemorySegment data, long offset, long blocks, float[] out, int outOffset) {
        for (long b = 0; b < blocks; b++) {
            long block = offset + b * type.blockBytes();
            FloatVector scale = FloatVector.broadcast(FLOAT, QuantBlocks.scale(data, block));
            int base = outOffset + (int) b * QuantBlocks.VALUES;
            if (type == DType.Q8_0) {
                for (int first = 0; first < QuantBlocks.VALUES; first += FLOAT.length()) {
                    QuantBlocks.q8(data, block, first).mul(scale).intoArray(out, base + first);
                }
            } else {
                for (int first = 0; first < QuantBlocks.VALUES / 2; first += FLOAT.length()) {
                    IntVector packed = QuantBlocks.q4Packed(data, block, first);
                    QuantBlocks.q4Low(packed).mul(scale).intoArray(out, base + first);
                    QuantBlocks.q4High(packed).mul(scale).intoArray(out, base + 16 + first);
                }
            }
        }
    }
}
