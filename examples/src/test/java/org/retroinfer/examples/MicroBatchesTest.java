package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.RmsNorm;

/**
 * The bench's micro-batches: each on a sibling of the first device (sharing its memory) and a thread of its own, at
 * the same time, computing what the first device computes alone. (That a decode step's rows do not depend on the
 * other rows of the batch, which makes micro-batches decode the tokens of one batch, is the transformer's own
 * business; a step on the emulator takes seconds a linear layer.)
 */
class MicroBatchesTest {
    private static final KernelMethod NORM = KernelMethod.of(RmsNorm.class, "rows");
    private static final int ROWS = 8, WIDTH = 64;

    @Test
    void siblingsLaunchingAtOnceOnTheFirstDevicesArraysComputeWhatItComputesAlone() {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        Random random = new Random(seed);
        try (EmulatedDevice device = new EmulatedDevice(); MicroBatches lanes = new MicroBatches(device, 2)) {
            F32Array x = random(device, ROWS * WIDTH, random), weight = random(device, WIDTH, random);
            F32Array alone = device.f32(ROWS * WIDTH), together = device.f32(ROWS * WIDTH);
            device.launch(NORM, Grid.of(ROWS, RmsNorm.ROW_THREADS), x, weight, alone, WIDTH, 1e-5f);
            // each micro-batch normalises its half of the rows, several times over, on its own device and thread
            int half = ROWS / 2;
            lanes.run(m -> {
                for (int i = 0; i < 3; i++) {
                    lanes.devices().get(m).launch(NORM, Grid.of(half, RmsNorm.ROW_THREADS), x.slice((long) m * half * WIDTH,
                            (long) half * WIDTH), weight, together.slice((long) m * half * WIDTH, (long) half * WIDTH), WIDTH, 1e-5f);
                }
            });
            for (long i = 0; i < (long) ROWS * WIDTH; i++) {
                assertEquals(Float.floatToRawIntBits(alone.get(i)), Float.floatToRawIntBits(together.get(i)),
                        "element " + i + " (seed " + seed + ")");
            }
        }
    }

    private static F32Array random(EmulatedDevice device, int n, Random random) {
        F32Array a = device.f32(n);
        for (int i = 0; i < n; i++) {
            a.set(i, (float) random.nextGaussian());
        }
        return a;
    }

    @Test
    void microBatchesRunAtOnceOnSiblingsThatShareTheGpuUntilClosed() {
        try (EmulatedDevice device = new EmulatedDevice()) {
            assertFalse(device.sharesGpu());
            try (MicroBatches lanes = new MicroBatches(device, 2)) {
                assertEquals(2, lanes.devices().size());
                assertTrue(device.sharesGpu());
                assertTrue(lanes.devices().get(1).sharesGpu());
                // each waits for the other to start: one thread after the other would time out
                CountDownLatch started = new CountDownLatch(2);
                lanes.run(m -> {
                    started.countDown();
                    try {
                        assertTrue(started.await(10, TimeUnit.SECONDS), "micro-batch " + m + " ran alone");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            assertFalse(device.sharesGpu());
        }
    }

    @Test
    void aFailingMicroBatchFailsTheRunWithItsOwnError() {
        try (EmulatedDevice device = new EmulatedDevice(); MicroBatches lanes = new MicroBatches(device, 2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> lanes.run(m -> {
                if (m == 1) {
                    throw new IllegalStateException("micro-batch 1 failed");
                }
            }));
            assertEquals("micro-batch 1 failed", e.getMessage());
        }
    }
}
