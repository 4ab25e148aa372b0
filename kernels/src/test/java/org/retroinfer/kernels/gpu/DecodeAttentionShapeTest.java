package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DecodeAttentionShapeTest {
    @Test
    void splitsAimAtSixteenBlocksPerSmButNeverExceedTheTiles() {
        // H100: 132 SMs, 16 blocks each = 2112 blocks
        assertEquals(66, DecodeAttentionShape.splitsFor(4, 8, 131072, 132), "2112 / 32 pairs");
        assertEquals(17, DecodeAttentionShape.splitsFor(16, 8, 32768, 132), "ceil(2112 / 128)");
        assertEquals(1, DecodeAttentionShape.splitsFor(512, 8, 32768, 132), "more pairs than the target: one split");
        assertEquals(4, DecodeAttentionShape.splitsFor(1, 8, 100, 132), "100 tokens are 4 tiles of 32");
        assertEquals(1, DecodeAttentionShape.splitsFor(1, 1, 1, 132));
    }

    @Test
    void splitsForRefusesEmptySizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecodeAttentionShape.splitsFor(0, 8, 100, 132));
        assertEquals("splitsFor needs positive sizes, got batch 0, kvHeads 8, longest 100, multiprocessors 132",
                e.getMessage());
    }
}
