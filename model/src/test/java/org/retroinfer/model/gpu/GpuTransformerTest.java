package org.retroinfer.model.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;
import org.retroinfer.kernels.Rope;
import org.retroinfer.kernels.WeightMatrix;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.transformer.InMemoryWeights;
import org.retroinfer.model.transformer.LayerWeights;
import org.retroinfer.model.transformer.ModelWeights;
import org.retroinfer.model.transformer.Transformer;

/**
 * The GPU forward pass, run on the emulated device (every kernel as the GPU runs it, with real shuffles and
 * barriers), gives the CPU transformer's logits through a step prefilling two prompts and a lock-step decode step
 * (steps mixing prefill and decode rows are GpuKvCacheTest's), for the families' variants: q/k/v bias with tied
 * embeddings, Qwen3's q/k norms with adjacent RoPE pairs and llama3 scaling, BF16 and F32 weights.
 */
class GpuTransformerTest {
    /**
     * Logits differ by the order of F32 sums (kernels against Vector API loops), and by what that does to the BF16 cache:
     * a key or value an ulp apart on the two paths can round to neighbouring BF16 values (a step of 2^-8), which moved a
     * logit by 1.9e-4 of the largest (seed 14334372137742; within 1e-4 with an F16 cache). Within 1e-3 of the largest: a
     * wrong kernel moves them by far more.
     */
    // One layer each, two query heads and at most four rows a step (one pass of StreamingLinear): the emulator runs a
    // virtual thread per GPU thread and every warp sum is a rendezvous of 32 of them, so its 16 warp sums per pass cost
    // seconds per launch here; the cache's per-layer arrays are covered over two layers by GpuKvCacheTest.
    private static final double RELATIVE = 1e-3;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("qwen2 bias, tied embeddings, bf16 weights", new ModelConfig(ModelFamily.QWEN2, 67, 64, 48, 1, 2, 1,
                        128, 1e-6, 1000000, new RopeScaling.None(), Rope.Pairing.HALVES, 4096, true, true, false), true),
                Arguments.of("qwen3 q/k norms, adjacent pairs, llama3 scaling, f32 weights", new ModelConfig(ModelFamily.QWEN3, 53,
                        32, 40, 1, 2, 1, 128, 1e-5, 500000, new RopeScaling.Llama3(8, 1, 4, 16), Rope.Pairing.ADJACENT, 4096,
                        false, false, false), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void logitsEqualTheCpuTransformers(String name, ModelConfig config, boolean bf16) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println(name + ": seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared(); EmulatedDevice device = new EmulatedDevice()) {
            ModelWeights weights = InMemoryWeights.random(config, random, arena);
            if (bf16) weights = toBf16(weights, arena);
            Transformer cpu = new Transformer(config, weights);
            GpuTransformer gpu = new GpuTransformer(config, GpuWeights.upload(device, weights), device, 8);
            try (KvCache cpuCache = new DenseKvCache(config.attentionShape(), new DenseKvCache.Config(DType.BF16, 16));
                 KvCache gpuCache = new org.retroinfer.kvstore.gpu.GpuKvCache(device, config.attentionShape(), DType.BF16, 2, 32, 8)) {
                int a = cpuCache.openSequence(), ga = gpuCache.openSequence();
                int b = cpuCache.openSequence(), gb = gpuCache.openSequence();
                // two prompts prefilled in one step, then a lock-step decode step of both
                compare(cpu, cpuCache, gpu, gpuCache, new int[] {a, b}, new int[] {ga, gb}, new int[] {3, 1}, new long[] {0, 0},
                        random, new int[] {2, 3});
                compare(cpu, cpuCache, gpu, gpuCache, new int[] {a, b}, new int[] {ga, gb}, new int[] {1, 1}, new long[] {3, 1},
                        random, new int[] {0, 1});
            }
        }
    }

