package org.retroinfer.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Turns floats into stored values of any {@link DType}; the inverse of {@link Dequantize}.
 *
 * <p>Q8_0 and Q4_0 reproduce ggml's reference quantisers ({@code quantize_row_q8_0_ref} and
 * {@code quantize_row_q4_0_ref} in ggml/src/ggml-quants.c) bit for bit, so that a file written here
 * holds the same blocks llama.cpp's tools would write. Their float arithmetic is kept in the same
 * order and precision as the C code (every step in float, no fused multiply-add), and the F16 scale
 * is rounded to nearest even like {@code GGML_FP32_TO_FP16}. Where ggml would silently write garbage
 * (a NaN or infinite input, or a scale beyond the F16 range) these methods throw instead.
 */
public final class Quantize {
    /** Values per Q8_0 and Q4_0 block. */
    public static final int BLOCK = 32;

    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quantize() {}

    /**
     * Encodes {@code n} values {@code src[off .. off + n)} as {@code type} into {@code dst} from byte
     * {@code dstOff}, writing {@code type.byteSize(n)} bytes; quantised types need whole blocks.
     */
    public static void row(DType type, float[] src, int off, int n, MemorySegment dst, long dstOff) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, off, dst, LE_FLOAT, dstOff, n);
            case F16, BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(LE_SHORT, dstOff + 2L * i, Half.fromFloat(type, src[off + i]));
                }
            }
            case Q8_0 -> quantizeQ8_0(src, off, n, dst, dstOff);
            case Q4_0 -> quantizeQ4_0(src, off, n, dst, dstOff);
        }
    }

    /**
     * Q8_0 blocks of {@code n} values (a multiple of 32): per block d = amax / 127, q = round(x · (1/d))
     * with halves rounded away from zero (C's {@code roundf}); 34 bytes per block (F16 d, 32 × int8 q).
     */
    public static void quantizeQ8_0(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        checkBlocks(DType.Q8_0, n);
        for (int b = 0; b < n / BLOCK; b++) {
            int base = off + b * BLOCK;
            float amax = 0.0f;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(finite(src, base + j, DType.Q8_0)));
            }
            float d = amax / 127;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            long block = dstOff + (long) DType.Q8_0.blockBytes() * b;
            dst.set(LE_SHORT, block, scale(d, amax, base, DType.Q8_0));
            for (int j = 0; j < BLOCK; j++) {
                dst.set(ValueLayout.JAVA_BYTE, block + 2 + j, (byte) roundHalfAwayFromZero(src[base + j] * id));
            }
        }
    }

    /**
     * Q4_0 blocks of {@code n} values (a multiple of 32): per block the value of largest magnitude,
     * {@code max}, with its sign, gives d = max / −8, so that {@code max} itself maps to nibble 0;
     * q = min(15, trunc(x · (1/d) + 8.5)). Byte j holds element j in its low nibble and element
     * j + 16 in its high nibble; 18 bytes per block (F16 d, 16 packed bytes).
     */
    public static void quantizeQ4_0(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        checkBlocks(DType.Q4_0, n);
        for (int b = 0; b < n / BLOCK; b++) {
            int base = off + b * BLOCK;
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < BLOCK; j++) {
                float v = finite(src, base + j, DType.Q4_0);
                // Strictly greater: the first value of the largest magnitude wins, as in ggml.
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            long block = dstOff + (long) DType.Q4_0.blockBytes() * b;
            dst.set(LE_SHORT, block, scale(d, amax, base, DType.Q4_0));
            for (int j = 0; j < BLOCK / 2; j++) {
                float x0 = src[base + j] * id;
                float x1 = src[base + BLOCK / 2 + j] * id;
                // x·id + 8.5 lies in [0.5, 16.5], so the cast truncates a positive number: it rounds
                // x·id to nearest (halves up) and shifts it into 0..16; 16 is clamped to 15.
                int q0 = Math.min(15, (int) (x0 + 8.5f));
                int q1 = Math.min(15, (int) (x1 + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, block + 2 + j, (byte) (q0 | (q1 << 4)));
            }
        }
    }

    /** C's {@code roundf}: nearest integer, halves away from zero (Math.round rounds −2.5 to −2). */
    static float roundHalfAwayFromZero(float x) {
        // In double, |x| + 0.5 is exact for every float below 2^29, so the floor sees the true sum.
        return (float) Math.copySign(Math.floor(Math.abs((double) x) + 0.5), x);
    }

    private static short scale(float d, float amax, int firstIndex, DType type) {
        short bits = Float.floatToFloat16(d);
        if (Float.isInfinite(Float.float16ToFloat(bits))) {
            throw new IllegalArgumentException("the " + type + " block starting at value " + firstIndex
                    + " has largest magnitude " + amax + ", whose scale " + d
                    + " exceeds the F16 range (65504); store this tensor as F32, F16 or BF16 instead");
        }
        return bits;
    }

    private static float finite(float[] src, int i, DType type) {
        float v = src[i];
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("value " + i + " is " + v + ", which " + type + " cannot store");
        }
        return v;
    }

    private static void checkBlocks(DType type, int n) {
        if (n < 0 || n % BLOCK != 0) {
            throw new IllegalArgumentException(type + " quantises whole blocks of " + BLOCK + " values; got " + n);
        }
    }
}
