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
            case F16, BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[outOffset + i] = Half.toFloat(type, data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < count / 32; b++) {
                    long block = offset + 34L * b;
                    float d = Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
                    for (int j = 0; j < 32; j++) {
                        out[outOffset + 32 * b + j] = d * data.get(ValueLayout.JAVA_BYTE, block + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < count / 32; b++) {
                    long block = offset + 18L * b;
                    float d = Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
                    for (int j = 0; j < 16; j++) {
                        int packed = data.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xFF;
                        out[outOffset + 32 * b + j] = d * ((packed & 0x0F) - 8);
                        out[outOffset + 32 * b + j + 16] = d * ((packed >>> 4) - 8);
                    }
                }
            }
        }
    }
}
