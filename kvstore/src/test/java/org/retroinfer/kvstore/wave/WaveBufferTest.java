package org.retroinfer.kvstore.wave;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;

/**
 * The wave buffer on the emulated device, through the real gather and admission kernels ({@link WaveBufferCheck}):
 * after each assembly every group's execution buffer holds its steady zone, then its ranked clusters' own vectors
 * (misses, then hits), step after step while the cache fills and evicts.
 */
class WaveBufferTest {
    @Test
    void eachAssemblyHoldsTheSteadyZoneThenTheRankedClustersVectors() {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("wave buffer: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        try (EmulatedDevice device = new EmulatedDevice()) {
            WaveBufferCheck.Result r = WaveBufferCheck.run(device, new Random(seed), 2, 300, 12);
            assertTrue(r.hits() > 0, "some clusters came back from the cache: " + r);
            assertTrue(r.hits() < r.accessed(), "some clusters were missed: " + r);
        }
    }
}
