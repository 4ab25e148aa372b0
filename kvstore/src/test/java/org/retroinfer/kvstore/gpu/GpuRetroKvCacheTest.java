package org.retroinfer.kvstore.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.gpu.ClusterScoringTwin;
import org.retroinfer.kernels.gpu.RandomFill;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.kvstore.wave.StoreFormat;

/**
 * {@link GpuRetroKvCache} on the emulated device answers as the CPU's {@link RetroKvCache} does, step by step, through
 * dense prefill, the index build of a long prompt, a short prompt kept whole in the steady zone, lock-step decoding of
 * both in non-adjacent slots, and the index update of each when its steady zone fills (the short one's creating its
 * index). The GPU k-means is bit for bit the CPU's on the emulator and both keep the centroids in the storage type,
 * so the ranking scores the same values and both select the same zones; the outputs differ by F32 summation order.
 */
class GpuRetroKvCacheTest {
    /**
     * Budgets far above the paper's so that a 120-position prompt's 8 clusters give every zone some, and a steady zone
     * of 4 + 8 + 8 positions so that a few steps fill it (the emulator takes seconds per step and layer).
     */
    private static RetroConfig config(DType storage) {
        return new RetroConfig(0.2, 0.4, 4, 8, 16, 8192, 8, 6, 1, storage, 64);
    }

    /** Largest |gpu − cpu| allowed for dense prefill rows, against outputs of order 1. */
    private static final double PREFILL_TOLERANCE = 1e-4;

