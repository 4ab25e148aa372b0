package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DequantizeTest {
    /**
     * Decoding is exact for every type: F16/BF16 widen exactly, and a quantised value d·q has at
     * most 11 + 8 significant bits, so the float product is the float64 one.
     */
    @ParameterizedTest
    @EnumSource(DType.class)
    void rowsDecodeExactlyToTheFormatDefinition(DType type) {
        Random random = TestWeights.random("dequantize " + type);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 20; trial++) {
                int rows = 1 + random.nextInt(5);
                int cols = type.isQuantized() ? 32 * (1 + random.nextInt(20)) : 1 + random.nextInt(200);
                WeightMatrix w = TestWeights.matrix(arena, random, type, rows, cols);
                int pad = random.nextInt(3);
                for (int r = 0; r < rows; r++) {
                    float[] out = TestWeights.poisoned(pad + cols + 2);
                    w.readRow(r, out, pad);
                    for (int c = 0; c < cols; c++) {
                        float expected = (float) TestWeights.value(w, r, c);
                        assertEquals(expected, out[pad + c], type + " row " + r + " col " + c);
                        assertEquals(expected, w.get(r, c), type + " get(" + r + ", " + c + ")");
                    }
                    for (int i = 0; i < out.length; i++) {
                        if (i < pad || i >= pad + cols) {
                            assertTrue(Float.isNaN(out[i]), "readRow wrote outside its row at " + i);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
    void aCountThatIsNotWholeBlocksIsRejected(DType type) {
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix w = TestWeights.matrix(arena, new Random(7), type, 1, 64);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Dequantize.row(type, w.data(), 0, 40, new float[40], 0));
            assertEquals(type + " stores blocks of 32 values; 40 values is not a whole number of blocks", e.getMessage());
        }
    }
}
