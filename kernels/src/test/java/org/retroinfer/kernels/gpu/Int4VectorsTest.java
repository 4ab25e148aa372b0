package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.kernel.I32Array;

/** The INT4 host-tier format's definition: group scales, levels, rounding, zero groups and the packed layout. */
class Int4VectorsTest {
    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);

    @Test
    void eachGroupHasItsOwnScaleAndEveryValueIsWithinHalfAStep() {
        float[] x = new float[HEAD_DIM];
        byte[] q = new byte[HEAD_DIM];
        float[] scales = new float[Int4Vectors.GROUPS];
        for (int trial = 0; trial < 50; trial++) {
            for (int g = 0; g < Int4Vectors.GROUPS; g++) {
                float magnitude = (float) Math.pow(10, random.nextInt(9) - 6);
                for (int j = 0; j < Int4Vectors.GROUP; j++) x[g * Int4Vectors.GROUP + j] = (float) random.nextGaussian() * magnitude;
                int largest = g * Int4Vectors.GROUP + random.nextInt(Int4Vectors.GROUP);
                x[largest] = 8 * magnitude * (random.nextBoolean() ? 1 : -1);
            }
            Int4Vectors.quantise(x, 0, q, scales);
            for (int g = 0; g < Int4Vectors.GROUPS; g++) {
                float absmax = 0;
                for (int j = 0; j < Int4Vectors.GROUP; j++) absmax = Math.max(absmax, Math.abs(x[g * Int4Vectors.GROUP + j]));
                float exact = absmax / 7;
                assertEquals(Int4Vectors.toBf16(exact), scales[g], "group " + g + ", seed " + seed);
                assertTrue(Math.abs(scales[g] - exact) <= exact * 0x1p-8f, "group " + g + ": " + scales[g] + " is not "
                        + exact + " to BF16's precision, seed " + seed);
            }
            for (int j = 0; j < HEAD_DIM; j++) {
                float scale = scales[j / Int4Vectors.GROUP];
                assertTrue(Math.abs(q[j]) <= 7, "level " + q[j]);
                float error = Math.abs(x[j] - Int4Vectors.dequantise(q[j], scale));
                assertTrue(error <= scale * 0.5001f, "element " + j + " off by " + error + ", scale " + scale + ", seed " + seed);
            }
        }
    }

    @Test
    void halfwayValuesRoundToEvenAndTheLargestMapsTo7() {
        float[] x = new float[2 * HEAD_DIM]; // the second vector's first group: absmax 7, so the scale is exactly 1
        x[HEAD_DIM] = -7;
        float[] halves = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 6.5f, -6.5f};
        System.arraycopy(halves, 0, x, HEAD_DIM + 1, halves.length);
        byte[] q = new byte[HEAD_DIM];
        float[] scales = new float[Int4Vectors.GROUPS];
        Int4Vectors.quantise(x, 1, q, scales);
        assertArrayEquals(new float[] {1, 0, 0, 0}, scales, "a group of zeros has scale 0");
        assertArrayEquals(new byte[] {-7, 0, 2, 2, 0, -2, -2, 6, -6, 0}, Arrays.copyOf(q, 10));
        assertArrayEquals(new byte[HEAD_DIM - Int4Vectors.GROUP], Arrays.copyOfRange(q, Int4Vectors.GROUP, HEAD_DIM));
    }

    @Test
    void levelJOfVectorIIsTheSignedNibbleAtBits4TimesJMod8OfInt16iPlusJOver8() {
        try (Arena arena = Arena.ofConfined()) {
            byte[] q = new byte[HEAD_DIM];
            for (int j = 0; j < HEAD_DIM; j++) q[j] = (byte) (random.nextInt(16) - 8);
            I32Array packed = I32Array.allocate(arena, 3L * Int4Vectors.INTS);
            Int4Vectors.store(q, packed, 2);
            for (int j = 0; j < HEAD_DIM; j++) {
                int nibble = packed.get(2 * 16 + j / 8) >>> (4 * (j % 8)) & 0xF;
                assertEquals(q[j], nibble >= 8 ? nibble - 16 : nibble, "level " + j);
                assertEquals(q[j], Int4Vectors.get(packed, 2, j), "level " + j);
            }
            assertEquals(0, packed.get(0), "vector 0 untouched");
        }
    }

    @Test
    void scalesAreBf16PairsGroup2gInTheLowHalfOfAnIntAndGroup2gPlus1InTheHigh() {
        try (Arena arena = Arena.ofConfined()) {
            I32Array scales = I32Array.allocate(arena, 3L * Int4Vectors.SCALE_INTS);
            Int4Vectors.storeScales(new float[] {0.25f, 3f, 0f, 5f}, scales, 2);
            assertEquals(Float.floatToRawIntBits(0.25f) >>> 16 | Float.floatToRawIntBits(3f) & 0xFFFF0000, scales.get(4));
            assertEquals(Float.floatToRawIntBits(5f) & 0xFFFF0000, scales.get(5));
            assertEquals(0, scales.get(0), "vector 0 untouched");
            assertEquals(0.25f, Int4Vectors.scale(scales, 2, 31), "element 31 takes group 0's scale");
            assertEquals(3f, Int4Vectors.scale(scales, 2, 32), "element 32 takes group 1's scale");
            assertEquals(5f, Int4Vectors.scale(scales, 2, 127), "element 127 takes group 3's scale");
        }
    }

    @Test
    void aScaleRoundsToTheNearestBf16WithTiesToEven() {
        assertEquals(1f, Int4Vectors.toBf16(1 + 0x1p-8f), "halfway between 1 and its even neighbour's up: down to even");
        assertEquals(1 + 0x1p-6f, Int4Vectors.toBf16(1 + 3 * 0x1p-8f), "halfway up from an odd BF16: up to even");
        assertEquals(1 + 0x1p-7f, Int4Vectors.toBf16(1 + 0x1p-8f + 0x1p-20f), "past halfway: up");
        assertEquals(1f, Int4Vectors.toBf16(1 + 0x1p-8f - 0x1p-20f), "short of halfway: down");
        assertEquals(0f, Int4Vectors.toBf16(0f));
        assertEquals(Float.MIN_VALUE * 0, Int4Vectors.toBf16(Float.MIN_VALUE), "the smallest subnormal rounds to 0");
        for (int i = 0; i < 1000; i++) {
            float x = Math.abs((float) (random.nextGaussian() * Math.pow(10, random.nextInt(20) - 10)));
            float r = Int4Vectors.toBf16(x);
            assertEquals(0, Float.floatToRawIntBits(r) & 0xFFFF, "a BF16 has no low bits");
            assertTrue(Math.abs(r - x) <= Math.ulp(x) * 0x1p15f, x + " -> " + r + ", seed " + seed);
        }
    }
}