    /**
     * A step of more rows than one tensor-core row group sends the BF16 layers whose inputs fill whole chunks (q, k, v,
     * o, gate and up at width 64) through {@link org.retroinfer.kernels.gpu.BlasLinear}, the emulator's GEMM standing in
     * for cuBLAS; the logits still equal the CPU's.
     */
    @Test
    void stepsPastOneRowGroupGiveTheCpuTransformersLogitsThroughTheBlasPath() {
        ModelConfig config = (ModelConfig) models().findFirst().orElseThrow().get()[1];
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("BLAS path: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared(); EmulatedDevice device = new EmulatedDevice()) {
            ModelWeights weights = toBf16(InMemoryWeights.random(config, random, arena), arena);
            Transformer cpu = new Transformer(config, weights);
            GpuTransformer gpu = new GpuTransformer(config, GpuWeights.upload(device, weights), device, 24);
            assertTrue(new org.retroinfer.kernels.gpu.LinearShape(19, config.hiddenSize(), config.queryWidth())
                    .blas(org.retroinfer.accel.kernel.ElementType.BF16), "19 rows of q take the BLAS path");
            assertTrue(gpu.blasReady());
            // micro-batches: a transformer on a device that shares the GPU keeps the kernels, and so does one whose
            // device gains a sibling later
            try (Device sibling = device.sibling()) {
                assertFalse(new GpuTransformer(config, GpuWeights.upload(sibling, weights), sibling, 24).blasReady());
                assertFalse(gpu.blasReady());
            }
            try (KvCache cpuCache = new DenseKvCache(config.attentionShape(), new DenseKvCache.Config(DType.BF16, 16));
                 KvCache gpuCache = new org.retroinfer.kvstore.gpu.GpuKvCache(device, config.attentionShape(), DType.BF16, 2, 32, 24)) {
                int a = cpuCache.openSequence(), ga = gpuCache.openSequence();
                int b = cpuCache.openSequence(), gb = gpuCache.openSequence();
                compare(cpu, cpuCache, gpu, gpuCache, new int[] {a, b}, new int[] {ga, gb}, new int[] {10, 9}, new long[] {0, 0},
                        random, new int[] {9, 18});
            }
        }
    }

    /**
     * A step of 5-16 rows, fewer than the transformer's most, runs q, k and v (with their biases) and gate and up as one
     * stacked tensor-core launch each, every part's outputs in its slice of a workspace sized for the most rows; the
     * logits still equal the CPU's.
     */
    @Test
    void stepsOfOneRowGroupGiveTheCpuTransformersLogitsThroughStackedLaunches() {
        ModelConfig config = (ModelConfig) models().findFirst().orElseThrow().get()[1];
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("stacked launches: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared(); EmulatedDevice device = new EmulatedDevice()) {
            ModelWeights weights = toBf16(InMemoryWeights.random(config, random, arena), arena);
            GpuTransformer gpu = new GpuTransformer(config, GpuWeights.upload(device, weights), device, 12);
            assertTrue(new org.retroinfer.kernels.gpu.LinearShape(7, config.hiddenSize(), config.queryWidth() + 2 * config.kvWidth())
                    .stacks(org.retroinfer.accel.kernel.ElementType.BF16), "7 rows of q, k and v take one stacked launch");
            try (KvCache cpuCache = new DenseKvCache(config.attentionShape(), new DenseKvCache.Config(DType.BF16, 16));
                 KvCache gpuCache = new org.retroinfer.kvstore.gpu.GpuKvCache(device, config.attentionShape(), DType.BF16, 2, 32, 12)) {
                int a = cpuCache.openSequence(), ga = gpuCache.openSequence();
                int b = cpuCache.openSequence(), gb = gpuCache.openSequence();
                compare(new Transformer(config, weights), cpuCache, gpu, gpuCache, new int[] {a, b}, new int[] {ga, gb},
                        new int[] {4, 3}, new long[] {0, 0}, random, new int[] {3, 6});
            }
        }
    }

