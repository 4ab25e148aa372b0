package org.retroinfer.kvstore.baseline;

import org.retroinfer.kvstore.retro.RetroConfig;

/**
 * The settings of {@link QuestKvCache}.
 *
 * @param matched    the RetroInfer settings whose exact budget the cache matches (retrieval budget,
 *                   sinks, window, cluster, segment and update sizes), and whose storage type and
 *                   page size its store uses; the estimation budget and the k-means knobs play no part
 * @param pageTokens positions per Quest page, the unit of selection with one min/max key pair per
 *                   KV head (16, Quest's own and RetroInfer's average cluster size)
 */
public record QuestConfig(RetroConfig matched, int pageTokens) {
    public QuestConfig {
        if (matched == null) {
            throw new IllegalArgumentException("matched must be the RetroInfer settings whose exact budget Quest "
                    + "matches, got null");
        }
        if (pageTokens < 1 || pageTokens > 4096) {
            throw new IllegalArgumentException("pageTokens must be in [1, 4096], got " + pageTokens);
        }
    }

    /** RetroInfer's defaults (4 sinks, a 64-position window, a retrieval budget of 1.8%) and 16-token pages. */
    public static QuestConfig defaults() {
        return new QuestConfig(RetroConfig.defaults(), 16);
    }

    /** The defaults with the exact budget of RetroInfer's retrieval budget {@code fraction}, in (0, 1]. */
    public static QuestConfig atBudget(double fraction) {
        RetroConfig defaults = RetroConfig.defaults();
        return new QuestConfig(defaults.withBudgets(fraction, defaults.estimationBudget()), 16);
    }
}
