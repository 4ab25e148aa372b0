package org.retroinfer.model.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The Llama-family decoder architectures RetroInfer runs. They share RMSNorm, RoPE, GQA and SwiGLU
 * and differ in a few switches.
 */
public enum ModelFamily {
    LLAMA("llama", "LlamaForCausalLM", false, false),
    MISTRAL("mistral", "MistralForCausalLM", false, false),
    QWEN2("qwen2", "Qwen2ForCausalLM", true, false),
    QWEN3("qwen3", "Qwen3ForCausalLM", false, true);

    private final String modelType;
    private final String architecture;
    private final boolean qkvBias;
    private final boolean qkNorm;

    ModelFamily(String modelType, String architecture, boolean qkvBias, boolean qkNorm) {
        this.modelType = modelType;
        this.architecture = architecture;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
    }

    /** Hugging Face's {@code model_type}, also GGUF's {@code general.architecture}. */
    public String modelType() {
        return modelType;
    }

    /** Hugging Face's class name in {@code architectures}. */
    public String architecture() {
        return architecture;
    }

    /** Whether q/k/v projections always carry a bias (Qwen2). */
    public boolean qkvBias() {
        return qkvBias;
    }

    /** Whether queries and keys are RMS-normalised per head before RoPE (Qwen3). */
    public boolean qkNorm() {
        return qkNorm;
    }

    /** The family of a Hugging Face {@code model_type} or GGUF architecture, or null. */
    public static ModelFamily ofModelType(String modelType) {
        for (ModelFamily f : values()) {
            if (f.modelType.equals(modelType)) {
                return f;
            }
        }
        return null;
    }

    public static String supportedList() {
        return Arrays.stream(values()).map(f -> f.modelType + " (" + f.architecture + ")")
                .collect(Collectors.joining(", "));
    }
}
