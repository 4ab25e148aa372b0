package org.retroinfer.accel.emulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;

class EmulatorTest {
    private static final long SEED = System.nanoTime();
    private final Emulator emulator = new Emulator(Duration.ofSeconds(10));

    @Test
    void sharedMemoryTreeReductionMatchesAFloat64Sum() {
        System.out.println("seed " + SEED);
        Random r = new Random(SEED);
        int n = 1000;
        int blocks = (n + EmulatorTestKernels.BLOCK - 1) / EmulatorTestKernels.BLOCK;
        try (Arena arena = Arena.ofShared()) {
            F32Array in = F32Array.allocate(arena, n);
            for (int i = 0; i < n; i++) {
                in.set(i, r.nextFloat() - 0.5f);
            }
            F32Array out = F32Array.allocate(arena, blocks);
            out.fill(Float.NaN);
            emulator.launch(EmulatorTestKernels.class, "blockSums", Grid.of(blocks, EmulatorTestKernels.BLOCK), in, out, n);
            for (int b = 0; b < blocks; b++) {
                double expected = 0;
                for (int i = b * EmulatorTestKernels.BLOCK; i < Math.min(n, (b + 1) * EmulatorTestKernels.BLOCK); i++) {
                    expected += in.get(i);
                }
                assertEquals(expected, out.get(b), 1e-4, "block " + b);
            }
        }
    }

    @Test
    void shufflesFollowPtxLaneRules() {
        int threads = 64;
        int delta = 3;
        int[] down = new int[threads];
        int[] up = new int[threads];
        int[] xor = new int[threads];
        int[] idx = new int[threads];
        emulator.launch(EmulatorTestKernels.class, "shuffles", Grid.of(1, threads), down, up, xor, idx, delta);
        for (int t = 0; t < threads; t++) {
            int lane = t % 32;
            int base = t - lane;
            assertEquals(10 * (lane + delta < 32 ? t + delta : t), down[t], "down at " + t);
            assertEquals(10 * (lane - delta >= 0 ? t - delta : t), up[t], "up at " + t);
            assertEquals(10 * (base + (lane ^ delta)), xor[t], "xor at " + t);
            assertEquals(10 * (base + (lane + delta) % 7), idx[t], "idx at " + t);
        }
    }

    @Test
    void warpSumGivesEveryWarpItsTotal() {
        Random r = new Random(SEED);
        float[] in = new float[256];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(100);
        }
        float[] out = new float[8];
        Arrays.fill(out, Float.NaN);
        emulator.launch(EmulatorTestKernels.class, "warpSums", Grid.of(2, 128), in, out);
        for (int w = 0; w < 8; w++) {
            float expected = 0;
            for (int l = 0; l < 32; l++) {
                expected += in[w * 32 + l];
            }
            assertEquals(expected, out[w]);
        }
    }

    @Test
    void barriersInDivergentCodeAreReportedWithBothSites() {
        EmulationException e = assertThrows(EmulationException.class,
                () -> emulator.launch(EmulatorTestKernels.class, "divergentBarrier", Grid.of(1, 32), new float[32]));
        assertTrue(e.getMessage().contains("EmulatorTestKernels.java") && e.getMessage().contains("same localBarrier"),
                e.getMessage());
    }

    @Test
    void aDeadlockedBlockIsReportedWithWhereItsThreadsWait() {
        EmulationException e = assertThrows(EmulationException.class, () -> new Emulator(Duration.ofMillis(200))
                .launch(EmulatorTestKernels.class, "barrierAgainstShuffle", Grid.of(1, 32), new float[32]));
        assertTrue(e.getMessage().contains("block (0,0,0) made no progress")
                && e.getMessage().contains("16 threads wait at the barrier at EmulatorTestKernels.java")
                && e.getMessage().contains("warp 0: 16 lanes wait at the shuffle at EmulatorTestKernels.java"), e.getMessage());
    }

    @Test
    void returnedThreadsDoNotHoldUpABarrier() {
        int[] out = new int[64];
        emulator.launch(EmulatorTestKernels.class, "earlyReturnThenBarrier", Grid.of(1, 64), out, 40);
        for (int t = 0; t < 40; t++) {
            assertEquals((t + 1) % 40 + 1, out[t]);
        }
        assertEquals(0, out[50]);
    }

    @Test
    void shufflesInAPartialWarpAreRejected() {
        EmulationException e = assertThrows(EmulationException.class,
                () -> emulator.launch(EmulatorTestKernels.class, "shuffleInPartialWarp", Grid.of(1, 48), new float[48]));
        assertTrue(e.getMessage().contains("only 16 of 32 lanes"), e.getMessage());
    }

    @Test
    void atomicsAddUpAcrossThreadsAndBlocks() {
        Random r = new Random(SEED);
        int n = 3000;
        int[] values = new int[n];
        int[] expected = new int[8];
        for (int i = 0; i < n; i++) {
            values[i] = r.nextInt(1000);
            expected[values[i] & 7]++;
        }
        int[] bins = new int[8];
        try (Arena arena = Arena.ofShared()) {
            F32Array total = F32Array.allocate(arena, 1);
            emulator.launch(EmulatorTestKernels.class, "atomicHistogram", Grid.covering(n, 256), values, bins, total, n);
            assertArrayEquals(expected, bins);
            assertEquals(n * 0.5f, total.get(0));
        }
    }

    @Test
    void twoDimensionalIdsFollowCudaConventions() {
        int width = 8;
        int[] out = new int[width * 6];
        emulator.launch(EmulatorTestKernels.class, "ids2d", new Grid(2, 3, 1, 4, 2, 1), out, width);
        // thread (x=5, y=3): group (1,1), local (1,1)
        assertEquals(1000 + 100 + 10 + 1, out[3 * width + 5]);
    }

    @Test
    void aThrowingThreadIsNamedWithItsBlock() {
        EmulationException e = assertThrows(EmulationException.class,
                () -> emulator.launch(EmulatorTestKernels.class, "outOfBounds", Grid.of(2, 32), new float[64]));
        assertTrue(e.getMessage().contains("thread (31,0,0) of block (1,0,0)"), e.getMessage());
        assertTrue(e.getCause() instanceof ArrayIndexOutOfBoundsException);
    }

    @Test
    void wrongArgumentTypesNameTheParameter() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> emulator.launch(EmulatorTestKernels.class, "ids2d", Grid.of(1, 32), new int[32], 2L));
        assertTrue(e.getMessage().contains("int") && e.getMessage().contains("Long"), e.getMessage());
    }
}
