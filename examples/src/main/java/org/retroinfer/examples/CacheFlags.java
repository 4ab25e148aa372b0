package org.retroinfer.examples;

import java.util.Set;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.config.ModelConfig;

/** The attention options shared by the commands: which KV cache, its budgets, and in what precision. */
final class CacheFlags {
    static final Set<String> NAMES = Set.of("attention", "kv-type", "retrieval-budget", "estimation-budget");
    static final String HELP = """
              --attention MODE   full: exact attention over every position; retro: RetroInfer (a wave
                                 index of the prompt's keys, exact attention to the steady zone and the
                                 top clusters, estimation of the next ones) (default full)
              --retrieval-budget R   retro: fraction of clusters attended exactly, in (0, 1] (default 0.018)
              --estimation-budget E  retro: fraction of clusters estimated, in [0, 1] (default 0.232)
              --kv-type TYPE     storage of keys and values: f16 or bf16 (default f16)
            """;

    private final String attention;
    private final DType kvType;
    private final RetroConfig retro;

    private CacheFlags(String attention, DType kvType, RetroConfig retro) {
        this.attention = attention;
        this.kvType = kvType;
        this.retro = retro;
    }

    static CacheFlags read(Options o) {
        String attention = o.text("attention").orElse("full");
        if (!attention.equals("full") && !attention.equals("retro")) {
            throw o.error("--attention must be full or retro, got '" + attention + "'");
        }
        String type = o.text("kv-type").orElse("f16");
        DType kvType = switch (type) {
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw o.error("--kv-type must be f16 or bf16, got '" + type + "'");
        };
        if (attention.equals("full")) {
            for (String retroOnly : new String[] {"retrieval-budget", "estimation-budget"}) {
                if (o.has(retroOnly)) {
                    throw o.error("--" + retroOnly + " applies only to --attention retro");
                }
            }
            return new CacheFlags(attention, kvType, null);
        }
        RetroConfig defaults = RetroConfig.defaults();
        double retrieval = o.number("retrieval-budget", defaults.retrievalBudget(), 0, false, 1, true);
        double estimation = o.number("estimation-budget", defaults.estimationBudget(), 0, true, 1, true);
        return new CacheFlags(attention, kvType, defaults.withBudgets(retrieval, estimation).withStorage(kvType));
    }

    String attention() {
        return attention;
    }

    DType kvType() {
        return kvType;
    }

    /** RetroInfer's configuration, or null for full attention. */
    RetroConfig retro() {
        return retro;
    }

    KvCache create(ModelConfig config) {
        AttentionShape shape = new AttentionShape(config.layers(), config.heads(), config.kvHeads(), config.headDim());
        if (retro != null) {
            return new RetroKvCache(shape, retro);
        }
        return new DenseKvCache(shape, new DenseKvCache.Config(kvType, DenseKvCache.Config.defaults().pageTokens()));
    }
}
