package org.retroinfer.model.config;

/**
 * How a model stretches RoPE beyond the context it was pre-trained on, as configured in
 * {@code config.json}'s {@code rope_scaling} (formulas as in Hugging Face transformers'
 * {@code modeling_rope_utils}).
 */
public sealed interface RopeScaling {
    /** Plain RoPE. */
    record None() implements RopeScaling {}

    /** Position interpolation: every frequency divided by {@code factor}. */
    record Linear(double factor) implements RopeScaling {
        public Linear {
            requirePositive("rope_scaling.factor", factor);
        }
    }

    /**
     * Llama 3.1: low frequencies (wavelength above original/lowFreqFactor) divided by
     * {@code factor}, high ones (below original/highFreqFactor) kept, a smooth blend between.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions)
            implements RopeScaling {
        public Llama3 {
            requirePositive("rope_scaling.factor", factor);
            requirePositive("rope_scaling.low_freq_factor", lowFreqFactor);
            requirePositive("rope_scaling.original_max_position_embeddings", originalMaxPositions);
            if (!(highFreqFactor > lowFreqFactor)) {
                throw new IllegalArgumentException("rope_scaling.high_freq_factor (" + highFreqFactor
                        + ") must exceed low_freq_factor (" + lowFreqFactor + ")");
            }
        }
    }

    /**
     * YaRN: interpolation for low frequencies, extrapolation for high ones with a linear ramp
     * between the correction dimensions of {@code betaFast} and {@code betaSlow} rotations, and
     * cos/sin scaled by {@code attentionFactor}.
     */
    record Yarn(double factor, int originalMaxPositions, double betaFast, double betaSlow,
                double attentionFactor, boolean truncate) implements RopeScaling {
        public Yarn {
            requirePositive("rope_scaling.factor", factor);
            requirePositive("rope_scaling.original_max_position_embeddings", originalMaxPositions);
            requirePositive("rope_scaling.attention_factor", attentionFactor);
        }
    }

    /**
     * Per-frequency divisors given as a tensor, as llama.cpp stores Llama 3.1 scaling in GGUF
     * files ({@code rope_freqs.weight}): frequency i is divided by {@code divisors[i]}.
     */
    record Divisors(float[] divisors) implements RopeScaling {
        public Divisors {
            divisors = divisors.clone();
            for (float d : divisors) {
                if (!(d > 0)) {
                    throw new IllegalArgumentException("rope frequency divisors must be positive, got " + d);
                }
            }
        }

        @Override
        public float[] divisors() {
            return divisors.clone();
        }
    }

    private static void requirePositive(String name, double value) {
        if (!(value > 0)) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
