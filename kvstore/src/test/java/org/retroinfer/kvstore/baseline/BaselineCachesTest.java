package org.retroinfer.kvstore.baseline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DecodeZones;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.Float64Attention;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.ProbeSteps;
import org.retroinfer.kvstore.SparseKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;

/** Behaviour both baselines share: exactness at a full budget, and RetroInfer's exact-token count. */
class BaselineCachesTest {
    /** Small RetroInfer settings: 4 sinks, a 16-position window, 8-key clusters, 64-position updates, 32-position pages. */
    static RetroConfig small(double retrieval, DType type) {
        return new RetroConfig(retrieval, 0.232, 4, 16, 8, 128, 64, 10, ComputePool.threads(), type, 32);
    }

    static Stream<Arguments> baselinesShapesAndTypes() {
        BiFunction<AttentionShape, RetroConfig, SparseKvCache> streaming =
                (shape, c) -> new StreamingLlmKvCache(shape, new StreamingLlmConfig(c));
        BiFunction<AttentionShape, RetroConfig, SparseKvCache> quest =
                (shape, c) -> new QuestKvCache(shape, new QuestConfig(c, 16));
        return Stream.of(streaming, quest).flatMap(make -> Stream.of(
                Arguments.of(make, new AttentionShape(2, 8, 2, 32), DType.F16),
                Arguments.of(make, new AttentionShape(1, 6, 2, 24), DType.BF16),
                Arguments.of(make, new AttentionShape(1, 4, 4, 16), DType.F16)));
    }

    /**
     * Two sequences of different lengths through chunked prefill (one still prefilling while the
     * other decodes, a mixed batch), then lock-step decoding past an update of RetroInfer's index:
     * with a budget of every position the baseline answers every row as the dense cache does.
     */
    @ParameterizedTest
    @MethodSource("baselinesShapesAndTypes")
    void aBudgetCoveringEveryPositionReproducesDenseAttention(BiFunction<AttentionShape, RetroConfig, SparseKvCache> make,
                                                              AttentionShape shape, DType type) {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        RetroConfig config = small(1.0, type);
        try (SparseKvCache cache = make.apply(shape, config);
             DenseKvCache dense = new DenseKvCache(shape, new DenseKvCache.Config(type, config.pageTokens()))) {
            int[] ids = {cache.openSequence(), cache.openSequence()};
            assertEquals(ids[0], dense.openSequence());
            assertEquals(ids[1], dense.openSequence());
            step(cache, dense, new BatchLayout(ids, new int[] {150, 40}), random, seed);
            cache.endOfPrefill(ids[0]);
            step(cache, dense, new BatchLayout(ids, new int[] {1, 90}), random, seed);
            cache.endOfPrefill(ids[1]);
            for (int s = 0; s < 90; s++) {
                step(cache, dense, BatchLayout.oneRowEach(ids), random, seed);
            }
        }
    }

    private static void step(KvCache cache, DenseKvCache dense, BatchLayout batch, Random random, long seed) {
        AttentionShape shape = cache.shape();
        for (int layer = 0; layer < shape.layers(); layer++) {
            float[] k = ProbeSteps.random(random, batch.rows() * shape.kvWidth());
            float[] v = ProbeSteps.random(random, batch.rows() * shape.kvWidth());
            float[] q = ProbeSteps.random(random, batch.rows() * shape.queryWidth());
            cache.append(layer, batch, k, v);
            dense.append(layer, batch, k, v);
            float[] out = new float[q.length];
            float[] expected = new float[q.length];
            Arrays.fill(out, Float.NaN);
            cache.attend(layer, batch, q, out);
            dense.attend(layer, batch, q, expected);
            for (int j = 0; j < out.length; j++) {
                assertEquals(expected[j], out[j], 1e-5, "element " + j + " of layer " + layer + " (seed " + seed + ")");
            }
        }
    }

