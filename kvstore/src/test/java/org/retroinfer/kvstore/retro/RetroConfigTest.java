package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;

class RetroConfigTest {
    private static void refused(Supplier<RetroConfig> config, String... mention) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, config::get);
        for (String m : mention) {
            assertTrue(e.getMessage().contains(m), "'" + m + "' in: " + e.getMessage());
        }
        System.out.println(e.getMessage());
    }

    @Test
    void defaultsAreThePapers() {
        RetroConfig c = RetroConfig.defaults();
        assertEquals(0.018, c.retrievalBudget());
        assertEquals(0.232, c.estimationBudget());
        assertEquals(4, c.sinks());
        assertEquals(64, c.window());
        assertEquals(16, c.clusterSize());
        assertEquals(8192, c.segmentTokens());
        assertEquals(1024, c.updateSegment());
        assertEquals(10, c.iterations());
        assertEquals(ComputePool.threads(), c.threads());
        assertEquals(4 + 64 + 1024, c.steadyCapacity());
    }

    @Test
    void everyKnobOutOfRangeIsRefusedByName() {
        RetroConfig d = RetroConfig.defaults();
        refused(() -> d.withBudgets(0, 0.2), "retrievalBudget", "(0, 1]", "got 0.0");
        refused(() -> d.withBudgets(1.5, 0.2), "retrievalBudget");
        refused(() -> d.withBudgets(0.1, -0.1), "estimationBudget", "[0, 1]");
        refused(() -> d.withBudgets(0.1, Double.NaN), "estimationBudget", "NaN");
        refused(() -> d.withSteadyZone(-1, 64, 1024), "sinks");
        refused(() -> d.withSteadyZone(4, -2, 1024), "window");
        refused(() -> d.withSteadyZone(4, 64, 4), "updateSegment", "[8, ");
        refused(() -> d.withThreads(0), "threads");
        refused(() -> d.withThreads(ComputePool.threads() + 1), "threads", "-Dretroinfer.threads");
        refused(() -> d.withStorage(DType.F32), "storage", "F32");
        refused(() -> new RetroConfig(0.1, 0.1, 4, 64, 0, 8192, 1024, 10, 1, DType.F16, 256), "clusterSize");
        refused(() -> new RetroConfig(0.1, 0.1, 4, 64, 16, 8, 1024, 10, 1, DType.F16, 256), "segmentTokens");
        refused(() -> new RetroConfig(0.1, 0.1, 4, 64, 16, 8192, 1024, 0, 1, DType.F16, 256), "iterations");
        refused(() -> new RetroConfig(0.1, 0.1, 4, 64, 16, 8192, 1024, 10, 1, DType.F16, 0), "pageTokens");
    }
}
