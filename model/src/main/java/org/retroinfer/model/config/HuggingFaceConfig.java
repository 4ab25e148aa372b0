package org.retroinfer.model.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.retroinfer.kernels.Rope;
import org.retroinfer.model.weights.ModelFileException;

/**
 * Reads a Hugging Face checkpoint's {@code config.json} and {@code generation_config.json}, with
 * the defaults transformers applies for each family. Both the v4 layout ({@code rope_theta} +
 * {@code rope_scaling}) and the v5 one ({@code rope_parameters}) are understood.
 */
public final class HuggingFaceConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceConfig() {}

    /** The model configuration of the checkpoint in {@code directory}. */
    public static ModelConfig read(Path directory) {
        Path file = directory.resolve("config.json");
        JsonNode root = parse(file);
        String modelType = text(root, "model_type", file);
        ModelFamily family = ModelFamily.ofModelType(modelType);
        String architecture = root.path("architectures").path(0).asText(null);
        if (family == null) {
            throw new ModelFileException(file, "model_type '" + modelType + "'"
                    + (architecture == null ? "" : " (" + architecture + ")")
                    + " is not supported; RetroInfer runs " + ModelFamily.supportedList());
        }
        if (architecture != null && !architecture.equals(family.architecture())) {
            throw new ModelFileException(file, "architecture " + architecture + " is not supported; for model_type "
                    + modelType + " RetroInfer runs " + family.architecture());
        }
        String activation = root.path("hidden_act").asText("silu");
        if (!activation.equals("silu")) {
            throw new ModelFileException(file, "hidden_act '" + activation + "' is not supported; only silu (SwiGLU) is");
        }
        if (root.path("mlp_bias").asBoolean(false)) {
            throw new ModelFileException(file, "mlp_bias: true is not supported (no Llama-family release uses it)");
        }
        int heads = integer(root, "num_attention_heads", file);
        int hidden = integer(root, "hidden_size", file);
        int maxPositions = integer(root, "max_position_embeddings", file);
        rejectSlidingWindow(root, family, maxPositions, file);
        int headDim = root.hasNonNull("head_dim") ? integer(root, "head_dim", file) : hidden / heads;
        boolean attentionBias = root.path("attention_bias").asBoolean(false);
        try {
            return new ModelConfig(
                    family,
                    integer(root, "vocab_size", file),
                    hidden,
                    integer(root, "intermediate_size", file),
                    integer(root, "num_hidden_layers", file),
                    heads,
                    root.hasNonNull("num_key_value_heads") ? integer(root, "num_key_value_heads", file) : heads,
                    headDim,
                    root.path("rms_norm_eps").asDouble(1e-6),
                    ropeTheta(root),
                    ropeScaling(root, maxPositions, file),
                    Rope.Pairing.HALVES,
                    maxPositions,
                    root.path("tie_word_embeddings").asBoolean(false),
                    family.qkvBias() || (attentionBias && family != ModelFamily.MISTRAL),
                    attentionBias && (family == ModelFamily.LLAMA || family == ModelFamily.QWEN3));
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage(), e);
        }
    }

    /**
     * End-of-sequence tokens and recommended sampling from {@code generation_config.json}, falling
     * back to {@code config.json}'s token ids; both files are optional here.
     */
    public static GenerationDefaults readGeneration(Path directory) {
        Path configFile = directory.resolve("config.json");
        Path generationFile = directory.resolve("generation_config.json");
        JsonNode config = Files.exists(configFile) ? parse(configFile) : JSON.createObjectNode();
        JsonNode generation = Files.exists(generationFile) ? parse(generationFile) : JSON.createObjectNode();
        List<Integer> eos = new ArrayList<>();
        addIds(generation.path("eos_token_id"), eos);
        addIds(config.path("eos_token_id"), eos);
        JsonNode bos = generation.hasNonNull("bos_token_id") ? generation.get("bos_token_id") : config.path("bos_token_id");
        boolean sampling = generation.path("do_sample").asBoolean(true);
        return new GenerationDefaults(
                bos.canConvertToInt() ? OptionalInt.of(bos.asInt()) : OptionalInt.empty(),
                eos.stream().distinct().toList(),
                sampling && generation.hasNonNull("temperature")
                        ? OptionalDouble.of(generation.get("temperature").asDouble()) : OptionalDouble.empty(),
                sampling && generation.hasNonNull("top_p")
                        ? OptionalDouble.of(generation.get("top_p").asDouble()) : OptionalDouble.empty(),
                sampling && generation.hasNonNull("top_k")
                        ? OptionalInt.of(generation.get("top_k").asInt()) : OptionalInt.empty());
    }

    private static void addIds(JsonNode node, List<Integer> ids) {
        if (node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        } else if (node.canConvertToInt()) {
            ids.add(node.asInt());
        }
    }

    private static void rejectSlidingWindow(JsonNode root, ModelFamily family, int maxPositions, Path file) {
        JsonNode window = root.path("sliding_window");
        // Qwen configs carry a sliding_window size but switch it off with use_sliding_window.
        boolean enabled = family == ModelFamily.MISTRAL || root.path("use_sliding_window").asBoolean(false);
        if (enabled && window.canConvertToInt() && window.asInt() < maxPositions) {
            throw new ModelFileException(file, "sliding-window attention (sliding_window " + window.asInt()
                    + ") is not supported; use a checkpoint without it (e.g. Mistral v0.2 or later)");
        }
    }

    private static double ropeTheta(JsonNode root) {
        JsonNode parameters = root.path("rope_parameters");
        if (parameters.hasNonNull("rope_theta")) {
            return parameters.get("rope_theta").asDouble();
        }
        return root.path("rope_theta").asDouble(10000.0);
    }

    private static RopeScaling ropeScaling(JsonNode root, int maxPositions, Path file) {
        JsonNode scaling = root.path("rope_parameters").isObject() ? root.get("rope_parameters") : root.path("rope_scaling");
        if (!scaling.isObject()) {
            return new RopeScaling.None();
        }
        String type = scaling.hasNonNull("rope_type") ? scaling.get("rope_type").asText() : scaling.path("type").asText("default");
        return switch (type) {
            case "default" -> new RopeScaling.None();
            case "linear" -> new RopeScaling.Linear(number(scaling, "factor", file));
            case "llama3" -> new RopeScaling.Llama3(
                    number(scaling, "factor", file),
                    number(scaling, "low_freq_factor", file),
                    number(scaling, "high_freq_factor", file),
                    integer(scaling, "original_max_position_embeddings", file));
            case "yarn" -> yarn(scaling, maxPositions, file);
            default -> throw new ModelFileException(file, "rope scaling type '" + type
                    + "' is not supported; supported: default, linear, llama3, yarn");
        };
    }

    /** YaRN as transformers v5 computes it (also what v4 computes when max/original = factor). */
    private static RopeScaling.Yarn yarn(JsonNode scaling, int maxPositions, Path file) {
        int original = scaling.hasNonNull("original_max_position_embeddings")
                ? integer(scaling, "original_max_position_embeddings", file) : maxPositions;
        double factor = scaling.hasNonNull("factor") ? number(scaling, "factor", file) : (double) maxPositions / original;
        double attentionFactor;
        if (scaling.hasNonNull("attention_factor")) {
            attentionFactor = number(scaling, "attention_factor", file);
        } else if (scaling.hasNonNull("mscale") && scaling.hasNonNull("mscale_all_dim")
                && scaling.get("mscale").asDouble() != 0 && scaling.get("mscale_all_dim").asDouble() != 0) {
            attentionFactor = yarnMscale(factor, scaling.get("mscale").asDouble())
                    / yarnMscale(factor, scaling.get("mscale_all_dim").asDouble());
        } else {
            attentionFactor = yarnMscale(factor, 1);
        }
        return new RopeScaling.Yarn(factor, original,
                scaling.hasNonNull("beta_fast") ? scaling.get("beta_fast").asDouble() : 32,
                scaling.hasNonNull("beta_slow") ? scaling.get("beta_slow").asDouble() : 1,
                attentionFactor,
                scaling.path("truncate").asBoolean(true));
    }

    private static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    static JsonNode parse(Path file) {
        try {
            JsonNode node = JSON.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new ModelFileException(file, "is not a JSON object");
            }
            return node;
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new ModelFileException(file, "is missing; a Hugging Face model directory needs config.json");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFileException(file, "is not valid JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static String text(JsonNode node, String field, Path file) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new ModelFileException(file, "field " + field + " is missing or not a string");
        }
        return value.asText();
    }

    private static int integer(JsonNode node, String field, Path file) {
        JsonNode value = node.get(field);
        if (value == null || !value.canConvertToInt() || !value.isIntegralNumber()) {
            throw new ModelFileException(file, "field " + field + " is missing or not an integer");
        }
        return value.asInt();
    }

    private static double number(JsonNode node, String field, Path file) {
        JsonNode value = node.get(field);
        if (value == null || !value.isNumber()) {
            throw new ModelFileException(file, "field " + field + " is missing or not a number");
        }
        return value.asDouble();
    }
}
