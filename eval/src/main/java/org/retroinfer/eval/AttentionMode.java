package org.retroinfer.eval;

import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.config.ModelConfig;

/** How a model attends while it is measured: exactly over every position, or with RetroInfer. */
public sealed interface AttentionMode {
    /** Exact attention over every stored position (a {@link DenseKvCache}). */
    record Full(DType kvType) implements AttentionMode {
        public Full {
            if (kvType != DType.F16 && kvType != DType.BF16) {
                throw new IllegalArgumentException("kvType must be F16 or BF16, got " + kvType);
            }
        }

        @Override
        public String name() {
            return "full";
        }

        @Override
        public KvCache create(ModelConfig config) {
            int pageTokens = DenseKvCache.Config.defaults().pageTokens();
            return new DenseKvCache(shape(config), new DenseKvCache.Config(kvType, pageTokens));
        }
    }

    /** RetroInfer attention (a {@link RetroKvCache}) with its budgets. */
    record Retro(RetroConfig config) implements AttentionMode {
        @Override
        public String name() {
            return "retro";
        }

        @Override
        public DType kvType() {
            return config.storage();
        }

        @Override
        public KvCache create(ModelConfig model) {
            return new RetroKvCache(shape(model), config);
        }
    }

    /** {@code full} or {@code retro}, as the command line names it. */
    String name();

    /** Storage type of keys and values. */
    DType kvType();

    /** A fresh, empty cache for the model; the caller closes it. */
    KvCache create(ModelConfig config);

    private static AttentionShape shape(ModelConfig config) {
        return new AttentionShape(config.layers(), config.heads(), config.kvHeads(), config.headDim());
    }
}
