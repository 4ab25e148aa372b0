package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DecodeAttentionShapeTest {
    @Test
    void splitsFillOneWaveOfResidentBlocksButNeverExceedTheTiles() {
        // H100: 132 SMs, 4 partials blocks each = 528 resident blocks
        assertEquals(16, DecodeAttentionShape.splitsFor(4, 8, 4, 131072, 528), "528 resident blocks / 32 pairs");
        assertEquals(4, DecodeAttentionShape.splitsFor(16, 8, 4, 32768, 528), "floor(528 / 128): no second wave");
        assertEquals(33, DecodeAttentionShape.splitsFor(2, 8, 4, 65536, 528));
        assertEquals(8, DecodeAttentionShape.splitsFor(4, 8, 8, 131072, 528), "a group of 8 takes two blocks per split");
        assertEquals(1, DecodeAttentionShape.splitsFor(512, 8, 4, 32768, 528), "more pairs than resident blocks: one split");
        assertEquals(4, DecodeAttentionShape.splitsFor(1, 8, 4, 100, 528), "100 tokens are 4 tiles of 32");
        assertEquals(1, DecodeAttentionShape.splitsFor(1, 1, 1, 1, 528));
    }

    @Test
    void splitsForRefusesEmptySizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecodeAttentionShape.splitsFor(0, 8, 4, 100, 528));
        assertEquals("splitsFor needs positive sizes, got batch 0, kvHeads 8, groupSize 4, longest 100, residentBlocks 528",
                e.getMessage());
    }
}