    /**
     * Two layers in BF16 (each layer's own index and wave buffer), the first with its store in device memory, looked up
     * there ({@link GpuRetroKvCache.Lookups#DEVICE_STORES}), the second in mapped host memory, looked up on the host and its
     * admission launched at the step's end; one layer in F16 (the F16 kernels), its store in device memory and its retrieval
     * zones looked up on the device ({@link GpuRetroKvCache.Lookups#DEVICE}; a host store with device lookups is
     * {@link #capturedDecodeStepsReplayAsTheEagerStepsRun}'s); two BF16 layers in INT8, the first's store in device
     * memory (a quantised GPU tier) and the second's in host memory, whose retrieval zones read keys and values rounded
     * to 1/127 of each vector's largest magnitude while the index, the ranking and the estimation zone keep the 16-bit
     * ones, held to a looser bound; and one F16 layer in INT4 on the device with device lookups, so that its exact zone is
     * read from the INT4 store in place (1/7 of each 32 elements' largest magnitude: a bound ten times looser again); and
     * one BF16 layer whose index keeps its value sums in INT8, so that only the estimation zone reads rounded values. A
     * store in device memory keeps no block cache; the INT8 pair looks both layers up on the host.
     */
    @ParameterizedTest
    @CsvSource({"BF16, 2, 1, HALF, HALF, 5e-3, DEVICE_STORES, HALF", "F16, 1, 1, HALF, HALF, 5e-3, DEVICE, HALF",
            "BF16, 2, 1, INT8, INT8, 5e-2, HOST, HALF", "F16, 1, 1, INT4, INT4, 0.5, DEVICE, HALF",
            "BF16, 1, 1, HALF, HALF, 5e-2, DEVICE, INT8"})
    void decodesAsTheCpuRetroCacheDoes(DType storage, int layers, int deviceStoreLayers, StoreFormat deviceFormat,
            StoreFormat hostFormat, double decodeTolerance, GpuRetroKvCache.Lookups lookups, StoreFormat valueSums) {
        Random random = seeded("gpu retro cache " + storage);
        RetroConfig config = config(storage);
        AttentionShape shape = new AttentionShape(layers, 4, 2, 128);
        try (EmulatedDevice device = new EmulatedDevice();
             GpuRetroKvCache gpu = new GpuRetroKvCache(device, shape, config, 3, 160, 64, 2, deviceStoreLayers,
                     new TierFormats(deviceFormat, hostFormat, valueSums), lookups);
             RetroKvCache cpu = new RetroKvCache(shape, config)) {
            int unused = gpu.openSequence(), a = gpu.openSequence(), b = gpu.openSequence();
            int cUnused = cpu.openSequence(), ca = cpu.openSequence(), cb = cpu.openSequence();
            gpu.closeSequence(unused);
            cpu.closeSequence(cUnused);
            // a long prompt in two chunks, and a short one
            double worst = step(gpu, cpu, BatchLayout.single(a, 60), BatchLayout.single(ca, 60), random, PREFILL_TOLERANCE);
            worst = Math.max(worst, step(gpu, cpu, BatchLayout.single(a, 60), BatchLayout.single(ca, 60), random, PREFILL_TOLERANCE));
            worst = Math.max(worst, step(gpu, cpu, BatchLayout.single(b, 15), BatchLayout.single(cb, 15), random, PREFILL_TOLERANCE));
            for (int[] s : new int[][] {{a, ca}, {b, cb}}) {
                gpu.endOfPrefill(s[0]);
                cpu.endOfPrefill(s[1]);
            }
            assertTrue(gpu.isSparse(a) && gpu.isSparse(b));
            double decodeWorst = 0;
            for (int i = 0; i < 9; i++) {
                decodeWorst = Math.max(decodeWorst, step(gpu, cpu, BatchLayout.oneRowEach(new int[] {b, a}),
                        BatchLayout.oneRowEach(new int[] {cb, ca}), random, decodeTolerance));
            }
            assertEquals(129, gpu.length(a, layers - 1));
            assertEquals(24, gpu.length(b, 0));
            // a's steady zone (4 + 8 + 8) filled at step 8, b's at step 5, which built b's first index
            assertEquals(new GpuRetroKvCache.Stats(1, 2L * layers, gpu.stats().indexNanos()), gpu.stats());
            // layers whose store is on the device cache nothing (they read the store as fast)
            assertEquals(deviceStoreLayers < layers, gpu.hitRatio() > 0, "repeated retrievals of a small index find clusters"
                    + " cached where the store is on the host; hit ratio " + gpu.hitRatio());
            boolean quantised = deviceStoreLayers > 0 && deviceFormat != StoreFormat.HALF
                    || deviceStoreLayers < layers && hostFormat != StoreFormat.HALF || valueSums != StoreFormat.HALF;
            // the rounding of a quantised store shows (16-bit stores agree to ~1e-6): the cache reads the format asked for
            assertEquals(quantised, decodeWorst > 1e-4, "worst decode difference " + decodeWorst);
            System.out.printf("  %s GPU tier (%d layers), %s host tier, %s value sums, lookups on the %s: worst |gpu - cpu|:"
                    + " prefill %.2e, decode %.2e; cache hit ratio %.2f%n", deviceFormat, deviceStoreLayers, hostFormat, valueSums,
                    lookups, worst, decodeWorst, gpu.hitRatio());
        }
    }

