package org.retroinfer.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.baseline.QuestConfig;
import org.retroinfer.kvstore.baseline.QuestKvCache;
import org.retroinfer.kvstore.baseline.StreamingLlmConfig;
import org.retroinfer.kvstore.baseline.StreamingLlmKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;

class FidelityProbeTest {
    private static final AttentionShape SHAPE = new AttentionShape(2, 8, 2, 32);

    /** Small RetroInfer settings: 4 sinks, a 16-position window, 8-key clusters, 64-position updates. */
    private static RetroConfig small(double retrieval, double estimation) {
        return new RetroConfig(retrieval, estimation, 4, 16, 8, 128, 64, 10, ComputePool.threads(), DType.F16, 32);
    }

    /** Every sparse mode, at the settings it is given. */
    static Stream<Arguments> modes() {
        return Stream.of(
                Arguments.of("retro", (Function<RetroConfig, SparseKvCache>) c -> new RetroKvCache(SHAPE, c)),
                Arguments.of("streaming", (Function<RetroConfig, SparseKvCache>)
                        c -> new StreamingLlmKvCache(SHAPE, new StreamingLlmConfig(c))),
                Arguments.of("quest", (Function<RetroConfig, SparseKvCache>)
                        c -> new QuestKvCache(SHAPE, new QuestConfig(c, 16))));
    }

    /** A prompt of 600 positions, then 80 decode steps (an index update for RetroInfer), each checked against float64 attention. */
    private static List<FidelityProbe.LayerFidelity> run(SparseKvCache cache, long seed) {
        Random random = new Random(seed);
        try (FidelityProbe probe = new FidelityProbe(cache)) {
            int id = probe.openSequence();
            Float64Attention ref = new Float64Attention(SHAPE, DType.F16);
            for (int layer = 0; layer < SHAPE.layers(); layer++) {
                float[] k = ProbeSteps.random(random, 600 * SHAPE.kvWidth());
                float[] v = ProbeSteps.random(random, 600 * SHAPE.kvWidth());
                for (int t = 0; t < 600; t++) {
                    ref.append(layer, k, v, t * SHAPE.kvWidth());
                }
                probe.append(layer, BatchLayout.single(id, 600), k, v);
            }
            probe.endOfPrefill(id);
            for (int step = 0; step < 80; step++) {
                ProbeSteps.stepAndCheck(probe, ref, id, random, seed);
            }
            return probe.fidelity();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modes")
    void budgetsCoveringEveryPositionMeasureNoErrorFullMassAndFullRecall(String mode,
                                                                         Function<RetroConfig, SparseKvCache> make) {
        long seed = System.nanoTime();
        System.out.println(mode + " seed " + seed);
        for (FidelityProbe.LayerFidelity layer : run(make.apply(small(1.0, 0)), seed)) {
            System.out.println(layer);
            assertEquals(80L * SHAPE.queryHeads(), layer.samples());
            assertTrue(layer.maxRelativeError() < 1e-5, layer.toString());
            assertEquals(1.0, layer.exactMass(), 1e-6);
            assertEquals(1.0, layer.exactAndEstimatedMass(), 1e-6);
            assertEquals(1.0, layer.recallAt100(), 1e-12);
            assertEquals(1.0, layer.recallAt1(), 1e-12);
        }
    }

    /** Random keys spread attention thinly (the worst case for any sparse attention): large errors. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modes")
    void smallerBudgetsCoverLessAndErrMore(String mode, Function<RetroConfig, SparseKvCache> make) {
        long seed = System.nanoTime();
        System.out.println(mode + " seed " + seed);
        for (FidelityProbe.LayerFidelity layer : run(make.apply(small(0.1, 0.3)), seed)) {
            System.out.println(layer);
            assertTrue(layer.relativeError() > 1e-4 && Double.isFinite(layer.maxRelativeError()), layer.toString());
            assertTrue(layer.exactMass() > 0 && layer.exactMass() < 1, layer.toString());
            if (mode.equals("retro")) {
                assertTrue(layer.exactAndEstimatedMass() > layer.exactMass(), layer.toString());
            } else {
                assertEquals(layer.exactMass(), layer.exactAndEstimatedMass(), 1e-12, "no estimation: " + layer);
            }
            assertTrue(layer.recallAt100() > 0 && layer.recallAt100() < 1, layer.toString());
        }
    }
}
