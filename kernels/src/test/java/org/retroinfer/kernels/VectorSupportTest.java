package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

class VectorSupportTest {
    @Test
    void preferredSpeciesHasSeveralFloatLanes() {
        assertTrue(VectorSupport.requireLive().contains("float lanes"));
        assertTrue(VectorSupport.FLOAT.length() >= 4);
    }

    @Test
    void theSpeciesFollowTheRequestedWidth() {
        int bits = Integer.getInteger("retroinfer.vectorBits", VectorShape.preferredShape().vectorBitSize());
        System.out.println("kernels run with " + VectorSupport.requireLive());
        assertEquals(bits, VectorSupport.FLOAT.vectorBitSize());
        assertEquals(VectorSupport.FLOAT.length(), VectorSupport.HALF.length());
        assertEquals(VectorSupport.FLOAT.length(), VectorSupport.INT.length());
        assertEquals(Math.max(8, VectorSupport.FLOAT.length()), VectorSupport.BYTE.length());
    }
}
