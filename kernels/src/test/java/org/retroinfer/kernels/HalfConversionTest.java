package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vectorised F16/BF16 conversions (through {@link Dequantize#row} and
 * {@link AttentionKernels#store}, which use them for all but a scalar tail) against the format
 * definitions in float64 and against {@link Float#floatToFloat16}.
 */
class HalfConversionTest {
    private static float[] decodeAll(DType type) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bits = arena.allocate(2L * 65536);
            for (int i = 0; i < 65536; i++) {
                bits.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) i);
            }
            float[] out = TestWeights.poisoned(65536);
            Dequantize.row(type, bits, 0, 65536, out, 0);
            return out;
        }
    }

    @Test
    void everyF16BitPatternDecodesExactly() {
        float[] decoded = decodeAll(DType.F16);
        for (int bits = 0; bits < 65536; bits++) {
            int i = bits;
            double expected = TestWeights.f16((short) i);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(decoded[i]), () -> String.format("F16 %04x is NaN, decoded %s", i, decoded[i]));
            } else {
                // bit equality also pins the sign of zero
                assertEquals(Float.floatToIntBits((float) expected), Float.floatToIntBits(decoded[i]),
                        () -> String.format("F16 %04x", i));
                assertEquals(Float.floatToIntBits(Float.float16ToFloat((short) i)), Float.floatToIntBits(decoded[i]));
            }
        }
    }

    @Test
    void everyBf16BitPatternDecodesExactly() {
        float[] decoded = decodeAll(DType.BF16);
        for (int bits = 0; bits < 65536; bits++) {
            int i = bits;
            int sign = i >>> 15, exponent = (i >>> 7) & 0xFF, mantissa = i & 0x7F;
            double magnitude = exponent == 0xFF ? (mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                    : exponent == 0 ? Math.scalb((double) mantissa, -133) : Math.scalb(128.0 + mantissa, exponent - 134);
            double expected = sign == 1 ? -magnitude : magnitude;
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(decoded[i]), () -> String.format("BF16 %04x is NaN, decoded %s", i, decoded[i]));
            } else {
                assertEquals(Float.floatToIntBits((float) expected), Float.floatToIntBits(decoded[i]),
                        () -> String.format("BF16 %04x", i));
            }
        }
    }

    /**
     * Every place where rounding decides: each finite F16 value, the exact midpoint to its
     * upper neighbour and the floats one ulp either side of it; the specials; random bits.
     */
    private static float[] roundingCases(Random random, int exponentBits, int mantissaBits) {
        List<Float> cases = new ArrayList<>();
        int shift = 23 - mantissaBits;
        int patterns = 1 << (exponentBits + mantissaBits);
        for (int i = 0; i < patterns; i++) {
            for (int sign : new int[] {0, 1}) {
                float low = Float.intBitsToFloat(sign << 31 | narrowToFloatBits(i, exponentBits, mantissaBits));
                float high = Float.intBitsToFloat(sign << 31 | narrowToFloatBits(i + 1, exponentBits, mantissaBits));
                if (Float.isNaN(low) || Float.isInfinite(low) || Float.isNaN(high)) {
                    continue;
                }
                float mid = (float) (((double) low + high) / 2);
                cases.add(low);
                cases.add(mid);
                cases.add(Math.nextUp(mid));
                cases.add(Math.nextDown(mid));
            }
        }
        if (shift == 16) {
            // BF16 covers the float range: midpoints near Float.MAX_VALUE round to infinity.
            cases.add(Float.MAX_VALUE);
        }
        for (float special : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 65504f, 65519.996f, 65520f, 1e10f, -1e10f,
            Float.intBitsToFloat(0x7FA0_0001), Float.intBitsToFloat(0xFFC0_1234)}) {
            cases.add(special);
        }
        for (int i = 0; i < 100_000; i++) {
            cases.add(Float.intBitsToFloat(random.nextInt()));
        }
        float[] array = new float[cases.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = cases.get(i);
        }
        return array;
    }

    /** The float bits of the positive narrow-format value with the given exponent/mantissa bits. */
    private static int narrowToFloatBits(int bits, int exponentBits, int mantissaBits) {
        int bias = (1 << (exponentBits - 1)) - 1;
        int exponent = bits >>> mantissaBits;
        int mantissa = bits & ((1 << mantissaBits) - 1);
        if (exponent == (1 << exponentBits) - 1) {
            return mantissa == 0 ? 0x7F80_0000 : 0x7FC0_0000;
        }
        double value = exponent == 0 ? Math.scalb((double) mantissa, 1 - bias - mantissaBits)
                : Math.scalb((double) ((1 << mantissaBits) + mantissa), exponent - bias - mantissaBits);
        return Float.floatToIntBits((float) value);
    }

    private static short[] encode(DType type, float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(2L * values.length + 2);
            out.fill((byte) 0x5A);
            AttentionKernels.store(values, 0, values.length, out, 2, type);
            assertEquals(0x5A5A, out.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0) & 0xFFFF, "store wrote before dstOff");
            short[] bits = new short[values.length];
            MemorySegment.copy(out, ValueLayout.JAVA_SHORT_UNALIGNED, 2, bits, 0, values.length);
            return bits;
        }
    }

    /** The narrow value nearest to v in float64, ties to the even mantissa; null for NaN. */
    private static void assertNearestEven(float v, short got, DType type) {
        double decoded = type == DType.F16 ? TestWeights.f16(got) : Float.intBitsToFloat((got & 0xFFFF) << 16);
        if (Float.isNaN(v)) {
            assertTrue(Double.isNaN(decoded), () -> type + " of NaN gave " + Integer.toHexString(got & 0xFFFF));
            return;
        }
        short below = (short) (got - 1);
        short above = (short) (got + 1);
        double errGot = Math.abs(decoded - v);
        for (short neighbour : new short[] {below, above}) {
            double other = type == DType.F16 ? TestWeights.f16(neighbour) : Float.intBitsToFloat((neighbour & 0xFFFF) << 16);
            if (Double.isNaN(other) || Math.signum(other) * Math.signum(decoded) < 0) {
                continue;
            }
            double errOther = Math.abs(other - v);
            boolean overflowIsRight = Double.isInfinite(decoded) && !Double.isInfinite(v);
            if (!overflowIsRight) {
                assertTrue(errGot < errOther || errGot == errOther && (got & 1) == 0,
                        () -> String.format("%s of %s (%08x) gave %04x = %s, but %04x = %s is nearer or the even tie",
                                type, v, Float.floatToRawIntBits(v), got & 0xFFFF, decoded, neighbour & 0xFFFF, other));
            }
        }
    }

    @Test
    void floatToF16RoundsToNearestEvenLikeFloatToFloat16() {
        Random random = TestWeights.random("floatToF16");
        float[] values = roundingCases(random, 5, 10);
        short[] got = encode(DType.F16, values);
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (Float.isNaN(v)) {
                assertTrue(Float.isNaN(Float.float16ToFloat(got[i])), "NaN must stay NaN");
            } else {
                int index = i;
                assertEquals(Float.floatToFloat16(v), got[i],
                        () -> String.format("F16 of %s (%08x)", v, Float.floatToRawIntBits(v)) + " at " + index);
                if (Math.abs(v) < 65520f) {
                    assertNearestEven(v, got[i], DType.F16);
                }
            }
        }
    }

    @Test
    void floatToBf16RoundsToNearestEven() {
        Random random = TestWeights.random("floatToBf16");
        float[] values = roundingCases(random, 8, 7);
        short[] got = encode(DType.BF16, values);
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (Float.isNaN(v)) {
                assertTrue(Float.isNaN(Half.bf16ToFloat(got[i])), "NaN must stay NaN");
                continue;
            }
            assertEquals(Half.floatToBf16(v), got[i], String.format("BF16 of %s (%08x)", v, Float.floatToRawIntBits(v)));
            if (Math.abs(v) <= 0x1.fefp127f) {
                assertNearestEven(v, got[i], DType.BF16);
            }
        }
    }
}
