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

/** The INT8 host-tier format's definition: levels, rounding, zero vectors and the packed layout. */
class Int8VectorsTest {
    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);

    @Test
    void everyValueIsWithinHalfAStepAndTheLargestMapsTo127() {
        float[] x = new float[HEAD_DIM];
        byte[] q = new byte[HEAD_DIM];
        for (int trial = 0; trial < 50; trial++) {
            float magnitude = (float) Math.pow(10, random.nextInt(9) - 6);
            int largest = random.nextInt(HEAD_DIM);
            for (int j = 0; j < HEAD_DIM; j++) x[j] = (float) random.nextGaussian() * magnitude;
            x[largest] = 8 * magnitude * (random.nextBoolean() ? 1 : -1);
            float scale = Int8Vectors.quantise(x, 0, q);
            assertEquals(8 * magnitude / 127, scale, "seed " + seed);
            assertEquals(x[largest] > 0 ? 127 : -127, q[largest], "seed " + seed);
            for (int j = 0; j < HEAD_DIM; j++) {
                float error = Math.abs(x[j] - Int8Vectors.dequantise(q[j], scale));
                assertTrue(error <= scale * 0.5001f, "element " + j + " off by " + error + ", scale " + scale + ", seed " + seed);
            }
        }
    }

    @Test
    void halfwayValuesRoundToEven() {
        float[] x = new float[2 * HEAD_DIM]; // the second vector: absmax 127, so the scale is exactly 1
        x[HEAD_DIM] = 127;
        float[] halves = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f};
        System.arraycopy(halves, 0, x, HEAD_DIM + 1, halves.length);
        byte[] q = new byte[HEAD_DIM];
        assertEquals(1f, Int8Vectors.quantise(x, 1, q));
        assertArrayEquals(new byte[] {127, 0, 2, 2, 0, -2, -2, 126, -126, 0}, Arrays.copyOf(q, 10));
    }

    @Test
    void aVectorOfZerosHasScaleZeroAndZeroLevels() {
        byte[] q = new byte[HEAD_DIM];
        Arrays.fill(q, (byte) 5);
        assertEquals(0f, Int8Vectors.quantise(new float[HEAD_DIM], 0, q));
        assertArrayEquals(new byte[HEAD_DIM], q);
    }

    @Test
    void byteJOfVectorIIsBits8TimesJMod4OfInt32iPlusJOver4() {
        try (Arena arena = Arena.ofConfined()) {
            byte[] q = new byte[HEAD_DIM];
            random.nextBytes(q);
            I32Array packed = I32Array.allocate(arena, 3L * Int8Vectors.INTS);
            Int8Vectors.store(q, packed, 2);
            for (int j = 0; j < HEAD_DIM; j++) {
                assertEquals(q[j], (byte) (packed.get(2 * 32 + j / 4) >>> (8 * (j % 4))), "byte " + j);
                assertEquals(q[j], Int8Vectors.get(packed, 2, j), "byte " + j);
            }
            assertEquals(0, packed.get(0), "vector 0 untouched");
        }
    }
}
