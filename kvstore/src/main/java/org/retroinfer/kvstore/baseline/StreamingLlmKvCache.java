package org.retroinfer.kvstore.baseline;

import java.lang.foreign.Arena;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.retro.RetroConfig;

/**
 * StreamingLLM (Xiao et al., ICLR 2024) as a decode-time baseline: each decode step attends exactly
 * to the attention sinks (the first {@code sinks} positions) and the most recent positions, and to
 * nothing else. The recent run is as long as the rest of RetroInfer's exact budget at the matched
 * settings (its steady zone's recent positions plus its retrieval zone's nominal size; see
 * {@link SelectiveKvCache}), so sinks + recent = RetroInfer's exact positions. Everything stays
 * stored (prefill is exact, and the probe compares against all of it); only attention is sparse.
 */
public final class StreamingLlmKvCache extends SelectiveKvCache {
    private final StreamingLlmConfig config;

    public StreamingLlmKvCache(AttentionShape shape, StreamingLlmConfig config) {
        super(shape, config.matched());
        this.config = config;
    }

    public StreamingLlmConfig config() {
        return config;
    }

    @Override
    LayerState newLayerState(Arena arena) {
        return NO_STATE;
    }

    /** The last {@code budget} positions before {@code to}, which extend the recent run. */
    @Override
    void selectBetween(LayerState state, KvPages pages, int kvHead, float[] q, int qOff, long from, long to,
                       long budget, PositionRuns runs) {
        runs.add(Math.max(from, to - budget), to);
    }
}
