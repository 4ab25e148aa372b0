package org.retroinfer.accel.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TypedArrayTest {
    private static final long SEED = System.nanoTime();

    @Test
    void f32ArrayRoundTripsValuesAndVectors() {
        System.out.println("seed " + SEED);
        Random r = new Random(SEED);
        try (Arena arena = Arena.ofConfined()) {
            float[] values = new float[64];
            for (int i = 0; i < values.length; i++) {
                values[i] = r.nextFloat() * 100 - 50;
            }
            F32Array a = F32Array.of(arena, values);
            assertArrayEquals(values, a.toArray());
            Float4 v = a.getFloat4(8);
            assertEquals(new Float4(values[8], values[9], values[10], values[11]), v);
            a.setFloat4(60, new Float4(1, 2, 3, 4));
            assertEquals(3f, a.get(62));
            assertEquals(values[20], a.slice(16, 8).get(4));
        }
    }

    /** The register format of mmaBf16's operands: element i in the low half of a word, i + 1 in the high half. */
    @Test
    void halfArraysReadPairsAsWordsWithTheLowerIndexInTheLowHalf() {
        try (Arena arena = Arena.ofConfined()) {
            BF16Array a = BF16Array.allocate(arena, 16);
            for (int i = 0; i < 16; i++) {
                a.setBits(i, (short) (0x1100 * (i % 15) + i));
            }
            assertEquals((a.getBits(5) & 0xFFFF) << 16 | (a.getBits(4) & 0xFFFF), a.getWord(4));
            Int4 words = a.getWords(8);
            assertEquals(new Int4(a.getWord(8), a.getWord(10), a.getWord(12), a.getWord(14)), words);
            assertEquals(KMath.packBf16x2(a.get(12), a.get(13)), words.z());
            assertThrows(IllegalArgumentException.class, () -> a.getWord(3));
            assertThrows(IllegalArgumentException.class, () -> a.getWords(4 + 2));
        }
    }

    @Test
    void packingRoundsEachHalfToNearestEven() {
        // bfloat16 steps by 2^-7 above 1: 1 + 2^-8 is a tie that goes down to 1, 1 + 3·2^-8 one that goes up to 1 + 2^-6
        float tieDown = 1f + 0x1p-8f, tieUp = 1f + 3 * 0x1p-8f;
        int word = KMath.packBf16x2(tieDown, tieUp);
        assertEquals(1f, KMath.bf16ToFloat((short) word));
        assertEquals(1f + 0x1p-6f, KMath.bf16ToFloat((short) (word >>> 16)));
    }

    @Test
    void vectorAccessAtAnUnalignedIndexIsRejectedWithTheRule() {
        try (Arena arena = Arena.ofConfined()) {
            F32Array a = F32Array.allocate(arena, 16);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.getFloat4(6));
            assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> a.getFloat4(16));
        }
    }

    @Test
    void bf16RoundsToNearestEvenLikeAWideningReference() {
        Random r = new Random(SEED);
        for (int i = 0; i < 100_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(KMath.bf16ToFloat(KMath.floatToBf16(f))));
                continue;
            }
            float back = KMath.bf16ToFloat(KMath.floatToBf16(f));
            // reference: the nearer of the two bfloat16 neighbours (in magnitude), ties to the even one; the
            // neighbour above the largest finite bfloat16 is 2^128, which rounds to infinity
            int bits = Float.floatToRawIntBits(f);
            float down = Float.intBitsToFloat(bits & 0xFFFF0000);
            double step = Math.scalb(1.0, Math.max(Math.getExponent(down), -126) - 7);
            double dDown = Math.abs((double) f - down);
            double dUp = step - dDown;
            boolean roundUp = dUp < dDown || (dUp == dDown && ((bits >>> 16) & 1) == 1);
            float expected = roundUp ? Float.intBitsToFloat((bits & 0xFFFF0000) + 0x10000) : down;
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(back), "input " + f);
        }
    }

    @Test
    void halfArraysConvertOnReadAndWrite() {
        try (Arena arena = Arena.ofConfined()) {
            float[] values = {1f, -2.5f, 65504f, 1e-8f, 0.1f, 3.14159f, -0f, 7f};
            F16Array h = F16Array.of(arena, values);
            BF16Array b = BF16Array.of(arena, values);
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), h.get(i));
                assertEquals(KMath.bf16ToFloat(KMath.floatToBf16(values[i])), b.get(i));
            }
            Float8 v = h.getFloat8(0);
            assertEquals(h.get(5), v.s5());
            assertArrayEquals(new float[] {h.get(0), h.get(1)}, new float[] {v.s0(), v.s1()});
        }
    }

    @Test
    void i8ArrayPacksSixteenBytesLittleEndian() {
        try (Arena arena = Arena.ofConfined()) {
            byte[] bytes = new byte[32];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (i * 17 - 100);
            }
            I8Array a = I8Array.of(arena, bytes);
            Int4 v = a.getInt4(16);
            int expectedY = (bytes[20] & 0xFF) | (bytes[21] & 0xFF) << 8 | (bytes[22] & 0xFF) << 16 | bytes[23] << 24;
            assertEquals(expectedY, v.y());
        }
    }

    @Test
    void deviceArraysRefuseHostAccessAndNameTheArray() {
        F32Array d = F32Array.view(MemoryRegion.device(0x7f00_0000_0000L, 4096));
        assertEquals(1024, d.length());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.get(0));
        assertTrue(e.getMessage().contains("F32Array[1024]") && e.getMessage().contains("device memory"), e.getMessage());
        assertEquals(0x7f00_0000_0000L + 400, d.slice(100, 10).deviceAddress());
    }

    @Test
    void hostArraysHaveNoDeviceAddress() {
        try (Arena arena = Arena.ofConfined()) {
            I32Array a = I32Array.allocate(arena, 4);
            IllegalStateException e = assertThrows(IllegalStateException.class, a::deviceAddress);
            assertTrue(e.getMessage().contains("not visible to the device"), e.getMessage());
        }
    }
}
