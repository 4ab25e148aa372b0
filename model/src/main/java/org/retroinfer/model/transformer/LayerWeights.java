package org.retroinfer.model.transformer;

import org.retroinfer.kernels.WeightMatrix;

/**
 * The weights of one decoder layer. Norm weights and biases are small and copied to floats;
 * matrices stay in the mapped file. Optional parts are null where the family has none.
 */
public record LayerWeights(
        float[] attentionNorm,
        WeightMatrix query,
        WeightMatrix key,
        WeightMatrix value,
        WeightMatrix output,
        float[] queryBias,
        float[] keyBias,
        float[] valueBias,
        float[] outputBias,
        float[] queryNorm,
        float[] keyNorm,
        float[] feedForwardNorm,
        WeightMatrix gate,
        WeightMatrix up,
        WeightMatrix down) {}
