package org.retroinfer.kvstore;

/**
 * A KV cache whose decode steps attend to a subset of the stored positions (RetroInfer, and the
 * baselines it is compared with at equal budget), opened up so that {@link FidelityProbe} can
 * compare each step with exact attention over the same stored keys and values.
 *
 * <p>Prefill rows of every such cache are exact; only the single rows of a sequence that
 * {@link #isSparse} are answered sparsely by {@link #attend}.
 */
public interface SparseKvCache extends KvCache {
    /** Whether {@code sequence}'s single rows are answered sparsely now: past its end of prefill. */
    boolean isSparse(int sequence);

    /**
     * Writes exact attention over every stored position for every row of the batch, from the same
     * stored keys and values that {@link #attend} reads (what a {@link DenseKvCache} holding them
     * would answer). Laid out as {@link #attend} says.
     */
    void attendExactly(int layer, BatchLayout batch, float[] queries, float[] out);

    /**
     * What the decode step of {@link #attend} for the GQA group of {@code kvHead} at
     * {@code queries[qOff ..]} (the last stored position of {@code sequence} in {@code layer})
     * does with each stored position: the exact scaled score of every position for every query
     * head of the group, and its zone. The selection is recomputed from the same query, so it is
     * the one {@code attend} made.
     */
    DecodeZones zones(int sequence, int layer, int kvHead, float[] queries, int qOff);

    /**
     * Positions of {@code sequence} in {@code layer} that a decode step now attends exactly per KV
     * head, by RetroInfer's rule at the cache's settings: the steady zone and the retrieval zone's
     * nominal size ({@link org.retroinfer.kvstore.retro.ZoneBudget#retrievalTokens}); every
     * stored position where the sequence is not {@link #isSparse}. The baselines attend exactly
     * this many; RetroInfer's retrieved clusters vary in size around it.
     */
    long exactBudget(int sequence, int layer);
}