    /**
     * With INT8 centroids ({@link TierFormats#centroids}) the index holds the 16-bit cache's centroids to half a level (the
     * same k-means, bit for bit on the emulator, the 16-bit ones rounded to the storage type), through the prompt's index
     * build and an index update, and cluster scoring's logits are q·c/√d of those levels times scales and the query's INT8
     * rounding, in float64. Zones
     * may differ from the 16-bit cache's where two clusters' scores lie within the rounding, so this compares the index
     * and its scores rather than the outputs.
     */
    @Test
    void int8CentroidsHoldTheIndexToHalfALevelAndScoringReadsThem() {
        Random random = seeded("int8 centroids");
        RetroConfig config = config(DType.BF16);
        AttentionShape shape = new AttentionShape(1, 4, 2, 128);
        try (EmulatedDevice device = new EmulatedDevice();
             GpuRetroKvCache half = new GpuRetroKvCache(device, shape, config, 1, 160, 64, 1, 1, TierFormats.HALF,
                     GpuRetroKvCache.Lookups.HOST);
             GpuRetroKvCache int8 = new GpuRetroKvCache(device, shape, config, 1, 160, 64, 1, 1,
                     new TierFormats(StoreFormat.HALF, StoreFormat.HALF, StoreFormat.HALF, StoreFormat.INT8),
                     GpuRetroKvCache.Lookups.HOST)) {
            int a = half.openSequence();
            assertEquals(a, int8.openSequence());
            for (int chunk = 0; chunk < 2; chunk++) {
                float[] k = gaussian(60 * shape.kvWidth(), random), v = gaussian(60 * shape.kvWidth(), random);
                float[] q = gaussian(60 * shape.queryWidth(), random), out = new float[q.length];
                for (GpuRetroKvCache cache : new GpuRetroKvCache[] {half, int8}) {
                    cache.append(0, BatchLayout.single(a, 60), k, v);
                    cache.attend(0, BatchLayout.single(a, 60), q, out); // the step's last layer: the cache takes the rows
                }
            }
            half.endOfPrefill(a);
            int8.endOfPrefill(a);
            int built = 0;
            double worstCentroid = 0, worstLogit = 0;
            for (int step = 0; step < 9; step++) {
                float[] k = gaussian(shape.kvWidth(), random), v = gaussian(shape.kvWidth(), random);
                float[] q = gaussian(shape.queryWidth(), random), out = new float[q.length];
                for (GpuRetroKvCache cache : new GpuRetroKvCache[] {half, int8}) {
                    cache.append(0, BatchLayout.single(a, 1), k, v);
                    cache.attend(0, BatchLayout.single(a, 1), q, out);
                }
                if (step == 0) {
                    built = half.centroids(a, 0, 0).length / 128;
                    assertTrue(built > 0, "the first decode step built the prompt's index");
                }
                for (int h = 0; h < shape.kvHeads(); h++) {
                    float[] expected = half.centroids(a, 0, h), actual = int8.centroids(a, 0, h);
                    assertEquals(expected.length, actual.length, "clusters of KV head " + h);
                    for (int c = 0; c < actual.length / 128; c++) {
                        double absmax = 0;
                        for (int j = 0; j < 128; j++) absmax = Math.max(absmax, Math.abs(expected[c * 128 + j]));
                        for (int j = 0; j < 128; j++) {
                            int at = c * 128 + j;
                            // half a level of the INT8 centroid, and the 16-bit one's rounding of the same F32 centroid
                            double bound = absmax / 127 / 2 * 1.01 + Math.abs(expected[at]) / 256;
                            double error = Math.abs(actual[at] - expected[at]);
                            worstCentroid = Math.max(worstCentroid, error / Math.max(bound, 1e-30));
                            assertTrue(error <= bound, "step " + step + " head " + h + " centroid " + c + " element " + j
                                    + ": 16-bit " + expected[at] + ", INT8 " + actual[at]);
                        }
                    }
                    for (int g = 0; g < shape.groupSize(); g++) {
                        float[] logits = int8.lastLogits(a, 0, h, g);
                        // scored with the query rounded to INT8 too
                        float[] query = ClusterScoringTwin.int8Query(q, (h * shape.groupSize() + g) * 128, shape.scale());
                        for (int c = 0; c < logits.length; c++) {
                            double y = 0;
                            for (int j = 0; j < 128; j++) y += (double) query[j] * actual[c * 128 + j];
                            double error = Math.abs(logits[c] - y) / Math.max(1, Math.abs(y));
                            worstLogit = Math.max(worstLogit, error);
                            assertTrue(error <= 1e-5, "step " + step + " head " + h + "." + g + " logit of cluster " + c + ": "
                                    + logits[c] + ", expected " + y);
                        }
                    }
                }
            }
            assertTrue(int8.centroids(a, 0, 0).length / 128 > built, "the steady zone filled and the update added clusters");
            assertEquals(1, int8.stats().updates());
            System.out.printf("  INT8 centroids: worst error %.2f of its bound; worst logit error %.1e%n", worstCentroid,
                    worstLogit);
        }
    }

    /** A random source seeded by -Dretroinfer.test.seed or afresh, the seed printed so that a failure can be replayed. */
    private static Random seeded(String what) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println(what + ": seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        return new Random(seed);
    }

