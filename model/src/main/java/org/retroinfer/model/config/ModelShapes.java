package org.retroinfer.model.config;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.retroinfer.kernels.Rope;

/**
 * Named configurations of real models, for benchmarks with random weights of the real size ({@code bench --shape}).
 * {@code llama3-8b} is Llama 3.1 8B (hidden 4096, 32 layers, 32 query and 8 KV heads of 128, intermediate 14336,
 * vocabulary 128256, untied head) with the context of gradientai's 1048K-token variant, so that 1M-token
 * decoding can be measured at that shape.
 */
public final class ModelShapes {
    private static final Map<String, ModelConfig> SHAPES = new TreeMap<>(Map.of(
            "llama3-8b", new ModelConfig(ModelFamily.LLAMA, 128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000,
                    new RopeScaling.Llama3(8, 1, 4, 8192), Rope.Pairing.HALVES, 1 << 20, false, false, false)));

    private ModelShapes() {}

    public static Optional<ModelConfig> byName(String name) {
        return Optional.ofNullable(SHAPES.get(name));
    }

    public static java.util.Set<String> names() {
        return SHAPES.keySet();
    }
}
