package org.retroinfer.kvstore.wave;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.DType;
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

    /** Beside a sibling device's work the gather runs on a few blocks that each take many groups' work: the same buffers. */
    @Test
    void besideAnotherDevicesWorkTheGatherOnFewerBlocksAssemblesTheSameBuffers() {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("wave buffer beside a sibling: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        try (EmulatedDevice device = new EmulatedDevice(); var sibling = device.sibling()) {
            assertTrue(device.sharesGpu());
            WaveBufferCheck.Result r = WaveBufferCheck.run(device, new Random(seed), 3, 300, 12);
            assertTrue(r.hits() > 0 && r.hits() < r.accessed(), "hits and misses both: " + r);
        }
    }

    /**
     * The LRU update may run in the background after the attention is enqueued (GpuRetroKvCache defers it to the next
     * layer's gather), but a lookup reads the tables it writes: one before the admission's launch is refused, and a
     * launch without a started update too.
     */
    @Test
    void aLookupWhileTheLruUpdateIsPendingIsRefused() {
        try (EmulatedDevice device = new EmulatedDevice();
             WaveBuffer buffer = new WaveBuffer(device, 1, 4, 64, 8, 8)) {
            buffer.table(0).addCluster(0, 16);
            buffer.steadyLength(0, 0);
            IllegalStateException early = assertThrows(IllegalStateException.class, buffer::launchAdmission);
            assertEquals("launchAdmission() needs a startUpdate() first", early.getMessage());
            buffer.assemble(new int[][] {{0}}, new int[] {1});
            buffer.startUpdate();
            IllegalStateException pending = assertThrows(IllegalStateException.class,
                    () -> buffer.assemble(new int[][] {{0}}, new int[] {1}));
            assertEquals("the LRU update of the last assembly is pending: launchAdmission() first", pending.getMessage());
            buffer.launchAdmission();
            buffer.assemble(new int[][] {{0}}, new int[] {1});
            buffer.admit();
            assertEquals(1, buffer.hitCounts()[0], "the second access found the cluster the first admitted");
        }
    }

    /**
     * All groups' steady lengths in one copy: the gather assembles each group's steady zone at its length; a count other
     * than one a group, or a length past the stride, is refused.
     */
    @Test
    void steadyLengthsSetAtOnceAreEachGroupsSteadyZone() {
        try (EmulatedDevice device = new EmulatedDevice();
             WaveBuffer buffer = new WaveBuffer(device, 3, 4, 64, 8, 8)) {
            buffer.steadyLengths(new int[] {3, 0, 4});
            buffer.assemble(new int[][] {{}, {}, {}}, new int[] {0, 0, 0});
            device.synchronize();
            assertEquals(3, buffer.validLengths().get(0));
            assertEquals(0, buffer.validLengths().get(1));
            assertEquals(4, buffer.validLengths().get(2));
            assertThrows(IllegalArgumentException.class, () -> buffer.steadyLengths(new int[] {1, 1}));
            assertThrows(IllegalArgumentException.class, () -> buffer.steadyLengths(new int[] {1, 5, 1}));
        }
    }

    /** Steady lengths in their owner's device array (GpuRetroKvCache's zone arrays) are not the buffer's to set. */
    @Test
    void steadyLengthsItsOwnerWritesAreRefusedToTheSetters() {
        try (EmulatedDevice device = new EmulatedDevice()) {
            var steady = device.i32(2);
            var exec = ExecutionBuffer.allocate(device, 2, 4, 8);
            try (WaveBuffer buffer = new WaveBuffer(device, 2, 4, 64, 8, 8, exec, false, StoreFormat.HALF,
                    DType.BF16, null, steady)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> buffer.steadyLengths(new int[] {1, 1}));
                assertEquals("this wave buffer's steady lengths are written by the owner of their device array", e.getMessage());
                assertThrows(IllegalStateException.class, () -> buffer.steadyLength(0, 1));
            }
            exec.free(device);
            device.free(steady);
        }
    }
}
