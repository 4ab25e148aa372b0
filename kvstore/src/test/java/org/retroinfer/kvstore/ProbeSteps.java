package org.retroinfer.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;

/** Random inputs, and one decode step through a {@link FidelityProbe}, whose answers must be exact attention. */
public final class ProbeSteps {
    private ProbeSteps() {}

    public static float[] random(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    public static void stepAndCheck(FidelityProbe probe, Float64Attention ref, int id, Random random, long seed) {
        AttentionShape shape = probe.shape();
        BatchLayout batch = BatchLayout.single(id, 1);
        for (int layer = 0; layer < shape.layers(); layer++) {
            float[] k = random(random, shape.kvWidth());
            float[] v = random(random, shape.kvWidth());
            float[] q = random(random, shape.queryWidth());
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