    /**
     * Short, medium and long prompts, then decoding past two index updates: at every step each
     * baseline's exact budget is RetroInfer's, and its decode step attends exactly that many positions.
     */
    @Test
    void bothBaselinesAttendExactlyAsManyPositionsAsRetroInfer() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(2, 4, 2, 16);
        for (double budget : new double[] {0.018, 0.1, 0.5}) {
            RetroConfig config = small(budget, DType.F16);
            for (int prompt : new int[] {3, 50, 100, 600}) {
                try (RetroKvCache retro = new RetroKvCache(shape, config);
                     SparseKvCache streaming = new StreamingLlmKvCache(shape, new StreamingLlmConfig(config));
                     SparseKvCache quest = new QuestKvCache(shape, new QuestConfig(config, 16))) {
                    SparseKvCache[] caches = {retro, streaming, quest};
                    int id = 0;
                    for (SparseKvCache c : caches) {
                        id = c.openSequence();
                    }
                    appendAll(caches, BatchLayout.single(id, prompt), random);
                    for (SparseKvCache c : caches) {
                        assertEquals(prompt, c.exactBudget(id, 0), "before the end of prefill everything is exact");
                        c.endOfPrefill(id);
                    }
                    for (int s = 0; s < 160; s++) {
                        appendAll(caches, BatchLayout.single(id, 1), random);
                        float[] q = ProbeSteps.random(random, shape.queryWidth());
                        for (int layer = 0; layer < shape.layers(); layer++) {
                            long expected = retro.exactBudget(id, layer);
                            String where = "budget " + budget + ", prompt " + prompt + ", step " + s + " (seed " + seed + ")";
                            for (SparseKvCache c : new SparseKvCache[] {streaming, quest}) {
                                assertEquals(expected, c.exactBudget(id, layer), c.getClass().getSimpleName() + " " + where);
                                for (int kvHead = 0; kvHead < shape.kvHeads(); kvHead++) {
                                    DecodeZones zones = c.zones(id, layer, kvHead, q, kvHead * shape.groupSize()
                                            * shape.headDim());
                                    assertEquals(expected, zones.exactCount(), c.getClass().getSimpleName() + " " + where);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void appendAll(SparseKvCache[] caches, BatchLayout batch, Random random) {
        AttentionShape shape = caches[0].shape();
        for (int layer = 0; layer < shape.layers(); layer++) {
            float[] k = ProbeSteps.random(random, batch.rows() * shape.kvWidth());
            float[] v = ProbeSteps.random(random, batch.rows() * shape.kvWidth());
            for (SparseKvCache c : caches) {
                c.append(layer, batch, k, v);
            }
        }
    }

    /** The StreamingLLM budget rule, checked against float64 attention over exactly those positions. */
    @Test
    void streamingLlmAttendsExactlyToTheSinksAndTheMostRecentPositions() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(2, 8, 2, 32);
        RetroConfig config = small(0.05, DType.BF16);
        try (StreamingLlmKvCache cache = new StreamingLlmKvCache(shape, new StreamingLlmConfig(config))) {
            int id = cache.openSequence();
            Float64Attention ref = new Float64Attention(shape, DType.BF16);
            for (int layer = 0; layer < shape.layers(); layer++) {
                float[] k = ProbeSteps.random(random, 400 * shape.kvWidth());
                float[] v = ProbeSteps.random(random, 400 * shape.kvWidth());
                for (int t = 0; t < 400; t++) {
                    ref.append(layer, k, v, t * shape.kvWidth());
                }
                cache.append(layer, BatchLayout.single(id, 400), k, v);
            }
            cache.endOfPrefill(id);
            for (int s = 0; s < 90; s++) {
                for (int layer = 0; layer < shape.layers(); layer++) {
                    float[] k = ProbeSteps.random(random, shape.kvWidth());
                    float[] v = ProbeSteps.random(random, shape.kvWidth());
                    float[] q = ProbeSteps.random(random, shape.queryWidth());
                    ref.append(layer, k, v, 0);
                    cache.append(layer, BatchLayout.single(id, 1), k, v);
                    float[] out = new float[q.length];
                    Arrays.fill(out, Float.NaN);
                    cache.attend(layer, BatchLayout.single(id, 1), q, out);
                    int n = ref.keys.get(layer).size();
                    int exact = (int) cache.exactBudget(id, layer);
                    int sinks = config.sinks();
                    int[] positions = new int[exact];
                    for (int j = 0; j < sinks; j++) {
                        positions[j] = j;
                    }
                    for (int j = sinks; j < exact; j++) {
                        positions[j] = n - exact + j;
                    }
                    double[] expected = ref.attend(layer, q, 0, positions);
                    for (int j = 0; j < expected.length; j++) {
                        assertEquals(expected[j], out[j], 1e-5, "step " + s + " layer " + layer + " element " + j
                                + ", " + exact + " of " + n + " positions (seed " + seed + ")");
                    }
                }
            }
        }
    }

    @Test
    void configurationsNameTheFieldAtFault() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QuestConfig(RetroConfig.defaults(), 0));
        assertTrue(e.getMessage().contains("pageTokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new QuestConfig(null, 16));
        assertTrue(e.getMessage().contains("matched"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new StreamingLlmConfig(null));
        assertTrue(e.getMessage().contains("matched"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QuestConfig.atBudget(1.5));
        assertTrue(e.getMessage().contains("retrievalBudget"), e.getMessage());
        assertEquals(0.018, StreamingLlmConfig.defaults().matched().retrievalBudget());
        assertEquals(16, QuestConfig.defaults().pageTokens());
    }
}
