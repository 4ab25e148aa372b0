package org.retroinfer.model.transformer;

import java.util.ArrayList;
import java.util.List;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.WeightMatrix;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.transformer.TensorNames.Part;
import org.retroinfer.model.weights.Tensor;
import org.retroinfer.model.weights.WeightFile;

/**
 * Finds every weight a decoder needs in a weights file and checks its shape and type against the
 * config, so that a wrong file fails at load time with the tensor's name rather than mid-forward.
 */
public final class WeightBinder {
    private static final DType[] MATRIX_TYPES = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};
    private static final DType[] VECTOR_TYPES = {DType.F32, DType.F16, DType.BF16};

    private final WeightFile file;
    private final TensorNames names;

    public WeightBinder(WeightFile file, TensorNames names) {
        this.file = file;
        this.names = names;
    }

    public ModelWeights bind(ModelConfig c) {
        int hidden = c.hiddenSize();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            layers.add(new LayerWeights(
                    vector(names.layer(l, Part.ATTENTION_NORM), hidden),
                    matrix(names.layer(l, Part.QUERY), c.queryWidth(), hidden),
                    matrix(names.layer(l, Part.KEY), c.kvWidth(), hidden),
                    matrix(names.layer(l, Part.VALUE), c.kvWidth(), hidden),
                    matrix(names.layer(l, Part.OUTPUT), hidden, c.queryWidth()),
                    c.qkvBias() ? vector(names.layer(l, Part.QUERY_BIAS), c.queryWidth()) : null,
                    c.qkvBias() ? vector(names.layer(l, Part.KEY_BIAS), c.kvWidth()) : null,
                    c.qkvBias() ? vector(names.layer(l, Part.VALUE_BIAS), c.kvWidth()) : null,
                    c.outputBias() ? vector(names.layer(l, Part.OUTPUT_BIAS), hidden) : null,
                    c.family().qkNorm() ? vector(names.layer(l, Part.QUERY_NORM), c.headDim()) : null,
                    c.family().qkNorm() ? vector(names.layer(l, Part.KEY_NORM), c.headDim()) : null,
                    vector(names.layer(l, Part.FEED_FORWARD_NORM), hidden),
                    matrix(names.layer(l, Part.GATE), c.intermediateSize(), hidden),
                    matrix(names.layer(l, Part.UP), c.intermediateSize(), hidden),
                    matrix(names.layer(l, Part.DOWN), hidden, c.intermediateSize())));
        }
        WeightMatrix embedding = matrix(names.embedding(), c.vocabSize(), hidden);
        WeightMatrix head = c.tiedEmbeddings() ? embedding : matrix(names.lmHead(), c.vocabSize(), hidden);
        return new ModelWeights(embedding, layers, vector(names.finalNorm(), hidden), head);
    }

    private WeightMatrix matrix(String name, int rows, int cols) {
        return file.require(name).requireType(MATRIX_TYPES).requireShape(rows, cols).asMatrix();
    }

    private float[] vector(String name, int length) {
        Tensor t = file.require(name).requireType(VECTOR_TYPES).requireShape(length);
        return t.toFloats();
    }
}
