package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class GpuShapeBenchTest {
    @Test
    void eachTimedPassIsListedToATenthInItsOrder() {
        assertEquals("1391.5, 1649.6, 1655.2", GpuShapeBench.passes(List.of(1391.54, 1649.61, 1655.16)));
        assertEquals("", GpuShapeBench.passes(List.of()));
    }
}
