package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.Float64Attention;

/** One decode step through a {@link FidelityProbe}, whose answers must be exact attention. */
final class ProbeSteps {
    private ProbeSteps() {}

    static void stepAndCheck(FidelityProbe probe, Float64Attention ref, int id, Random random, long seed) {
        AttentionShape shape = probe.shape();
        BatchLayout batch = BatchLayout.single(id, 1);
        for (int layer = 0; layer < shape.layers(); layer++) {
            float[] k = RetroKvCacheTest.random(random, shape.kvWidth());
            float[] v = RetroKvCacheTest.random(random, shape.kvWidth());
            float[] q = RetroKvCacheTest.random(random, shape.queryWidth());
            ref.append(layer, k, v, 0);
            probe.append(layer, batch, k, v);
            float[] out = new float[shape.queryWidth()];
            Arrays.fill(out, Float.NaN);
            probe.attend(layer, batch, q, out);
            double[] expected = ref.attend(layer, q, 0, ref.keys.get(layer).size() - 1);
            for (int j = 0; j < expected.length; j++) {
                assertEquals(expected[j], out[j], 1e-5, "the probe answers exactly; element " + j + " (seed " + seed + ")");
            }
        }
    }
}
