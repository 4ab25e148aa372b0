package org.retroinfer.kvstore.baseline;

import org.retroinfer.kvstore.retro.RetroConfig;

/**
 * The settings of {@link StreamingLlmKvCache}.
 *
 * @param matched the RetroInfer settings whose exact budget the cache matches (retrieval budget,
 *                sinks, window, cluster, segment and update sizes), and whose storage type and page
 *                size its store uses; the estimation budget and the k-means knobs play no part
 */
public record StreamingLlmConfig(RetroConfig matched) {
    public StreamingLlmConfig {
        if (matched == null) {
            throw new IllegalArgumentException("matched must be the RetroInfer settings whose exact budget StreamingLLM "
                    + "matches, got null");
        }
    }

    /** RetroInfer's defaults: 4 sinks, a 64-position window, a retrieval budget of 1.8%. */
    public static StreamingLlmConfig defaults() {
        return new StreamingLlmConfig(RetroConfig.defaults());
    }

    /** The defaults with the exact budget of RetroInfer's retrieval budget {@code fraction}, in (0, 1]. */
    public static StreamingLlmConfig atBudget(double fraction) {
        RetroConfig defaults = RetroConfig.defaults();
        return new StreamingLlmConfig(defaults.withBudgets(fraction, defaults.estimationBudget()));
    }
}
