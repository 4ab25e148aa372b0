package org.retroinfer.model.transformer;

import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.config.RopeScaling;

/**
 * RoPE's rotation angles: one inverse frequency per rotated pair, scaled as the model's config
 * says, and the factor YaRN applies to cos and sin. Computed in float32 as Hugging Face
 * transformers does (angle = float(position) · inv_freq, rounded to float), so long-context
 * models see the angles they were trained with.
 */
public final class RotaryEmbedding {
    private final float[] inverseFrequencies;
    private final float attentionFactor;

    public RotaryEmbedding(ModelConfig config) {
        int dim = config.headDim();
        float[] base = new float[dim / 2];
        for (int i = 0; i < base.length; i++) {
            float exponent = (float) (2 * i) / dim;
            base[i] = 1f / (float) Math.pow(config.ropeTheta(), exponent);
        }
        this.inverseFrequencies = scaled(base, config);
        this.attentionFactor = config.ropeScaling() instanceof RopeScaling.Yarn y ? (float) y.attentionFactor() : 1f;
    }

    public float[] inverseFrequencies() {
        return inverseFrequencies.clone();
    }

    public float attentionFactor() {
        return attentionFactor;
    }

    /** Pairs rotated per head. */
    public int pairs() {
        return inverseFrequencies.length;
    }

    /** Writes cos and sin of every pair's angle at {@code position} into {@code [offset, offset + pairs)}. */
    public void angles(long position, float[] cos, float[] sin, int offset) {
        float p = (float) position;
        for (int i = 0; i < inverseFrequencies.length; i++) {
            float angle = p * inverseFrequencies[i];
            cos[offset + i] = (float) Math.cos(angle) * attentionFactor;
            sin[offset + i] = (float) Math.sin(angle) * attentionFactor;
        }
    }

    private static float[] scaled(float[] base, ModelConfig config) {
        return switch (config.ropeScaling()) {
            case RopeScaling.None none -> base;
            case RopeScaling.Linear linear -> map(base, f -> f / linear.factor());
            case RopeScaling.Divisors divisors -> {
                float[] d = divisors.divisors();
                float[] out = new float[base.length];
                for (int i = 0; i < base.length; i++) {
                    out[i] = base[i] / d[i];
                }
                yield out;
            }
            case RopeScaling.Llama3 llama3 -> llama3(base, llama3);
            case RopeScaling.Yarn yarn -> yarn(base.length * 2, config.ropeTheta(), yarn);
        };
    }

    /** Llama 3.1: keep high frequencies, divide low ones by the factor, blend in between. */
    private static float[] llama3(float[] base, RopeScaling.Llama3 s) {
        double lowWavelength = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelength = s.originalMaxPositions() / s.highFreqFactor();
        return map(base, f -> {
            double wavelength = 2 * Math.PI / f;
            if (wavelength < highWavelength) {
                return f;
            }
            if (wavelength > lowWavelength) {
                return f / s.factor();
            }
            double smooth = (s.originalMaxPositions() / wavelength - s.lowFreqFactor())
                    / (s.highFreqFactor() - s.lowFreqFactor());
            return (1 - smooth) * f / s.factor() + smooth * f;
        });
    }

    /**
     * YaRN: interpolated (divided by the factor) below the correction range, extrapolated
     * (unchanged) above it, with a linear ramp over the dimensions in between.
     */
    private static float[] yarn(int dim, double theta, RopeScaling.Yarn s) {
        double low = correctionDimension(s.betaFast(), dim, theta, s.originalMaxPositions());
        double high = correctionDimension(s.betaSlow(), dim, theta, s.originalMaxPositions());
        if (s.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001;
        }
        float[] out = new float[dim / 2];
        for (int i = 0; i < out.length; i++) {
            float posFreq = (float) Math.pow(theta, (float) (2 * i) / dim);
            float extrapolation = 1f / posFreq;
            float interpolation = (float) (1.0 / (s.factor() * posFreq));
            float ramp = (float) Math.min(1, Math.max(0, (i - low) / (high - low)));
            float extrapolationWeight = 1 - ramp;
            out[i] = interpolation * (1 - extrapolationWeight) + extrapolation * extrapolationWeight;
        }
        return out;
    }

    private static double correctionDimension(double rotations, int dim, double theta, int maxPositions) {
        return dim * Math.log(maxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    private static float[] map(float[] in, java.util.function.DoubleUnaryOperator f) {
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = (float) f.applyAsDouble(in[i]);
        }
        return out;
    }
}