    /**
     * A prompt chunk of more rows than the BLAS scratch holds (511), in layers too small for the GEMM kernel's blocks to
     * fill the GPU, goes to the tensor-core kernel: it was handed to BlasLinear, which refused it (eval on retro-tiny with
     * --prefill-chunk 512 on the GPU stopped with an internal error).
     */
    @Test
    void aChunkPastTheBlasScratchInLayersTooSmallForTheGemmGoesToTheTensorCoreKernel() {
        ModelConfig config = (ModelConfig) models().findFirst().orElseThrow().get()[1];
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("chunk past the BLAS scratch: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        int rows = org.retroinfer.kernels.gpu.LinearShape.GEMM_ROWS + 1;
        try (Arena arena = Arena.ofShared(); EmulatedDevice device = new EmulatedDevice()) {
            ModelWeights weights = toBf16(InMemoryWeights.random(config, random, arena), arena);
            GpuTransformer gpu = new GpuTransformer(config, GpuWeights.upload(device, weights), device, rows);
            assertTrue(gpu.blasReady());
            assertFalse(new org.retroinfer.kernels.gpu.LinearShape(rows, config.hiddenSize(), config.queryWidth())
                    .gemm(org.retroinfer.accel.kernel.ElementType.BF16), "the layers are too small for the GEMM kernel");
            try (KvCache cpuCache = new DenseKvCache(config.attentionShape(), new DenseKvCache.Config(DType.BF16, 16));
                 KvCache gpuCache = new org.retroinfer.kvstore.gpu.GpuKvCache(device, config.attentionShape(), DType.BF16, 1,
                         rows + 8, rows)) {
                compare(new Transformer(config, weights), cpuCache, gpu, gpuCache, new int[] {cpuCache.openSequence()},
                        new int[] {gpuCache.openSequence()}, new int[] {rows}, new long[] {0}, random, new int[] {rows - 1});
            }
        }
    }

    /** One step on both paths with the same random tokens; the logits of {@code logitRows} must agree. */
    private static void compare(Transformer cpu, KvCache cpuCache, GpuTransformer gpu, KvCache gpuCache, int[] cpuSequences,
            int[] gpuSequences, int[] counts, long[] firstPositions, Random random, int[] logitRows) {
        int rows = 0;
        for (int c : counts) rows += c;
        int[] tokens = new int[rows];
        long[] positions = new long[rows];
        for (int i = 0, r = 0; i < counts.length; i++) {
            for (int j = 0; j < counts[i]; j++, r++) {
                tokens[r] = random.nextInt(cpu.config().vocabSize());
                positions[r] = firstPositions[i] + j;
            }
        }
        int vocab = cpu.config().vocabSize();
        float[] expected = new float[logitRows.length * vocab], actual = new float[logitRows.length * vocab];
        cpu.forward(new BatchLayout(cpuSequences, counts), tokens, positions, cpuCache, logitRows, expected);
        gpu.forward(new BatchLayout(gpuSequences, counts), tokens, positions, gpuCache, logitRows, actual);
        double largest = 0;
        for (float e : expected) largest = Math.max(largest, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            int at = i;
            double bound = RELATIVE * largest;
            assertTrue(Math.abs(expected[i] - actual[i]) <= bound,
                    () -> "logit " + at + ": cpu " + expected[at] + ", gpu " + actual[at] + " (bound " + bound + ")");
        }
    }

    @Test
    void greedyStepsChooseEachRowsLargestLogitOnTheDevice() {
        // one step of two rows: the emulator runs every thread of the LM head and the argmax, so the vocabulary is small
        // (RowArgmaxTest covers rows of several sweeps, ties and NaN)
        int vocab = 300;
        ModelConfig config = new ModelConfig(ModelFamily.LLAMA, vocab, 32, 32, 1, 2, 1, 128, 1e-5, 10000, new RopeScaling.None(),
                Rope.Pairing.HALVES, 64, false, false, false);
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared(); EmulatedDevice device = new EmulatedDevice()) {
            GpuTransformer gpu = new GpuTransformer(config, GpuWeights.upload(device, InMemoryWeights.random(config, random, arena)),
                    device, 4);
            try (KvCache withLogits = new org.retroinfer.kvstore.gpu.GpuKvCache(device, config.attentionShape(), DType.BF16, 2, 8, 4);
                 KvCache greedy = new org.retroinfer.kvstore.gpu.GpuKvCache(device, config.attentionShape(), DType.BF16, 2, 8, 4)) {
                int[] sequences = {withLogits.openSequence(), withLogits.openSequence()};
                assertEquals(sequences[0], greedy.openSequence());
                assertEquals(sequences[1], greedy.openSequence());
                int[] tokens = {random.nextInt(vocab), random.nextInt(vocab)};
                long[] positions = {0, 0};
                int[] rows = {0, 1};
                float[] logits = new float[2 * vocab];
                gpu.forward(BatchLayout.oneRowEach(sequences), tokens, positions, withLogits, rows, logits);
                int[] next = {-1, -1};
                gpu.forwardGreedy(BatchLayout.oneRowEach(sequences), tokens, positions, greedy, rows, next);
                for (int i = 0; i < 2; i++) {
                    assertEquals(org.retroinfer.kernels.gpu.RowArgmax.of(logits, i * vocab, vocab), next[i],
                            "row " + i + " (seed " + seed + ")");
                }
            }
        }
    }

