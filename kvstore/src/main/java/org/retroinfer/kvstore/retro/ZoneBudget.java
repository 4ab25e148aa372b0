package org.retroinfer.kvstore.retro;

/**
 * The clusters of one (sequence, layer, KV head) index attended each decode step: the top
 * {@code retrieval} exactly, the next {@code estimation} estimated (spec §2.1). Both are counts
 * of clusters and grow as the index grows (spec §1.4).
 */
public record ZoneBudget(int retrieval, int estimation) {
    public ZoneBudget {
        if (retrieval < 0 || estimation < 0) {
            throw new IllegalArgumentException("zone budgets cannot be negative, got " + retrieval + " and " + estimation);
        }
    }

    /** The budget of no index: nothing to retrieve or estimate. */
    public static final ZoneBudget NONE = new ZoneBudget(0, 0);

    /**
     * The budget of a new index of {@code clusters} clusters: nprobe = max(round(C·r), 1) and
     * es = min(round(C·e), C − nprobe).
     */
    public static ZoneBudget initial(int clusters, RetroConfig config) {
        int retrieval = (int) Math.max(Math.rint(clusters * config.retrievalBudget()), 1);
        int estimation = (int) Math.min(Math.rint(clusters * config.estimationBudget()), clusters - retrieval);
        return new ZoneBudget(retrieval, estimation);
    }

    /**
     * This budget after {@code added} clusters join the index: nprobe += max(round(C'·r), 1) and
     * es += max(round(C'·e), 1), where estimation is on (spec §1.4: +1 and +15 per 64-cluster update).
     * An index that had no clusters takes {@link #initial} instead.
     */
    public ZoneBudget grownBy(int added, RetroConfig config) {
        if (this.equals(NONE)) {
            return initial(added, config);
        }
        int moreRetrieval = (int) Math.max(Math.rint(added * config.retrievalBudget()), 1);
        int moreEstimation = config.estimationBudget() == 0 ? 0
                : (int) Math.max(Math.rint(added * config.estimationBudget()), 1);
        return new ZoneBudget(retrieval + moreRetrieval, estimation + moreEstimation);
    }

    /**
     * Positions the retrieval zone attends exactly, nominally, in an index of {@code clusters}
     * clusters holding {@code indexedTokens} positions: nprobe clusters of the index's average size,
     * round(nprobe · indexedTokens / clusters), which is about the retrieval budget's fraction of
     * the indexed positions. Retrieved clusters vary in size around it; the baselines compared at
     * equal budget attend exactly this many.
     */
    public long retrievalTokens(long indexedTokens, int clusters) {
        if (clusters == 0) {
            return 0;
        }
        return Math.min(indexedTokens, Math.round((double) retrieval * indexedTokens / clusters));
    }
}
