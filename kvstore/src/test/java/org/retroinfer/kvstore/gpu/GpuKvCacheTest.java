package org.retroinfer.kvstore.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DenseKvCache;

/**
 * {@link GpuKvCache} on the emulated device answers as {@link DenseKvCache} does (same 16-bit storage, so the same
 * keys and values; only the order of F32 sums differs) through a life of prefill chunks, mixed steps and
 * lock-step decoding of sequences in non-adjacent slots, one closed and its slot reused mid-way.
 */
class GpuKvCacheTest {
    private static final AttentionShape SHAPE = new AttentionShape(2, 4, 2, 128);
    private static final double TOLERANCE = 2e-5;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16"})
    void attendsAsTheDenseCacheDoes(DType storage) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("gpu kv cache " + storage + ": seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        try (EmulatedDevice device = new EmulatedDevice();
             GpuKvCache gpu = new GpuKvCache(device, SHAPE, storage, 3, 64, 24);
             DenseKvCache dense = new DenseKvCache(SHAPE, new DenseKvCache.Config(storage, 16))) {
            int a = gpu.openSequence(), b = gpu.openSequence(), c = gpu.openSequence();
            int da = dense.openSequence(), db = dense.openSequence(), dc = dense.openSequence();
            step(gpu, dense, new BatchLayout(new int[] {a}, new int[] {21}), new BatchLayout(new int[] {da}, new int[] {21}), random);
            step(gpu, dense, new BatchLayout(new int[] {c, a}, new int[] {12, 1}), new BatchLayout(new int[] {dc, da}, new int[] {12, 1}),
                    random);
            gpu.closeSequence(b);
            dense.closeSequence(db);
            int d = gpu.openSequence(), dd = dense.openSequence();
            step(gpu, dense, new BatchLayout(new int[] {d}, new int[] {5}), new BatchLayout(new int[] {dd}, new int[] {5}), random);
            for (int i = 0; i < 2; i++) {
                step(gpu, dense, BatchLayout.oneRowEach(new int[] {c, d, a}), BatchLayout.oneRowEach(new int[] {dc, dd, da}), random);
            }
            assertEquals(24, gpu.length(a, 1));
            assertEquals(14, gpu.length(c, 0));
        }
    }

    /** Appends and attends the same random rows in both caches, layer by layer, and compares the outputs. */
    private static void step(GpuKvCache gpu, DenseKvCache dense, BatchLayout onGpu, BatchLayout onDense, Random random) {
        int rows = onGpu.rows();
        for (int layer = 0; layer < SHAPE.layers(); layer++) {
            float[] k = gaussian(rows * SHAPE.kvWidth(), random), v = gaussian(rows * SHAPE.kvWidth(), random);
            float[] q = gaussian(rows * SHAPE.queryWidth(), random);
            gpu.append(layer, onGpu, k, v);
            dense.append(layer, onDense, k, v);
            float[] expected = new float[q.length], actual = new float[q.length];
            dense.attend(layer, onDense, q, expected);
            gpu.attend(layer, onGpu, q, actual);
            for (int i = 0; i < q.length; i++) {
                int at = i;
                assertTrue(Math.abs(expected[i] - actual[i]) <= TOLERANCE, () -> "layer output " + at + ": dense " + expected[at]
                        + ", gpu " + actual[at]);
            }
        }
    }

    @Test
    void aSequencePastTheCapacityIsRefusedByName() {
        try (EmulatedDevice device = new EmulatedDevice(); GpuKvCache gpu = new GpuKvCache(device, SHAPE, DType.BF16, 1, 8, 16)) {
            int s = gpu.openSequence();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gpu.prepare(BatchLayout.single(s, 9), 0));
            assertEquals("sequence 0 would hold 9 tokens; the GPU KV cache holds 8 per sequence", e.getMessage());
            IllegalStateException full = assertThrows(IllegalStateException.class, gpu::openSequence);
            assertEquals("all 1 sequence slots of the GPU KV cache are in use", full.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 96})
    void headsOtherThan128AreRefused(int headDim) {
        try (EmulatedDevice device = new EmulatedDevice()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new GpuKvCache(device, new AttentionShape(1, 2, 1, headDim), DType.BF16, 1, 8, 8));
            assertEquals("the GPU attention kernels take heads of 128 dimensions; this model's are " + headDim, e.getMessage());
        }
    }

    private static float[] gaussian(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }
}
