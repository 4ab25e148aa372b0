package org.retroinfer.model.random;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.retroinfer.kernels.DType;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.tokenizer.ByteLevelBpeTrainer;
import org.retroinfer.model.tokenizer.Tokenizer;
import org.retroinfer.model.transformer.TensorNames;
import org.retroinfer.model.transformer.TensorNames.Part;
import org.retroinfer.model.weights.RowSource;
import org.retroinfer.model.weights.SafetensorsWriter;

/**
 * Writes a randomly initialised Llama-family model in Hugging Face format (config.json,
 * generation_config.json, tokenizer.json, model.safetensors) that Hugging Face transformers and
 * RetroInfer both load. Every weight is a function of the seed, the tensor's name and the row, so a
 * model is reproducible without storing it. Used by tests, golden-logit fixtures and the demo.
 */
public final class RandomModel {
    /** The special tokens every random model's tokenizer carries; the second ends generation. */
    public static final List<String> SPECIAL_TOKENS = List.of("<|begin_of_text|>", "<|end_of_text|>");

    /** The shape and numerics of a random model. */
    public record Spec(ModelFamily family, int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads,
                       int headDim, int vocabularyTarget, int maxPositions, double ropeTheta, RopeScaling ropeScaling,
                       boolean tiedEmbeddings, boolean attentionBias, DType storage, long seed) {
        public Spec {
            if (storage.isQuantized()) {
                throw new IllegalArgumentException("safetensors stores F32, F16 or BF16, got " + storage);
            }
            if (vocabularyTarget < 256 + SPECIAL_TOKENS.size()) {
                throw new IllegalArgumentException("a byte-level vocabulary needs at least "
                        + (256 + SPECIAL_TOKENS.size()) + " tokens, got " + vocabularyTarget);
            }
        }

        /** The demo's model: Llama 3.1 style, about 4M parameters, 8K context. */
        public static Spec demo() {
            return new Spec(ModelFamily.LLAMA, 256, 768, 4, 8, 2, 32, 2048, 8192, 500000,
                    new RopeScaling.Llama3(8, 1, 4, 1024), false, false, DType.BF16, 42);
        }
    }

    private RandomModel() {}

    /** Writes the model into {@code directory} (created if needed) and returns its vocabulary size. */
    public static int write(Path directory, Spec spec) {
        try {
            Files.createDirectories(directory);
            Path tokenizerFile = directory.resolve("tokenizer.json");
            ByteLevelBpeTrainer.train(corpus(), spec.vocabularyTarget(), SPECIAL_TOKENS, tokenizerFile);
            Tokenizer tokenizer = Tokenizer.load(tokenizerFile);
            int vocab = tokenizer.vocabularySize();
            int bos = tokenizer.tokenId(SPECIAL_TOKENS.get(0)).orElseThrow();
            int eos = tokenizer.tokenId(SPECIAL_TOKENS.get(1)).orElseThrow();
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            json.writeValue(directory.resolve("config.json").toFile(), config(json, spec, vocab, bos, eos));
            ObjectNode generation = json.createObjectNode();
            generation.put("bos_token_id", bos);
            generation.put("eos_token_id", eos);
            json.writeValue(directory.resolve("generation_config.json").toFile(), generation);
            weights(spec, vocab).write(directory.resolve("model.safetensors"));
            return vocab;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a random model to " + directory, e);
        }
    }

    private static ObjectNode config(ObjectMapper json, Spec s, int vocab, int bos, int eos) {
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add(s.family().architecture());
        c.put("model_type", s.family().modelType());
        c.put("vocab_size", vocab);
        c.put("hidden_size", s.hiddenSize());
        c.put("intermediate_size", s.intermediateSize());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("head_dim", s.headDim());
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", s.maxPositions());
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", s.ropeTheta());
        c.set("rope_scaling", ropeScaling(json, s.ropeScaling()));
        c.put("tie_word_embeddings", s.tiedEmbeddings());
        if (s.family() != ModelFamily.QWEN2 && s.family() != ModelFamily.MISTRAL) {
            c.put("attention_bias", s.attentionBias());
        }
        if (s.family() == ModelFamily.QWEN2 || s.family() == ModelFamily.QWEN3) {
            c.put("use_sliding_window", false);
        }
        if (s.family() == ModelFamily.MISTRAL) {
            c.putNull("sliding_window");
        }
        c.put("bos_token_id", bos);
        c.put("eos_token_id", eos);
        c.put("torch_dtype", switch (s.storage()) {
            case F32 -> "float32";
            case F16 -> "float16";
            default -> "bfloat16";
        });
        return c;
    }