    /** Appends and attends the same random rows in both caches, layer by layer; returns the largest difference. */
    private static double step(GpuRetroKvCache gpu, RetroKvCache cpu, BatchLayout onGpu, BatchLayout onCpu, Random random,
            double tolerance) {
        AttentionShape shape = gpu.shape();
        int rows = onGpu.rows();
        double worst = 0;
        for (int layer = 0; layer < shape.layers(); layer++) {
            float[] k = gaussian(rows * shape.kvWidth(), random), v = gaussian(rows * shape.kvWidth(), random);
            float[] q = gaussian(rows * shape.queryWidth(), random);
            gpu.append(layer, onGpu, k, v);
            cpu.append(layer, onCpu, k, v);
            float[] expected = new float[q.length], actual = new float[q.length];
            cpu.attend(layer, onCpu, q, expected);
            gpu.attend(layer, onGpu, q, actual);
            for (int i = 0; i < q.length; i++) {
                int at = i;
                double difference = Math.abs(expected[i] - actual[i]);
                worst = Math.max(worst, difference);
                assertTrue(difference <= tolerance, () -> "layer output " + at + ": cpu " + expected[at] + ", gpu " + actual[at]);
            }
        }
        return worst;
    }

    /**
     * With the lookups on the device, a decode step that updates no index is all launches: captured once (as the GPU
     * transformer's step graphs capture it, on the emulator's faithful capture, which replays the launches without the
     * host code that enqueued them) and replayed step after step, it gives the outputs of the same steps run eagerly, bit
     * for bit, through a steady zone that fills and updates the index (a step that is not captured) and on.
     */
    @Test
    void capturedDecodeStepsReplayAsTheEagerStepsRun() {
        Random random = seeded("captured decode");
        RetroConfig config = config(DType.BF16);
        AttentionShape shape = new AttentionShape(2, 2, 1, 128);
        int tokens = 40, steps = 10;
        long fillSeed = random.nextLong();
        try (EmulatedDevice device = new EmulatedDevice();
             GpuRetroKvCache eager = new GpuRetroKvCache(device, shape, config, 2, 60, 2, 0, 0, StoreFormat.HALF,
                     GpuRetroKvCache.Lookups.DEVICE);
             GpuRetroKvCache captured = new GpuRetroKvCache(device, shape, config, 2, 60, 2, 0, 0, StoreFormat.HALF,
                     GpuRetroKvCache.Lookups.DEVICE)) {
            int[] sequences = new int[2];
            for (int i = 0; i < 2; i++) {
                sequences[i] = eager.openSequence();
                assertEquals(sequences[i], captured.openSequence());
                eager.fillRandom(sequences[i], tokens - 10 * i, fillSeed + i);
                captured.fillRandom(sequences[i], tokens - 10 * i, fillSeed + i);
            }
            BatchLayout layout = BatchLayout.oneRowEach(sequences);
            int layers = shape.layers();
            org.retroinfer.accel.kernel.F32Array[] k = new org.retroinfer.accel.kernel.F32Array[layers], v = k.clone(), q = k.clone();
            org.retroinfer.accel.kernel.F32Array[] outEager = k.clone(), outCaptured = k.clone();
            for (int l = 0; l < layers; l++) {
                k[l] = device.f32(2L * shape.kvWidth());
                v[l] = device.f32(2L * shape.kvWidth());
                q[l] = device.f32(2L * shape.queryWidth());
                outEager[l] = device.f32(2L * shape.queryWidth());
                outCaptured[l] = device.f32(2L * shape.queryWidth());
            }
            org.retroinfer.accel.device.Device.Replay replay = null;
            int replays = 0, uncapturable = 0;
            boolean seen = false;
            for (int i = 0; i < steps; i++) {
                for (org.retroinfer.accel.kernel.F32Array[] inputs : new org.retroinfer.accel.kernel.F32Array[][] {k, v, q}) {
                    for (org.retroinfer.accel.kernel.F32Array a : inputs) {
                        for (long e = 0; e < a.length(); e++) a.set(e, (float) random.nextGaussian());
                    }
                }
                org.retroinfer.kvstore.gpu.StepRows eagerStep = eager.prepare(layout, 0);
                eager.enqueueRows(eagerStep);
                for (int l = 0; l < layers; l++) {
                    eager.append(l, eagerStep, k[l], v[l]);
                    eager.attend(l, eagerStep, q[l], outEager[l]);
                }
                eager.advanceAll(layout);
                org.retroinfer.kvstore.gpu.StepRows step = captured.prepare(layout, 0);
                Runnable work = () -> {
                    captured.enqueueRows(step);
                    for (int l = 0; l < layers; l++) {
                        captured.append(l, step, k[l], v[l]);
                        captured.attend(l, step, q[l], outCaptured[l]);
                    }
                };
                if (!captured.capturable(step)) {
                    uncapturable++;
                    work.run();
                } else if (replay != null) {
                    replay.run();
                    replays++;
                } else if (seen) {
                    replay = device.capture(work); // the first capturable step ran eagerly, as a step graph's does
                    replay.run();
                    replays++;
                } else {
                    seen = true;
                    work.run();
                }
                captured.advanceAll(layout);
                for (int l = 0; l < layers; l++) {
                    for (long e = 0; e < outEager[l].length(); e++) {
                        assertEquals(Float.floatToRawIntBits(outEager[l].get(e)), Float.floatToRawIntBits(outCaptured[l].get(e)),
                                "step " + i + ", layer " + l + ", output " + e);
                    }
                }
            }
            assertTrue(replays >= steps - 3, replays + " of " + steps + " steps replayed");
            assertTrue(uncapturable >= 1, "a steady zone filled and updated its index in a step that ran eagerly");
            assertEquals(eager.stats().updates(), captured.stats().updates());
            assertTrue(captured.stats().updates() >= 1);
            assertArrayEquals(eager.hitCounts(), captured.hitCounts());
            if (replay != null) replay.close();
        }
    }

