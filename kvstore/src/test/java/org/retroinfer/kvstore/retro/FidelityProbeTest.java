package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.Float64Attention;

class FidelityProbeTest {
    private static final AttentionShape SHAPE = new AttentionShape(2, 8, 2, 32);

    /** A prompt of 600 positions, then 40 decode steps, each checked against float64 attention. */
    private static List<FidelityProbe.LayerFidelity> run(RetroConfig config, long seed) {
        Random random = new Random(seed);
        try (FidelityProbe probe = new FidelityProbe(SHAPE, config)) {
            int id = probe.openSequence();
            Float64Attention ref = new Float64Attention(SHAPE, config.storage());
            for (int layer = 0; layer < SHAPE.layers(); layer++) {
                float[] k = RetroKvCacheTest.random(random, 600 * SHAPE.kvWidth());
                float[] v = RetroKvCacheTest.random(random, 600 * SHAPE.kvWidth());
                for (int t = 0; t < 600; t++) {
                    ref.append(layer, k, v, t * SHAPE.kvWidth());
                }
                probe.append(layer, org.retroinfer.kvstore.BatchLayout.single(id, 600), k, v);
            }
            probe.endOfPrefill(id);
            for (int step = 0; step < 40; step++) {
                ProbeSteps.stepAndCheck(probe, ref, id, random, seed);
            }
            return probe.fidelity();
        }
    }

    @Test
    void budgetsCoveringEveryClusterMeasureNoErrorFullMassAndFullRecall() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        for (FidelityProbe.LayerFidelity layer : run(RetroKvCacheTest.small(DType.F16).withBudgets(1.0, 0), seed)) {
            System.out.println(layer);
            assertEquals(40L * SHAPE.queryHeads(), layer.samples());
            assertTrue(layer.maxRelativeError() < 1e-5, layer.toString());
            assertEquals(1.0, layer.exactMass(), 1e-6);
            assertEquals(1.0, layer.exactAndEstimatedMass(), 1e-6);
            assertEquals(1.0, layer.recallAt100(), 1e-12);
        }
    }

    /** Random keys spread attention thinly (the worst case for any sparse attention): large errors. */
    @Test
    void smallerBudgetsCoverLessAndErrMore() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        for (FidelityProbe.LayerFidelity layer : run(RetroKvCacheTest.small(DType.F16).withBudgets(0.1, 0.3), seed)) {
            System.out.println(layer);
            assertTrue(layer.relativeError() > 1e-4 && Double.isFinite(layer.maxRelativeError()), layer.toString());
            assertTrue(layer.exactMass() > 0 && layer.exactMass() < 1, layer.toString());
            assertTrue(layer.exactAndEstimatedMass() > layer.exactMass(), layer.toString());
            assertTrue(layer.recallAt100() > 0 && layer.recallAt100() < 1, layer.toString());
        }
    }
}
