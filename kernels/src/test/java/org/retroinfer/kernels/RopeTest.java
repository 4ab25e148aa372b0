package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RopeTest {
    @ParameterizedTest
    @EnumSource(Rope.Pairing.class)
    void rotationMatchesTheFloat64ReferenceForEveryPairing(Rope.Pairing pairing) {
        Random random = TestWeights.random("rope " + pairing);
        for (int headDim : new int[] {2, 6, 8, 16, 34, 64, 80, 96, 128, 130, 256}) {
            int half = headDim / 2;
            int off = random.nextInt(7);
            int csOff = random.nextInt(7);
            float[] x = TestWeights.gaussian(random, off + headDim + 3);
            float[] cos = new float[csOff + half];
            float[] sin = new float[csOff + half];
            double position = random.nextInt(100_000);
            for (int i = 0; i < half; i++) {
                double angle = position * Math.pow(500_000, -2.0 * i / headDim);
                cos[csOff + i] = (float) Math.cos(angle);
                sin[csOff + i] = (float) Math.sin(angle);
            }
            float[] rotated = x.clone();
            Rope.rotate(rotated, off, headDim, cos, sin, csOff, pairing);
            for (int i = 0; i < half; i++) {
                int a = off + (pairing == Rope.Pairing.HALVES ? i : 2 * i);
                int b = off + (pairing == Rope.Pairing.HALVES ? i + half : 2 * i + 1);
                double c = cos[csOff + i], s = sin[csOff + i];
                double expectedA = x[a] * c - x[b] * s;
                double expectedB = x[a] * s + x[b] * c;
                // two rounded products and one rounded sum
                double toleranceA = 2 * TestWeights.U * (Math.abs(x[a] * c) + Math.abs(x[b] * s)) + Float.MIN_VALUE;
                double toleranceB = 2 * TestWeights.U * (Math.abs(x[a] * s) + Math.abs(x[b] * c)) + Float.MIN_VALUE;
                assertTrue(Math.abs(rotated[a] - expectedA) <= toleranceA, pairing + " d " + headDim + " pair " + i
                        + ": " + rotated[a] + ", expected " + expectedA);
                assertTrue(Math.abs(rotated[b] - expectedB) <= toleranceB, pairing + " d " + headDim + " pair " + i
                        + ": " + rotated[b] + ", expected " + expectedB);
            }
            for (int i = 0; i < x.length; i++) {
                if (i < off || i >= off + headDim) {
                    assertEquals(x[i], rotated[i], "rotate wrote outside the head at " + i);
                }
            }
        }
    }
}
