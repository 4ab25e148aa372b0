package org.retroinfer.model.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.function.Predicate;
import org.retroinfer.kernels.Rope;
import org.retroinfer.model.weights.GgufValue;
import org.retroinfer.model.weights.ModelFileException;

/**
 * Reads a decoder's configuration from GGUF metadata, with the keys and conventions llama.cpp
 * uses ({@code llama.context_length}, {@code qwen2.attention.head_count}, ...).
 */
public final class GgufConfig {
    private GgufConfig() {}

    /**
     * @param hasTensor   whether the file holds a tensor of that name (biases, the output matrix)
     * @param ropeFactors the {@code rope_freqs.weight} values where the file has them, else null
     */
    public static ModelConfig read(Path file, Map<String, GgufValue> metadata, Predicate<String> hasTensor,
                                   float[] ropeFactors) {
        String arch = string(file, metadata, "general.architecture");
        ModelFamily family = switch (arch) {
            case "llama" -> ModelFamily.LLAMA;
            case "qwen2" -> ModelFamily.QWEN2;
            case "qwen3" -> ModelFamily.QWEN3;
            default -> throw new ModelFileException(file, "GGUF architecture '" + arch
                    + "' is not supported; RetroInfer runs llama (Llama, Mistral), qwen2 and qwen3");
        };
        Keys k = new Keys(file, metadata, arch);
        int hidden = k.integer("embedding_length");
        int heads = k.integer("attention.head_count");
        int headDim = k.optionalInteger("attention.key_length", hidden / heads);
        int ropeDims = k.optionalInteger("rope.dimension_count", headDim);
        if (ropeDims != headDim) {
            throw new ModelFileException(file, arch + ".rope.dimension_count (" + ropeDims
                    + ") differs from the head size (" + headDim + "); partial rotary embeddings are not supported");
        }
        int vocab = metadata.containsKey(arch + ".vocab_size") ? k.integer("vocab_size")
                : metadata.containsKey("tokenizer.ggml.tokens")
                        ? metadata.get("tokenizer.ggml.tokens").asList().size()
                        : -1;
        int maxPositions = k.integer("context_length");
        try {
            return new ModelConfig(
                    family,
                    vocab,
                    hidden,
                    k.integer("feed_forward_length"),
                    k.integer("block_count"),
                    heads,
                    k.optionalInteger("attention.head_count_kv", heads),
                    headDim,
                    k.number("attention.layer_norm_rms_epsilon"),
                    metadata.containsKey(arch + ".rope.freq_base") ? k.number("rope.freq_base") : 10000.0,
                    scaling(k, maxPositions, ropeFactors),
                    family == ModelFamily.LLAMA ? Rope.Pairing.ADJACENT : Rope.Pairing.HALVES,
                    maxPositions,
                    !hasTensor.test("output.weight"),
                    family.qkvBias() || hasTensor.test("blk.0.attn_q.bias"),
                    hasTensor.test("blk.0.attn_output.bias"));
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage(), e);
        }
    }

    /** End-of-sequence and beginning-of-sequence tokens from the GGUF tokenizer metadata. */
    public static GenerationDefaults generationDefaults(Map<String, GgufValue> metadata) {
        List<Integer> eos = new ArrayList<>();
        for (String key : List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                "tokenizer.ggml.eom_token_id")) {
            if (metadata.containsKey(key)) {
                eos.add((int) metadata.get(key).asLong());
            }
        }
        GgufValue bos = metadata.get("tokenizer.ggml.bos_token_id");
        return new GenerationDefaults(bos == null ? OptionalInt.empty() : OptionalInt.of((int) bos.asLong()),
                eos.stream().distinct().toList(), OptionalDouble.empty(), OptionalDouble.empty(), OptionalInt.empty());
    }

    private static RopeScaling scaling(Keys k, int maxPositions, float[] ropeFactors) {
        String type = k.optionalString("rope.scaling.type", "none");
        return switch (type) {
            case "none" -> ropeFactors != null ? new RopeScaling.Divisors(ropeFactors) : new RopeScaling.None();
            case "linear" -> new RopeScaling.Linear(k.number("rope.scaling.factor"));
            case "yarn" -> {
                double factor = k.number("rope.scaling.factor");
                double attention = k.has("rope.scaling.yarn_attn_factor") ? k.number("rope.scaling.yarn_attn_factor")
                        : factor <= 1 ? 1 : 0.1 * Math.log(factor) + 1;
                yield new RopeScaling.Yarn(factor,
                        k.optionalInteger("rope.scaling.original_context_length", maxPositions),
                        k.has("rope.scaling.yarn_beta_fast") ? k.number("rope.scaling.yarn_beta_fast") : 32,
                        k.has("rope.scaling.yarn_beta_slow") ? k.number("rope.scaling.yarn_beta_slow") : 1,
                        attention, true);
            }
            default -> throw new ModelFileException(k.file, k.arch + ".rope.scaling.type '" + type
                    + "' is not supported; supported: none, linear, yarn");
        };
    }

    private static String string(Path file, Map<String, GgufValue> metadata, String key) {
        GgufValue v = metadata.get(key);
        if (v == null || !(v.value() instanceof String s)) {
            throw new ModelFileException(file, "GGUF metadata " + key + " is missing or not a string");
        }
        return s;
    }

    /** Typed access to {@code <arch>.<name>} keys, with errors that name the key. */
    private record Keys(Path file, Map<String, GgufValue> metadata, String arch) {
        boolean has(String name) {
            return metadata.containsKey(arch + "." + name);
        }

        int integer(String name) {
            GgufValue v = metadata.get(arch + "." + name);
            if (v == null || !(v.value() instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
                throw new ModelFileException(file, "GGUF metadata " + arch + "." + name
                        + " is missing or not a non-negative integer");
            }
            return l.intValue();
        }

        int optionalInteger(String name, int fallback) {
            return has(name) ? integer(name) : fallback;
        }

        double number(String name) {
            GgufValue v = metadata.get(arch + "." + name);
            if (v == null || !(v.value() instanceof Number n)) {
                throw new ModelFileException(file, "GGUF metadata " + arch + "." + name + " is missing or not a number");
            }
            return n.doubleValue();
        }

        String optionalString(String name, String fallback) {
            return has(name) ? string(file, metadata, arch + "." + name) : fallback;
        }
    }
}