    @Test
    void aCpuCacheIsRefusedByName() {
        ModelConfig config = new ModelConfig(ModelFamily.LLAMA, 16, 32, 32, 1, 2, 1, 128, 1e-5, 10000, new RopeScaling.None(),
                Rope.Pairing.HALVES, 64, false, false, false);
        try (Arena arena = Arena.ofShared(); EmulatedDevice device = new EmulatedDevice();
             KvCache dense = new DenseKvCache(config.attentionShape(), DenseKvCache.Config.defaults())) {
            GpuTransformer gpu = new GpuTransformer(config, GpuWeights.upload(device,
                    InMemoryWeights.random(config, new Random(1), arena)), device, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gpu.forward(BatchLayout.single(dense.openSequence(), 1), new int[] {1}, new long[] {0}, dense, new int[0],
                            new float[0]));
            assertEquals("the GPU transformer attends through a GPU KV cache (dense or RetroInfer) on its own device, got DenseKvCache",
                    e.getMessage());
        }
    }

    /** The same weights rounded to BF16 (matrices only; norms and biases stay F32, as in checkpoints' use). */
    private static ModelWeights toBf16(ModelWeights w, Arena arena) {
        List<LayerWeights> layers = new ArrayList<>();
        for (LayerWeights l : w.layers()) {
            layers.add(new LayerWeights(l.attentionNorm(), bf16(l.query(), arena), bf16(l.key(), arena), bf16(l.value(), arena),
                    bf16(l.output(), arena), l.queryBias(), l.keyBias(), l.valueBias(), l.outputBias(), l.queryNorm(), l.keyNorm(),
                    l.feedForwardNorm(), bf16(l.gate(), arena), bf16(l.up(), arena), bf16(l.down(), arena)));
        }
        WeightMatrix embedding = bf16(w.embedding(), arena);
        return new ModelWeights(embedding, layers, w.finalNorm(), w.lmHead() == w.embedding() ? embedding : bf16(w.lmHead(), arena));
    }

    private static WeightMatrix bf16(WeightMatrix m, Arena arena) {
        long n = m.rows() * m.cols();
        MemorySegment data = arena.allocate(2 * n, 64);
        for (long i = 0; i < n; i++) {
            data.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i, Half.floatToBf16(m.get(i / m.cols(), i % m.cols())));
        }
        return new WeightMatrix(DType.BF16, m.rows(), m.cols(), data);
    }
}
