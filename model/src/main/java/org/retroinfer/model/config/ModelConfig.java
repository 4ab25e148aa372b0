package org.retroinfer.model.config;

import org.retroinfer.kernels.Rope;

/**
 * The shape and numerics of a Llama-family decoder, whatever file it came from.
 *
 * @param ropePairing which dimensions RoPE rotates together: Hugging Face checkpoints use halves;
 *                    GGUF files of the {@code llama} architecture store Q/K rows permuted for
 *                    adjacent pairs
 * @param qkvBias     q, k and v projections carry biases (Qwen2, Llama with attention_bias)
 * @param outputBias  the attention output projection carries a bias (Llama with attention_bias)
 */
public record ModelConfig(
        ModelFamily family,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        Rope.Pairing ropePairing,
        int maxPositions,
        boolean tiedEmbeddings,
        boolean qkvBias,
        boolean outputBias) {

    public ModelConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositions);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + heads
                    + ") must be a multiple of num_key_value_heads (" + kvHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for RoPE, got " + headDim);
        }
        if (!(rmsNormEps > 0 && rmsNormEps < 1)) {
            throw new IllegalArgumentException("rms_norm_eps must be in (0, 1), got " + rmsNormEps);
        }
        if (!(ropeTheta > 1)) {
            throw new IllegalArgumentException("rope_theta must be greater than 1, got " + ropeTheta);
        }
        if (ropeScaling instanceof RopeScaling.Divisors d && d.divisors().length != headDim / 2) {
            throw new IllegalArgumentException("rope frequency divisors must number head_dim/2 = " + headDim / 2
                    + ", got " + d.divisors().length);
        }
    }

    /** Width of all query heads of one token. */
    /** The attention a KV cache must serve for this model. */
    public org.retroinfer.kvstore.AttentionShape attentionShape() {
        return new org.retroinfer.kvstore.AttentionShape(layers, heads, kvHeads, headDim);
    }

    public int queryWidth() {
        return heads * headDim;
    }

    /** Width of all key (or value) heads of one token. */
    public int kvWidth() {
        return kvHeads * headDim;
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
