package org.retroinfer.model.convert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.model.config.GenerationDefaults;
import org.retroinfer.model.config.HuggingFaceConfig;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.tokenizer.GgufVocabulary;
import org.retroinfer.model.transformer.RotaryEmbedding;
import org.retroinfer.model.transformer.TensorNames;
import org.retroinfer.model.transformer.TensorNames.Part;
import org.retroinfer.model.weights.GgufValue;
import org.retroinfer.model.weights.GgufWriter;
import org.retroinfer.model.weights.RowSource;
import org.retroinfer.model.weights.Tensor;
import org.retroinfer.model.weights.WeightFile;
import org.retroinfer.model.weights.WeightFiles;

/**
 * Writes a Hugging Face checkpoint as a GGUF file the way llama.cpp's {@code convert_hf_to_gguf.py}
 * does: its metadata keys and types, tensor names, norms and biases in F32, matrices in the chosen
 * type, the tokenizer's vocabulary, Llama 3.1 RoPE scaling as a {@code rope_freqs} tensor, and for
 * the {@code llama} architecture the query and key rows permuted so that RoPE rotates adjacent
 * pairs, as Meta's original layout (and llama.cpp) expects.
 */
public final class GgufConverter {
    private GgufConverter() {}

    /** Converts the checkpoint in {@code directory} into {@code output}, storing matrices as {@code type}. */
    public static void convert(Path directory, Path output, DType type) {
        ModelConfig c = HuggingFaceConfig.read(directory);
        GenerationDefaults defaults = HuggingFaceConfig.readGeneration(directory);
        String arch = c.family() == ModelFamily.MISTRAL ? "llama" : c.family().modelType();
        boolean permute = arch.equals("llama");
        GgufWriter writer = new GgufWriter();
        writer.putAll(metadata(c, arch, directory));
        writer.putAll(GgufVocabulary.export(directory.resolve("tokenizer.json")));
        defaults.bosTokenId().ifPresent(id -> writer.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(id)));
        if (!defaults.eosTokenIds().isEmpty()) {
            writer.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(defaults.eosTokenIds().getFirst()));
        }
        try (WeightFile weights = WeightFiles.open(directory)) {
            TensorNames hf = TensorNames.HUGGING_FACE;
            TensorNames gguf = TensorNames.GGUF;
            matrix(writer, weights.require(hf.embedding()), gguf.embedding(), type, 0);
            for (int l = 0; l < c.layers(); l++) {
                for (Part part : Part.values()) {
                    String name = hf.layer(l, part);
                    if (weights.find(name).isEmpty()) {
                        continue;
                    }
                    Tensor t = weights.require(name);
                    int heads = switch (part) {
                        case QUERY, QUERY_BIAS -> c.heads();
                        case KEY, KEY_BIAS -> c.kvHeads();
                        default -> 0;
                    };
                    int permuteHeads = permute ? heads : 0;
                    if (t.shape().length == 1) {
                        vector(writer, t, gguf.layer(l, part), permuteHeads);
                    } else {
                        matrix(writer, t, gguf.layer(l, part), type, permuteHeads);
                    }
                }
            }
            vector(writer, weights.require(hf.finalNorm()), gguf.finalNorm(), 0);
            if (!c.tiedEmbeddings()) {
                matrix(writer, weights.require(hf.lmHead()), gguf.lmHead(), type, 0);
            }
            if (c.ropeScaling() instanceof RopeScaling.Llama3) {
                writer.add("rope_freqs.weight", DType.F32, new long[] {c.headDim() / 2}, llama3Divisors(c));
            }
            Path parent = output.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new IllegalArgumentException("the output folder " + parent + " does not exist");
            }
            writer.write(output);
        }
    }

    private static Map<String, GgufValue> metadata(ModelConfig c, String arch, Path directory) {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.string(arch));
        m.put("general.name", GgufValue.string(directory.toAbsolutePath().getFileName().toString()));
        m.put(arch + ".context_length", GgufValue.uint32(c.maxPositions()));
        m.put(arch + ".embedding_length", GgufValue.uint32(c.hiddenSize()));
        m.put(arch + ".block_count", GgufValue.uint32(c.layers()));
        m.put(arch + ".feed_forward_length", GgufValue.uint32(c.intermediateSize()));
        m.put(arch + ".attention.head_count", GgufValue.uint32(c.heads()));
        m.put(arch + ".attention.head_count_kv", GgufValue.uint32(c.kvHeads()));
        m.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.float32(c.rmsNormEps()));
        m.put(arch + ".attention.key_length", GgufValue.uint32(c.headDim()));
        m.put(arch + ".attention.value_length", GgufValue.uint32(c.headDim()));
        m.put(arch + ".rope.dimension_count", GgufValue.uint32(c.headDim()));
        m.put(arch + ".rope.freq_base", GgufValue.float32(c.ropeTheta()));
        m.put(arch + ".vocab_size", GgufValue.uint32(c.vocabSize()));
        switch (c.ropeScaling()) {
            case RopeScaling.Linear s -> {
                m.put(arch + ".rope.scaling.type", GgufValue.string("linear"));
                m.put(arch + ".rope.scaling.factor", GgufValue.float32(s.factor()));
            }
            case RopeScaling.Yarn s -> {
                m.put(arch + ".rope.scaling.type", GgufValue.string("yarn"));
                m.put(arch + ".rope.scaling.factor", GgufValue.float32(s.factor()));
                m.put(arch + ".rope.scaling.original_context_length", GgufValue.uint32(s.originalMaxPositions()));
                m.put(arch + ".rope.scaling.yarn_attn_factor", GgufValue.float32(s.attentionFactor()));
                m.put(arch + ".rope.scaling.yarn_beta_fast", GgufValue.float32(s.betaFast()));
                m.put(arch + ".rope.scaling.yarn_beta_slow", GgufValue.float32(s.betaSlow()));
            }
            default -> { }
        }
        return m;
    }

    /**
     * Llama 3.1 scaling as llama.cpp stores it: per pair, the divisor that turns the base
     * frequency into the scaled one.
     */
    private static float[] llama3Divisors(ModelConfig c) {
        ModelConfig plain = new ModelConfig(c.family(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.layers(),
                c.heads(), c.kvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), new RopeScaling.None(),
                c.ropePairing(), c.maxPositions(), c.tiedEmbeddings(), c.qkvBias(), c.outputBias());
        float[] base = new RotaryEmbedding(plain).inverseFrequencies();
        float[] scaled = new RotaryEmbedding(c).inverseFrequencies();
        float[] divisors = new float[base.length];
        for (int i = 0; i < base.length; i++) {
            divisors[i] = base[i] / scaled[i];
        }
        return divisors;
    }

    private static void matrix(GgufWriter writer, Tensor t, String name, DType type, int permuteHeads) {
        long[] shape = t.shape();
        writer.add(name, type, shape, rows(t, (int) shape[1], permuteHeads, shape[0]));
    }

    private static void vector(GgufWriter writer, Tensor t, String name, int permuteHeads) {
        float[] values = t.toFloats();
        if (permuteHeads > 0) {
            float[] permuted = new float[values.length];
            RowSource source = rows(t, 1, permuteHeads, values.length);
            float[] one = new float[1];
            for (int r = 0; r < values.length; r++) {
                source.read(r, one);
                permuted[r] = one[0];
            }
            values = permuted;
        }
        writer.add(name, DType.F32, t.shape(), values);
    }

    /**
     * The rows of {@code t} as floats; with {@code heads > 0}, reordered within each head from
     * halves ([x_0 … x_{d/2−1} | y_0 … y_{d/2−1}]) to adjacent pairs (x_0 y_0 x_1 y_1 …).
     */
    private static RowSource rows(Tensor t, int columns, int heads, long rowCount) {
        long rowBytes = t.type().byteSize(columns);
        int headRows = heads > 0 ? (int) (rowCount / heads) : 0;
        return (row, out) -> {
            long source = row;
            if (heads > 0) {
                long head = row / headRows;
                int within = (int) (row % headRows);
                source = head * headRows + (within % 2) * (headRows / 2L) + within / 2;
            }
            Dequantize.row(t.type(), t.data(), source * rowBytes, columns, out, 0);
        };
    }
}
