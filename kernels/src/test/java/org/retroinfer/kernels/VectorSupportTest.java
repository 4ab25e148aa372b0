package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VectorSupportTest {
    @Test
    void preferredSpeciesHasSeveralFloatLanes() {
        assertTrue(VectorSupport.requireLive().contains("float lanes"));
        assertTrue(VectorSupport.FLOAT.length() >= 4);
    }
}