    /**
     * A context filled a few heads at a time without a dense slot ({@link GpuRetroKvCache#fillRandom}, how the bench
     * fills) is the prompt of the same random values prefilled through the dense slot and indexed at its end: the same
     * index and steady zones, so decoding on gives the same outputs bit for bit.
     */
    @Test
    void aFilledContextDecodesAsTheSameValuesPrefilled() {
        Random random = seeded("filled vs prefilled");
        RetroConfig config = config(DType.BF16);
        AttentionShape shape = new AttentionShape(1, 4, 2, 128);
        int tokens = 40; // 4 sinks, 28 clustered, 8 in the window
        long fillSeed = random.nextLong();
        try (EmulatedDevice device = new EmulatedDevice();
             GpuRetroKvCache filled = new GpuRetroKvCache(device, shape, config, 2, 60, tokens, 0);
             GpuRetroKvCache prefilled = new GpuRetroKvCache(device, shape, config, 2, 60, tokens, 1)) {
            filled.closeSequence(filled.openSequence()); // a non-zero slot
            int a = filled.openSequence(), b = prefilled.openSequence();
            filled.fillRandom(a, tokens, fillSeed);
            BatchLayout prompt = BatchLayout.single(b, tokens);
            for (int layer = 0; layer < shape.layers(); layer++) {
                float[] k = new float[tokens * shape.kvWidth()], v = new float[k.length];
                for (int h = 0; h < shape.kvHeads(); h++) {
                    long keySeed = fillSeed + 2L * (layer * shape.kvHeads() + h);
                    for (int t = 0; t < tokens; t++) {
                        for (int d = 0; d < 128; d++) {
                            int at = t * shape.kvWidth() + h * 128 + d;
                            k[at] = RandomFill.uniform(keySeed, t * 128L + d, 1f);
                            v[at] = RandomFill.uniform(keySeed + 1, t * 128L + d, 1f);
                        }
                    }
                }
                prefilled.append(layer, prompt, k, v);
                prefilled.attend(layer, prompt, new float[tokens * shape.queryWidth()], new float[tokens * shape.queryWidth()]);
            }
            prefilled.endOfPrefill(b);
            assertTrue(filled.isSparse(a) && prefilled.isSparse(b));
            assertEquals(1, filled.stats().builds());
            for (int i = 0; i < 3; i++) {
                for (int layer = 0; layer < shape.layers(); layer++) {
                    float[] k = gaussian(shape.kvWidth(), random), v = gaussian(shape.kvWidth(), random);
                    float[] q = gaussian(shape.queryWidth(), random);
                    float[] fromFilled = new float[q.length], fromPrefilled = new float[q.length];
                    filled.append(layer, BatchLayout.single(a, 1), k, v);
                    prefilled.append(layer, BatchLayout.single(b, 1), k, v);
                    filled.attend(layer, BatchLayout.single(a, 1), q, fromFilled);
                    prefilled.attend(layer, BatchLayout.single(b, 1), q, fromPrefilled);
                    assertArrayEquals(fromPrefilled, fromFilled, "step " + i + ", layer " + layer);
                }
            }
            assertEquals(tokens + 3, filled.length(a, 0));
            IllegalStateException noSlot = assertThrows(IllegalStateException.class,
                    () -> filled.prepare(BatchLayout.single(filled.openSequence(), 3), 0));
            assertEquals("this GPU RetroInfer cache has no dense prefill slot (made with prefillSlots 0): its contexts are filled"
                    + " (fillRandom), not prefilled", noSlot.getMessage());
        }
    }

