package org.retroinfer.examples;

import java.util.Set;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.config.ModelConfig;

/** The attention options shared by the commands: which KV cache and in what precision. */
final class CacheFlags {
    static final Set<String> NAMES = Set.of("attention", "kv-type");
    static final String HELP = """
              --attention MODE   full: exact attention over every position (default full)
              --kv-type TYPE     storage of keys and values: f16 or bf16 (default f16)
            """;

    private final String attention;
    private final DType kvType;

    private CacheFlags(String attention, DType kvType) {
        this.attention = attention;
        this.kvType = kvType;
    }

    static CacheFlags read(Options o) {
        String attention = o.text("attention").orElse("full");
        if (!attention.equals("full")) {
            throw o.error("--attention must be full, got '" + attention + "'");
        }
        String type = o.text("kv-type").orElse("f16");
        DType kvType = switch (type) {
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw o.error("--kv-type must be f16 or bf16, got '" + type + "'");
        };
        return new CacheFlags(attention, kvType);
    }

    String attention() {
        return attention;
    }

    DType kvType() {
        return kvType;
    }

    KvCache create(ModelConfig config) {
        AttentionShape shape = new AttentionShape(config.layers(), config.heads(), config.kvHeads(), config.headDim());
        return new DenseKvCache(shape, new DenseKvCache.Config(kvType, DenseKvCache.Config.defaults().pageTokens()));
    }
}
