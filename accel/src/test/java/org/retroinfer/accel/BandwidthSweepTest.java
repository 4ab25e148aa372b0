package org.retroinfer.accel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.MockNatives;
import org.retroinfer.accel.examples.StreamingKernel;

/**
 * The sweep's plumbing against the mock driver, which moves bytes but runs no kernel: every kernel shape
 * appears at every block size (and number of waves, for grid-stride loops) with the grid occupancy gives,
 * every run is checked (so all fail here), and no failed run can be reported as the best.
 */
class BandwidthSweepTest {
    @Test
    void sweepRunsEveryShapeAtEveryGridAndChecksEachRun() {
        try (Gpu gpu = Gpu.open(CudaDriver.load(MockNatives.libcuda().toString()), 0, false)) {
            BandwidthSweep.Outcome outcome = BandwidthSweep.run(gpu, 1 << 20, 3, 7, 100.0);
            @SuppressWarnings("unchecked")
            List<Object> runs = (List<Object>) outcome.report().get("runs");
            int expected = 0;
            for (StreamingKernel k : StreamingKernel.sweep()) {
                int shapes = (k.gridStride() ? BandwidthSweep.WAVES.size() : 1) * BandwidthSweep.BLOCK_SIZES.size();
                long found = runs.stream().map(o -> (Json.Obj) o).filter(o -> o.get("name").equals(k.name())).count();
                assertEquals(shapes, found, k.name());
                expected += shapes;
            }
            assertEquals(expected, runs.size());
            assertEquals(expected, outcome.failures(), "the mock runs no kernel, so every check must fail");
            // the mock fits 2048 / blockSize blocks on each of its 132 SMs
            Json.Obj copy16 = runs.stream().map(o -> (Json.Obj) o).filter(o -> o.get("name").equals("copy.float4")
                    && o.get("blockSize").equals(512) && o.get("waves").equals(16)).findFirst().orElseThrow();
            assertEquals("grid(8448,1,1) block(512,1,1)", copy16.get("grid"));
            assertTrue(runs.stream().map(o -> (Json.Obj) o).filter(o -> Boolean.TRUE.equals(o.get("default"))).count() == 2,
                    "one default run each for the copy and the sum");
            assertNull(((Json.Obj) outcome.report().get("bestCopy")).get("name"));
            assertNull(((Json.Obj) outcome.report().get("bestSum")).get("name"));
        }
    }
}