    private static com.fasterxml.jackson.databind.JsonNode ropeScaling(ObjectMapper json, RopeScaling scaling) {
        ObjectNode r = json.createObjectNode();
        switch (scaling) {
            case RopeScaling.None n -> {
                return json.nullNode();
            }
            case RopeScaling.Linear l -> {
                r.put("rope_type", "linear");
                r.put("factor", l.factor());
            }
            case RopeScaling.Llama3 l -> {
                r.put("rope_type", "llama3");
                r.put("factor", l.factor());
                r.put("low_freq_factor", l.lowFreqFactor());
                r.put("high_freq_factor", l.highFreqFactor());
                r.put("original_max_position_embeddings", l.originalMaxPositions());
            }
            case RopeScaling.Yarn y -> {
                r.put("rope_type", "yarn");
                r.put("factor", y.factor());
                r.put("original_max_position_embeddings", y.originalMaxPositions());
            }
            case RopeScaling.Divisors d -> throw new IllegalArgumentException(
                    "per-frequency divisors exist only in GGUF files; a Hugging Face config cannot state them");
        }
        return r;
    }

    private static SafetensorsWriter weights(Spec s, int vocab) {
        SafetensorsWriter w = new SafetensorsWriter();
        TensorNames names = TensorNames.HUGGING_FACE;
        int hidden = s.hiddenSize();
        int q = s.heads() * s.headDim();
        int kv = s.kvHeads() * s.headDim();
        boolean qkvBias = s.family() == ModelFamily.QWEN2 || (s.attentionBias() && s.family() != ModelFamily.MISTRAL);
        boolean outputBias = s.attentionBias() && (s.family() == ModelFamily.LLAMA || s.family() == ModelFamily.QWEN3);
        matrix(w, s, names.embedding(), vocab, hidden, 1.0);
        for (int l = 0; l < s.layers(); l++) {
            norm(w, s, names.layer(l, Part.ATTENTION_NORM), hidden);
            matrix(w, s, names.layer(l, Part.QUERY), q, hidden, 1 / Math.sqrt(hidden));
            matrix(w, s, names.layer(l, Part.KEY), kv, hidden, 1 / Math.sqrt(hidden));
            matrix(w, s, names.layer(l, Part.VALUE), kv, hidden, 1 / Math.sqrt(hidden));
            matrix(w, s, names.layer(l, Part.OUTPUT), hidden, q, 1 / Math.sqrt(q));
            if (qkvBias) {
                vector(w, s, names.layer(l, Part.QUERY_BIAS), q, 0, 0.1);
                vector(w, s, names.layer(l, Part.KEY_BIAS), kv, 0, 0.1);
                vector(w, s, names.layer(l, Part.VALUE_BIAS), kv, 0, 0.1);
            }
            if (outputBias) {
                vector(w, s, names.layer(l, Part.OUTPUT_BIAS), hidden, 0, 0.1);
            }
            if (s.family().qkNorm()) {
                norm(w, s, names.layer(l, Part.QUERY_NORM), s.headDim());
                norm(w, s, names.layer(l, Part.KEY_NORM), s.headDim());
            }
            norm(w, s, names.layer(l, Part.FEED_FORWARD_NORM), hidden);
            matrix(w, s, names.layer(l, Part.GATE), s.intermediateSize(), hidden, 1 / Math.sqrt(hidden));
            matrix(w, s, names.layer(l, Part.UP), s.intermediateSize(), hidden, 1 / Math.sqrt(hidden));
            matrix(w, s, names.layer(l, Part.DOWN), hidden, s.intermediateSize(), 1 / Math.sqrt(s.intermediateSize()));
        }
        norm(w, s, names.finalNorm(), hidden);
        if (!s.tiedEmbeddings()) {
            matrix(w, s, names.lmHead(), vocab, hidden, 1 / Math.sqrt(hidden));
        }
        return w;
    }

    private static void matrix(SafetensorsWriter w, Spec s, String name, long rows, int cols, double scale) {
        w.add(name, s.storage(), new long[] {rows, cols}, gaussianRows(s.seed(), name, 0, scale));
    }

    private static void norm(SafetensorsWriter w, Spec s, String name, int n) {
        vector(w, s, name, n, 1, 0.1);
    }

    private static void vector(SafetensorsWriter w, Spec s, String name, int n, double mean, double scale) {
        w.add(name, s.storage(), new long[] {n}, gaussianRows(s.seed(), name, mean, scale));
    }

    /** Row r of tensor {@code name}: normal values with the given mean and scale, from (seed, name, r). */
    private static RowSource gaussianRows(long seed, String name, double mean, double scale) {
        long tensorSeed = seed * 0x9E3779B97F4A7C15L + name.hashCode();
        return (row, out) -> {
            SplittableRandom random = new SplittableRandom(tensorSeed ^ (row * 0xBF58476D1CE4E5B9L));
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (mean + scale * random.nextGaussian());
            }
        };
    }

    /** Text the random models' tokenizers are trained on: prose and code, so merges look real. */
    private static String corpus() throws IOException {
        try (InputStream in = RandomModel.class.getResourceAsStream("corpus.txt")) {
            if (in == null) {
                throw new IOException("the tokenizer training text corpus.txt is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
