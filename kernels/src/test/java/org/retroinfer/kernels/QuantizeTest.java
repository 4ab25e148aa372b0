package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantizeTest {
    private static final int BLOCKS = 64;

    /**
     * An independent transcription of ggml's quantize_row_q8_0_ref, rounding with BigDecimal's
     * HALF_UP (ties away from zero, as C's roundf) instead of the production code's floor trick.
     */
    private static byte[] referenceQ8_0(float[] x) {
        byte[] out = new byte[x.length / 32 * 34];
        for (int i = 0; i < x.length / 32; i++) {
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) {
                float a = x[i * 32 + j] < 0 ? -x[i * 32 + j] : x[i * 32 + j];
                amax = amax > a ? amax : a;
            }
            float d = amax / 127.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            short h = Float.floatToFloat16(d);
            out[i * 34] = (byte) h;
            out[i * 34 + 1] = (byte) (h >> 8);
            for (int j = 0; j < 32; j++) {
                float scaled = x[i * 32 + j] * id;
                out[i * 34 + 2 + j] = new BigDecimal(scaled).setScale(0, RoundingMode.HALF_UP).byteValueExact();
            }
        }
        return out;
    }

    /** An independent transcription of ggml's quantize_row_q4_0_ref (truncation via BigDecimal DOWN). */
    private static byte[] referenceQ4_0(float[] x) {
        byte[] out = new byte[x.length / 32 * 18];
        for (int i = 0; i < x.length / 32; i++) {
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < 32; j++) {
                float v = x[i * 32 + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            short h = Float.floatToFloat16(d);
            out[i * 18] = (byte) h;
            out[i * 18 + 1] = (byte) (h >> 8);
            for (int j = 0; j < 16; j++) {
                float s0 = x[i * 32 + j] * id + 8.5f;
                float s1 = x[i * 32 + 16 + j] * id + 8.5f;
                int q0 = Math.min(15, new BigDecimal(s0).setScale(0, RoundingMode.DOWN).intValueExact());
                int q1 = Math.min(15, new BigDecimal(s1).setScale(0, RoundingMode.DOWN).intValueExact());
                out[i * 18 + 2 + j] = (byte) (q0 | q1 << 4);
            }
        }
        return out;
    }

    /** Blocks of Gaussian values with a spread of scales, one all-zero block and some outliers. */
    private static float[] randomBlocks(Random random) {
        float[] x = new float[BLOCKS * 32];
        for (int b = 0; b < BLOCKS; b++) {
            float scale = (float) Math.pow(10, random.nextInt(7) - 4);
            for (int j = 0; j < 32; j++) {
                x[b * 32 + j] = b == 3 ? 0.0f : (float) random.nextGaussian() * scale;
            }
            if (b % 5 == 1) {
                x[b * 32 + random.nextInt(32)] = 20 * scale * (random.nextBoolean() ? 1 : -1);
            }
        }
        return x;
    }

    private static byte[] quantize(DType type, float[] x) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(type.byteSize(x.length) + 8);
            out.fill((byte) 0x5A);
            Quantize.row(type, x, 0, x.length, out, 4);
            assertEquals((byte) 0x5A, out.get(ValueLayout.JAVA_BYTE, 3), "wrote before its offset");
            assertEquals((byte) 0x5A, out.get(ValueLayout.JAVA_BYTE, 4 + type.byteSize(x.length)), "wrote past its end");
            return out.asSlice(4, type.byteSize(x.length)).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static float[] dequantize(DType type, byte[] blocks, int n) {
        float[] out = new float[n];
        java.util.Arrays.fill(out, Float.NaN);
        Dequantize.row(type, MemorySegment.ofArray(blocks), 0, n, out, 0);
        return out;
    }

    @Test
    void q8_0MatchesGgmlReferenceBitForBit() {
        long seed = System.nanoTime();
        System.out.println("q8_0MatchesGgmlReferenceBitForBit seed " + seed);
        float[] x = randomBlocks(new Random(seed));
        assertArrayEquals(referenceQ8_0(x), quantize(DType.Q8_0, x), "seed " + seed);
    }

    @Test
    void q4_0MatchesGgmlReferenceBitForBit() {
        long seed = System.nanoTime();
        System.out.println("q4_0MatchesGgmlReferenceBitForBit seed " + seed);
        float[] x = randomBlocks(new Random(seed));
        assertArrayEquals(referenceQ4_0(x), quantize(DType.Q4_0, x), "seed " + seed);
    }

    @Test
    void q8_0RoundsHalvesAwayFromZero() {
        // amax = 127 gives d = 1 and id = 1 exactly, so x·id is x and the ties are real ties.
        float[] x = new float[32];
        x[0] = 127;
        x[1] = -2.5f;
        x[2] = 2.5f;
        x[3] = -0.5f;
        x[4] = 0.49999997f;
        x[5] = -126.5f;
        byte[] q = quantize(DType.Q8_0, x);
        assertEquals(1.0f, Float.float16ToFloat((short) ((q[0] & 0xFF) | q[1] << 8)));
        assertEquals(127, q[2]);
        assertEquals(-3, q[3]);
        assertEquals(3, q[4]);
        assertEquals(-1, q[5]);
        assertEquals(0, q[6]);
        assertEquals(-127, q[7]);
    }

    @Test
    void q4_0MapsTheSignedMaximumToNibbleZeroAndClampsItsOpposite() {
        float[] x = new float[32];
        x[0] = -8;      // the largest magnitude, negative: d = 1
        x[1] = 8;       // its opposite: x·id + 8.5 = 16.5, truncated to 16, clamped to 15
        x[2] = -0.5f;   // 8.0 → 8
        x[3] = 0.5f;    // 9.0 → 9
        x[16] = 7.4f;   // 15.9 → 15
        x[17] = -7.6f;  // 0.9 → 0
        byte[] q = quantize(DType.Q4_0, x);
        assertEquals(1.0f, Float.float16ToFloat((short) ((q[0] & 0xFF) | q[1] << 8)));
        assertEquals(0, q[2] & 0x0F);
        assertEquals(15, q[3] & 0x0F);
        assertEquals(8, q[4] & 0x0F);
        assertEquals(9, q[5] & 0x0F);
        assertEquals(15, (q[2] & 0xFF) >>> 4);
        assertEquals(0, (q[3] & 0xFF) >>> 4);
        assertEquals(8, (q[6] & 0xFF) >>> 4, "zero maps to nibble 8");
    }

    /**
     * |x − x̂| ≤ d/2 for Q8_0, where x̂ = d16·q, d = amax/127 and d16 its F16 rounding: q is x/d rounded
     * to nearest, so x − d·q is at most d/2, and storing d16 instead of d adds |q|·|d − d16|. A float
     * ulp of amax covers the rounding of x·(1/d).
     */
    @Test
    void q8_0DequantisedErrorIsWithinHalfAStep() {
        long seed = System.nanoTime();
        System.out.println("q8_0DequantisedErrorIsWithinHalfAStep seed " + seed);
        float[] x = randomBlocks(new Random(seed));
        byte[] q = quantize(DType.Q8_0, x);
        float[] y = dequantize(DType.Q8_0, q, x.length);
        for (int b = 0; b < BLOCKS; b++) {
            double amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[b * 32 + j]));
            }
            double d = amax / 127;
            double d16 = Float.float16ToFloat((short) ((q[b * 34] & 0xFF) | q[b * 34 + 1] << 8));
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                double bound = d / 2 + Math.abs(q[b * 34 + 2 + j]) * Math.abs(d - d16) + 2 * Math.ulp((float) amax);
                assertTrue(Math.abs(x[i] - y[i]) <= bound,
                        "seed " + seed + " value " + i + ": " + x[i] + " came back as " + y[i] + ", bound " + bound);
            }
        }
    }

    /**
     * For Q4_0, with d = max/−8 (|d| = amax/8) and s = x/d in [−8, 8]: the nibble is s rounded to
     * nearest (halves up) plus 8, clamped to 15. Unclamped (s &lt; 7.5) the error is at most |d|/2;
     * clamped (s in [7.5, 8], values opposite in sign to max and near amax) the nibble stands for 7,
     * so the error is at most |d|. The F16 scale adds |q − 8|·|d − d16| as for Q8_0.
     */
    @Test
    void q4_0DequantisedErrorIsWithinHalfAStepOrOneStepWhereClamped() {
        long seed = System.nanoTime();
        System.out.println("q4_0DequantisedErrorIsWithinHalfAStepOrOneStepWhereClamped seed " + seed);
        float[] x = randomBlocks(new Random(seed));
        byte[] q = quantize(DType.Q4_0, x);
        float[] y = dequantize(DType.Q4_0, q, x.length);
        int clamped = 0;
        for (int b = 0; b < BLOCKS; b++) {
            double amax = 0;
            double max = 0;
            for (int j = 0; j < 32; j++) {
                if (Math.abs(x[b * 32 + j]) > amax) {
                    amax = Math.abs(x[b * 32 + j]);
                    max = x[b * 32 + j];
                }
            }
            double d = max / -8;
            double d16 = Float.float16ToFloat((short) ((q[b * 18] & 0xFF) | q[b * 18 + 1] << 8));
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                int packed = q[b * 18 + 2 + j % 16] & 0xFF;
                int nibble = j < 16 ? packed & 0x0F : packed >>> 4;
                double s = d == 0 ? 0 : x[i] / d;
                double step = s >= 7.5 ? Math.abs(d) : Math.abs(d) / 2;
                clamped += s >= 7.5 ? 1 : 0;
                double bound = step + Math.abs(nibble - 8) * Math.abs(d - d16) + 2 * Math.ulp((float) amax);
                assertTrue(Math.abs(x[i] - y[i]) <= bound,
                        "seed " + seed + " value " + i + ": " + x[i] + " came back as " + y[i] + ", bound " + bound);
            }
        }
        System.out.println("values clamped to nibble 15: " + clamped);
    }

    @Test
    void sixteenBitTypesRoundToNearestEvenAndF32IsExact() {
        float[] x = {1.0f, Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), -3.25f, 65520f};
        byte[] bf16 = quantize(DType.BF16, x);
        // 0x3F808000 is halfway between 0x3F80 and 0x3F81: ties go to the even 0x3F80;
        // 0x3F818000 is halfway between 0x3F81 and 0x3F82: ties go to the even 0x3F82.
        assertEquals(0x3F80, (bf16[2] & 0xFF) | (bf16[3] & 0xFF) << 8);
        assertEquals(0x3F82, (bf16[4] & 0xFF) | (bf16[5] & 0xFF) << 8);
        float[] f16 = dequantize(DType.F16, quantize(DType.F16, x), x.length);
        assertEquals(Float.POSITIVE_INFINITY, f16[4], "65520 is the F16 rounding boundary to infinity");
        assertArrayEquals(x, dequantize(DType.F32, quantize(DType.F32, x), x.length));
    }

    @Test
    void nonFiniteValuesAndPartialBlocksAreRefused() {
        float[] x = new float[32];
        x[7] = Float.NaN;
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> quantize(DType.Q8_0, x));
        assertTrue(nan.getMessage().contains("value 7 is NaN"), nan.getMessage());
        float[] big = new float[32];
        big[0] = 1e7f;
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> quantize(DType.Q4_0, big));
        assertTrue(range.getMessage().contains("F16 range"), range.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(64);
            IllegalArgumentException partial = assertThrows(IllegalArgumentException.class,
                    () -> Quantize.quantizeQ8_0(new float[40], 0, 40, out, 0));
            assertTrue(partial.getMessage().contains("whole blocks of 32"), partial.getMessage());
        }
    }
}