    /**
     * What a placement reserves per sequence ({@link GpuRetroPlacement#deviceBytesPerSequence}) covers the meta index,
     * steady zone and block cache a slot of the cache allocates on the device ({@link GpuRetroKvCache#deviceBytesPerSlot}),
     * with each lookups and with the stores on the host, or two of three layers' on the device with their mapping tables
     * ({@link GpuRetroKvCache.Lookups#DEVICE_STORES}), so that a batch placed by the estimate fits (the rest of the
     * estimate is the slot's share of the execution buffer, ranking scratch and estimation zone).
     */
    @ParameterizedTest
    @CsvSource({"HOST, INT4, HALF, HALF, 0", "DEVICE, HALF, HALF, HALF, 0", "DEVICE, INT8, HALF, HALF, 0",
            "DEVICE, HALF, INT8, HALF, 0", "HOST, HALF, INT8, INT8, 0", "DEVICE_STORES, HALF, HALF, HALF, 0",
            "DEVICE_STORES, INT4, HALF, HALF, 2"})
    void theDeviceBytesAPlacementReservesCoverWhatASlotAllocates(GpuRetroKvCache.Lookups lookups, StoreFormat hostFormat,
            StoreFormat valueSums, StoreFormat centroids, int deviceStoreLayers) {
        RetroConfig config = config(DType.BF16);
        AttentionShape shape = new AttentionShape(3, 4, 2, 128);
        long capacity = 20000;
        TierFormats formats = new TierFormats(StoreFormat.HALF, hostFormat, valueSums, centroids);
        try (EmulatedDevice device = new EmulatedDevice();
             GpuRetroKvCache gpu = new GpuRetroKvCache(device, shape, config, 2, capacity, 64, 0, deviceStoreLayers, formats,
                     lookups)) {
            long estimate = GpuRetroPlacement.deviceBytesPerSequence(shape, config, capacity, lookups, deviceStoreLayers, formats);
            long allocated = gpu.deviceBytesPerSlot();
            assertTrue(allocated <= estimate, "a slot allocates " + allocated + " bytes, the placement reserves " + estimate);
        }
    }

    @Test
    void aStepMixingPromptAndDecodeRowsIsRefused() {
        try (EmulatedDevice device = new EmulatedDevice();
             GpuRetroKvCache gpu = new GpuRetroKvCache(device, new AttentionShape(1, 4, 2, 128), config(DType.BF16), 2, 100, 16,
                     1)) {
            int a = gpu.openSequence(), b = gpu.openSequence();
            gpu.prepare(BatchLayout.single(a, 5), 0);
            gpu.advanceAll(BatchLayout.single(a, 5));
            gpu.endOfPrefill(a);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gpu.prepare(new BatchLayout(new int[] {a, b}, new int[] {1, 3}), 0));
            assertEquals("a step of the GPU RetroInfer cache is either prompt rows or decode rows; this one mixes 1 decoding"
                    + " sequences with 1 in their prompt", e.getMessage());
            IllegalStateException full = assertThrows(IllegalStateException.class, gpu::openSequence);
            assertEquals("all 2 sequence slots of the GPU RetroInfer cache are in use", full.getMessage());
        }
    }

    private static float[] gaussian(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }
}
