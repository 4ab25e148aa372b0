package org.retroinfer.model.transformer;

import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.Rope;
import org.retroinfer.kernels.VectorMath;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.config.ModelConfig;

/**
 * The Llama-family decoder's forward pass over one step: a batch of token rows from one or more
 * sequences (a prefill chunk, a lock-step decode step, or both mixed). Attention goes through the
 * {@link KvCache}, which stores the step's post-RoPE keys and values.
 */
public final class Transformer implements ForwardPass {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final RotaryEmbedding rope;

    public Transformer(ModelConfig config, ModelWeights weights) {
        this.config = config;
        this.weights = weights;
        this.rope = new RotaryEmbedding(config);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public RotaryEmbedding rope() {
        return rope;
    }

    /**
     * Runs the step and writes the logits of the rows listed in {@code logitRows} into
     * {@code logits} ([logitRows.length][vocab]).
     *
     * @param layout    which sequence each row belongs to; a sequence's rows are its next positions
     * @param tokens    the token of each row
     * @param positions the position of each row in its sequence
     */
    @Override
    public void forward(BatchLayout layout, int[] tokens, long[] positions, KvCache cache, int[] logitRows, float[] logits) {
        int rows = layout.rows();
        if (tokens.length != rows || positions.length != rows) {
            throw new IllegalArgumentException("a step of " + rows + " rows needs as many tokens and positions, got "
                    + tokens.length + " and " + positions.length);
        }
        int hidden = config.hiddenSize();
        float[] x = new float[rows * hidden];
        for (int r = 0; r < rows; r++) {
            if (tokens[r] < 0 || tokens[r] >= config.vocabSize()) {
                throw new IllegalArgumentException("token " + tokens[r] + " is outside the vocabulary of "
                        + config.vocabSize());
            }
            weights.embedding().readRow(tokens[r], x, r * hidden);
        }
        Workspace ws = new Workspace(config, rows);
        int pairs = rope.pairs();
        for (int r = 0; r < rows; r++) {
            rope.angles(positions[r], ws.cos, ws.sin, r * pairs);
        }
        for (int l = 0; l < config.layers(); l++) {
            attentionBlock(l, layout, rows, x, cache, ws);
            feedForwardBlock(l, rows, x, ws);
        }
        float[] selected = new float[logitRows.length * hidden];
        for (int i = 0; i < logitRows.length; i++) {
            VectorMath.rmsNorm(x, logitRows[i] * hidden, weights.finalNorm(), (float) config.rmsNormEps(),
                    selected, i * hidden, hidden);
        }
        Matmul.multiply(weights.lmHead(), selected, logits, logitRows.length);
    }

    private void attentionBlock(int l, BatchLayout layout, int rows, float[] x, KvCache cache, Workspace ws) {
        LayerWeights w = weights.layers().get(l);
        int hidden = config.hiddenSize();
        int d = config.headDim();
        float eps = (float) config.rmsNormEps();
        for (int r = 0; r < rows; r++) {
            VectorMath.rmsNorm(x, r * hidden, w.attentionNorm(), eps, ws.normed, r * hidden, hidden);
        }
        Matmul.multiply(w.query(), ws.normed, ws.q, rows);
        Matmul.multiply(w.key(), ws.normed, ws.k, rows);
        Matmul.multiply(w.value(), ws.normed, ws.v, rows);
        addBias(ws.q, w.queryBias(), rows);
        addBias(ws.k, w.keyBias(), rows);
        addBias(ws.v, w.valueBias(), rows);
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < config.heads(); h++) {
                int off = r * config.queryWidth() + h * d;
                if (w.queryNorm() != null) {
                    VectorMath.rmsNorm(ws.q, off, w.queryNorm(), eps, ws.q, off, d);
                }
                Rope.rotate(ws.q, off, d, ws.cos, ws.sin, r * rope.pairs(), config.ropePairing());
            }
            for (int h = 0; h < config.kvHeads(); h++) {
                int off = r * config.kvWidth() + h * d;
                if (w.keyNorm() != null) {
                    VectorMath.rmsNorm(ws.k, off, w.keyNorm(), eps, ws.k, off, d);
                }
                Rope.rotate(ws.k, off, d, ws.cos, ws.sin, r * rope.pairs(), config.ropePairing());
            }
        }
        cache.append(l, layout, ws.k, ws.v);
        cache.attend(l, layout, ws.q, ws.attention);
        Matmul.multiply(w.output(), ws.attention, ws.projected, rows);
        addBias(ws.projected, w.outputBias(), rows);
        VectorMath.addInPlace(x, 0, ws.projected, 0, rows * hidden);
    }

    private void feedForwardBlock(int l, int rows, float[] x, Workspace ws) {
        LayerWeights w = weights.layers().get(l);
        int hidden = config.hiddenSize();
        for (int r = 0; r < rows; r++) {
            VectorMath.rmsNorm(x, r * hidden, w.feedForwardNorm(), (float) config.rmsNormEps(), ws.normed, r * hidden, hidden);
        }
        Matmul.multiply(w.gate(), ws.normed, ws.gate, rows);
        Matmul.multiply(w.up(), ws.normed, ws.up, rows);
        VectorMath.swiglu(ws.gate, ws.up, rows * config.intermediateSize());
        Matmul.multiply(w.down(), ws.gate, ws.projected, rows);
        VectorMath.addInPlace(x, 0, ws.projected, 0, rows * hidden);
    }

    private static void addBias(float[] x, float[] bias, int rows) {
        if (bias == null) {
            return;
        }
        for (int r = 0; r < rows; r++) {
            VectorMath.addInPlace(x, r * bias.length, bias, 0, bias.length);
        }
    }

    /** Activations of one step, sized for its rows. */
    private static final class Workspace {
        final float[] normed;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] attention;
        final float[] projected;
        final float[] gate;
        final float[] up;
        final float[] cos;
        final float[] sin;

        Workspace(ModelConfig c, int rows) {
            normed = new float[rows * c.hiddenSize()];
            q = new float[rows * c.queryWidth()];
            k = new float[rows * c.kvWidth()];
            v = new float[rows * c.kvWidth()];
            attention = new float[rows * c.queryWidth()];
            projected = new float[rows * c.hiddenSize()];
            gate = new float[rows * c.intermediateSize()];
            up = new float[rows * c.intermediateSize()];
            cos = new float[rows * c.headDim() / 2];
            sin = new float[rows * c.headDim() / 2];
        }
    }
}
