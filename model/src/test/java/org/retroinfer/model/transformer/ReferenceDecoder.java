package org.retroinfer.model.transformer;

import java.util.ArrayList;
import java.util.List;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;
import org.retroinfer.kernels.Rope;
import org.retroinfer.kernels.WeightMatrix;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.config.RopeScaling;

/**
 * A float64 oracle of the Llama-family forward pass, written straight from the Hugging Face
 * modelling code, one token at a time, with keys and values rounded to the KV cache's storage
 * type (the one rounding the engine is specified to make). Slow and simple on purpose.
 */
final class ReferenceDecoder {
    private final ModelConfig c;
    private final ModelWeights w;
    private final DType kvStorage;
    private final double[] inverseFrequencies;
    private final double attentionFactor;
    private final List<List<double[]>> keys = new ArrayList<>();
    private final List<List<double[]>> values = new ArrayList<>();

    ReferenceDecoder(ModelConfig c, ModelWeights w, DType kvStorage) {
        this.c = c;
        this.w = w;
        this.kvStorage = kvStorage;
        this.inverseFrequencies = inverseFrequencies(c);
        this.attentionFactor = c.ropeScaling() instanceof RopeScaling.Yarn y ? y.attentionFactor() : 1;
        for (int l = 0; l < c.layers(); l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    /** Feeds the next token (at the next position) and returns the logits after it. */
    double[] next(int token) {
        int position = keys.get(0).size();
        int hidden = c.hiddenSize();
        double[] x = row(w.embedding(), token);
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers().get(l);
            double[] h = rmsNorm(x, lw.attentionNorm());
            double[] q = add(matVec(lw.query(), h), lw.queryBias());
            double[] k = add(matVec(lw.key(), h), lw.keyBias());
            double[] v = add(matVec(lw.value(), h), lw.valueBias());
            int d = c.headDim();
            for (int head = 0; head < c.heads(); head++) {
                perHead(q, head * d, lw.queryNorm(), position);
            }
            for (int head = 0; head < c.kvHeads(); head++) {
                perHead(k, head * d, lw.keyNorm(), position);
            }
            keys.get(l).add(rounded(k));
            values.get(l).add(rounded(v));
            double[] attention = attend(l, q);
            double[] o = add(matVec(lw.output(), attention), lw.outputBias());
            for (int i = 0; i < hidden; i++) {
                x[i] += o[i];
            }
            double[] f = rmsNorm(x, lw.feedForwardNorm());
            double[] gate = matVec(lw.gate(), f);
            double[] up = matVec(lw.up(), f);
            for (int i = 0; i < gate.length; i++) {
                gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            }
            double[] down = matVec(lw.down(), gate);
            for (int i = 0; i < hidden; i++) {
                x[i] += down[i];
            }
        }
        return matVec(w.lmHead(), rmsNorm(x, w.finalNorm()));
    }

    private void perHead(double[] x, int off, float[] norm, int position) {
        int d = c.headDim();
        if (norm != null) {
            double[] head = new double[d];
            System.arraycopy(x, off, head, 0, d);
            System.arraycopy(rmsNorm(head, norm), 0, x, off, d);
        }
        for (int i = 0; i < d / 2; i++) {
            int a = c.ropePairing() == Rope.Pairing.HALVES ? off + i : off + 2 * i;
            int b = c.ropePairing() == Rope.Pairing.HALVES ? off + i + d / 2 : off + 2 * i + 1;
            double angle = position * inverseFrequencies[i];
            double cos = Math.cos(angle) * attentionFactor;
            double sin = Math.sin(angle) * attentionFactor;
            double x0 = x[a];
            double x1 = x[b];
            x[a] = x0 * cos - x1 * sin;
            x[b] = x0 * sin + x1 * cos;
        }
    }

    private double[] attend(int layer, double[] q) {
        int d = c.headDim();
        int group = c.heads() / c.kvHeads();
        List<double[]> ks = keys.get(layer);
        List<double[]> vs = values.get(layer);
        double[] out = new double[c.queryWidth()];
        for (int head = 0; head < c.heads(); head++) {
            int kv = head / group;
            double[] s = new double[ks.size()];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < ks.size(); t++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += q[head * d + i] * ks.get(t)[kv * d + i];
                }
                s[t] = dot / Math.sqrt(d);
                max = Math.max(max, s[t]);
            }
            double sum = 0;
            for (int t = 0; t < s.length; t++) {
                s[t] = Math.exp(s[t] - max);
                sum += s[t];
            }
            for (int t = 0; t < s.length; t++) {
                for (int i = 0; i < d; i++) {
                    out[head * d + i] += s[t] / sum * vs.get(t)[kv * d + i];
                }
            }
        }
        return out;
    }

    private double[] rounded(double[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = Half.round(kvStorage, (float) x[i]);
        }
        return r;
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double sum = 0;
        for (double v : x) {
            sum += v * v;
        }
        double inv = 1 / Math.sqrt(sum / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * weight[i];
        }
        return out;
    }

    private static double[] add(double[] x, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < x.length; i++) {
                x[i] += bias[i];
            }
        }
        return x;
    }

    private static double[] row(WeightMatrix m, int r) {
        double[] out = new double[(int) m.cols()];
        for (int i = 0; i < out.length; i++) {
            out[i] = m.get(r, i);
        }
        return out;
    }

    private static double[] matVec(WeightMatrix m, double[] x) {
        double[] out = new double[(int) m.rows()];
        for (int r = 0; r < out.length; r++) {
            double sum = 0;
            for (int i = 0; i < x.length; i++) {
                sum += m.get(r, i) * x[i];
            }
            out[r] = sum;
        }
        return out;
    }

    /** Hugging Face's inverse frequencies, in float64. */
    private static double[] inverseFrequencies(ModelConfig c) {
        int dim = c.headDim();
        double[] f = new double[dim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1 / Math.pow(c.ropeTheta(), 2.0 * i / dim);
        }
        switch (c.ropeScaling()) {
            case RopeScaling.None n -> { }
            case RopeScaling.Linear s -> {
                for (int i = 0; i < f.length; i++) {
                    f[i] /= s.factor();
                }
            }
            case RopeScaling.Divisors s -> {
                for (int i = 0; i < f.length; i++) {
                    f[i] /= s.divisors()[i];
                }
            }
            case RopeScaling.Llama3 s -> {
                double low = s.originalMaxPositions() / s.lowFreqFactor();
                double high = s.originalMaxPositions() / s.highFreqFactor();
                for (int i = 0; i < f.length; i++) {
                    double wavelength = 2 * Math.PI / f[i];
                    if (wavelength > low) {
                        f[i] /= s.factor();
                    } else if (wavelength >= high) {
                        double smooth = (s.originalMaxPositions() / wavelength - s.lowFreqFactor())
                                / (s.highFreqFactor() - s.lowFreqFactor());
                        f[i] = (1 - smooth) * f[i] / s.factor() + smooth * f[i];
                    }
                }
            }
            case RopeScaling.Yarn s -> {
                double lowDim = Math.floor(dim * Math.log(s.originalMaxPositions() / (s.betaFast() * 2 * Math.PI))
                        / (2 * Math.log(c.ropeTheta())));
                double highDim = Math.ceil(dim * Math.log(s.originalMaxPositions() / (s.betaSlow() * 2 * Math.PI))
                        / (2 * Math.log(c.ropeTheta())));
                lowDim = Math.max(lowDim, 0);
                highDim = Math.min(highDim, dim - 1);
                for (int i = 0; i < f.length; i++) {
                    double ramp = Math.min(1, Math.max(0, (i - lowDim) / (highDim - lowDim)));
                    f[i] = f[i] / s.factor() * ramp + f[i] * (1 - ramp);
                }
            }
        }
        return f;
    }
}
