package org.retroinfer.model.transformer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.WeightMatrix;
import org.retroinfer.model.config.ModelConfig;

/** Random decoder weights held in F32 off-heap segments, for tests that need no files. */
public final class InMemoryWeights {
    private InMemoryWeights() {}

    public static ModelWeights random(ModelConfig c, Random random, Arena arena) {
        int hidden = c.hiddenSize();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            layers.add(new LayerWeights(
                    norm(random, hidden),
                    matrix(random, arena, c.queryWidth(), hidden),
                    matrix(random, arena, c.kvWidth(), hidden),
                    matrix(random, arena, c.kvWidth(), hidden),
                    matrix(random, arena, hidden, c.queryWidth()),
                    c.qkvBias() ? vector(random, c.queryWidth()) : null,
                    c.qkvBias() ? vector(random, c.kvWidth()) : null,
                    c.qkvBias() ? vector(random, c.kvWidth()) : null,
                    c.outputBias() ? vector(random, hidden) : null,
                    c.family().qkNorm() ? norm(random, c.headDim()) : null,
                    c.family().qkNorm() ? norm(random, c.headDim()) : null,
                    norm(random, hidden),
                    matrix(random, arena, c.intermediateSize(), hidden),
                    matrix(random, arena, c.intermediateSize(), hidden),
                    matrix(random, arena, hidden, c.intermediateSize())));
        }
        WeightMatrix embedding = matrix(random, arena, c.vocabSize(), hidden);
        WeightMatrix head = c.tiedEmbeddings() ? embedding : matrix(random, arena, c.vocabSize(), hidden);
        return new ModelWeights(embedding, layers, norm(random, hidden), head);
    }

    private static WeightMatrix matrix(Random random, Arena arena, int rows, int cols) {
        MemorySegment data = arena.allocate(4L * rows * cols, 64);
        double scale = 1.0 / Math.sqrt(cols);
        for (long i = 0; i < (long) rows * cols; i++) {
            data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextGaussian() * scale));
        }
        return new WeightMatrix(DType.F32, rows, cols, data);
    }

    private static float[] vector(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * 0.1);
        }
        return v;
    }

    private static float[] norm(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (1 + random.nextGaussian() * 0.1);
        }
        return v;
    }
}
