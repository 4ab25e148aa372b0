package org.retroinfer.eval;

import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.baseline.QuestConfig;
import org.retroinfer.kvstore.baseline.QuestKvCache;
import org.retroinfer.kvstore.baseline.StreamingLlmConfig;
import org.retroinfer.kvstore.baseline.StreamingLlmKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.config.ModelConfig;

/**
 * How a model attends while it is measured: exactly over every position, with RetroInfer, or with
 * one of the sparse baselines at RetroInfer's exact-attention budget.
 */
public sealed interface AttentionMode {
    /** Exact attention over every stored position (a {@link DenseKvCache}). */
    record Full(DType kvType) implements AttentionMode {
        public Full {
            if (kvType != DType.F16 && kvType != DType.BF16) {
                throw new IllegalArgumentException("kvType must be F16 or BF16, got " + kvType);
            }
        }

        @Override
        public String family() {
            return "full";
        }

        @Override
        public String name() {
            return "full";
        }

        @Override
        public Double retrievalBudget() {
            return null;
        }

        @Override
        public KvCache create(ModelConfig config) {
            int pageTokens = DenseKvCache.Config.defaults().pageTokens();
            return new DenseKvCache(config.attentionShape(), new DenseKvCache.Config(kvType, pageTokens));
        }
    }

    /** RetroInfer attention (a {@link RetroKvCache}) with its budgets. */
    record Retro(RetroConfig config) implements AttentionMode {
        @Override
        public String family() {
            return "retro";
        }

        @Override
        public String name() {
            RetroConfig d = RetroConfig.defaults();
            String name = config.retrievalBudget() == d.retrievalBudget() && config.estimationBudget() == d.estimationBudget()
                    ? "retro" : "retro " + percent(config.retrievalBudget()) + "/" + percent(config.estimationBudget());
            return config.clusterSize() == d.clusterSize() ? name : name + " c" + config.clusterSize();
        }

        @Override
        public Double retrievalBudget() {
            return config.retrievalBudget();
        }

        @Override
        public DType kvType() {
            return config.storage();
        }

        @Override
        public KvCache create(ModelConfig model) {
            return new RetroKvCache(model.attentionShape(), config);
        }
    }

    /**
     * A sparse baseline: as many positions attended exactly as RetroInfer attends at the
     * configuration it matches, whose budget names it and whose storage it uses.
     */
    sealed interface Baseline extends AttentionMode permits StreamingLlm, Quest {
        /** The RetroInfer configuration whose exact-attention budget the baseline matches. */
        RetroConfig matched();

        @Override
        default String name() {
            return matched().retrievalBudget() == RetroConfig.defaults().retrievalBudget()
                    ? family() : family() + " " + percent(matched().retrievalBudget());
        }

        @Override
        default Double retrievalBudget() {
            return matched().retrievalBudget();
        }

        @Override
        default DType kvType() {
            return matched().storage();
        }
    }

    /** The StreamingLLM baseline: sinks and the most recent positions only. */
    record StreamingLlm(StreamingLlmConfig config) implements Baseline {
        @Override
        public String family() {
            return "streaming";
        }

        @Override
        public RetroConfig matched() {
            return config.matched();
        }

        @Override
        public KvCache create(ModelConfig model) {
            return new StreamingLlmKvCache(model.attentionShape(), config);
        }
    }

    /** The Quest baseline: the steady zone and the 16-token pages of largest key-bound score. */
    record Quest(QuestConfig config) implements Baseline {
        @Override
        public String family() {
            return "quest";
        }

        @Override
        public RetroConfig matched() {
            return config.matched();
        }

        @Override
        public KvCache create(ModelConfig model) {
            return new QuestKvCache(model.attentionShape(), config);
        }
    }

    /** The kind of attention as the command line names it: {@code full}, {@code retro}, ... */
    String family();

    /**
     * The mode's name in results, unique within a run: the family, with its budgets where they are
     * not the defaults (e.g. {@code retro 0.5%/23.2%}: retrieval / estimation).
     */
    String name();

    /** The fraction of the context attended exactly beyond the steady zone, or null for full attention. */
    Double retrievalBudget();

    /** Storage type of keys and values. */
    DType kvType();

    /** A fresh, empty cache for the model; the caller closes it. */
    KvCache create(ModelConfig config);

    /**
     * What sets a mode apart from the others of its {@code family} besides its retrieval budget, read back from its
     * {@link #name()} (reports of earlier runs hold names, not configs): the family, then the estimation budget where
     * it is not the default and the cluster size where it is not, as {@link Retro#name()} writes them. "retro
     * 7.2%/23.2% c4" is "retro c4", "retro 7.2%/0% c4" is "retro est 0% c4", "quest 14.4%" is "quest".
     */
    static String series(String family, String name) {
        String[] words = name.split(" ");
        StringBuilder series = new StringBuilder(family);
        if (words.length > 1 && words[1].contains("/")) {
            String estimation = words[1].substring(words[1].indexOf('/') + 1);
            if (!estimation.equals(percent(RetroConfig.defaults().estimationBudget()))) {
                series.append(" est ").append(estimation);
            }
        }
        for (int i = 1; i < words.length; i++) {
            if (words[i].matches("c\\d+")) {
                series.append(' ').append(words[i]);
            }
        }
        return series.toString();
    }

    /** A fraction as a short percentage: 0.018 → {@code 1.8%}. */
    static String percent(double fraction) {
        return java.math.BigDecimal.valueOf(100 * fraction).round(new java.math.MathContext(3)).stripTrailingZeros()
                .toPlainString() + "%";
    }
}
