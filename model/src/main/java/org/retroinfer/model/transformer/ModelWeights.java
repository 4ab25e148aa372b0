package org.retroinfer.model.transformer;

import java.util.List;
import org.retroinfer.kernels.WeightMatrix;

/** All weights of a decoder; {@code lmHead} is the embedding itself where they are tied. */
public record ModelWeights(WeightMatrix embedding, List<LayerWeights> layers, float[] finalNorm, WeightMatrix lmHead) {
    public ModelWeights {
        layers = List.copyOf(layers);
    }
}
