package org.retroinfer.kvstore.retro;

import java.lang.foreign.Arena;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.KvPages;

/**
 * Everything one (sequence, layer) holds: the wave index, the steady zone, and the prompt positions
 * appended since the last end of prefill (kept in position order, in pages of their own arena that
 * is freed once they are indexed). Position order is: index, steady zone, prompt pages.
 */
final class SequenceLayer {
    /** Positions of one layer that an index build clusters, and how; see {@link #commit}. */
    record IndexWork(SequenceLayer layer, StoredTokens tokens, ClusterSizing sizing, boolean update,
                     long promptConsumed) {}

    private final AttentionShape shape;
    private final RetroConfig config;
    private final Arena arena;
    final SteadyZone steady;
    final WaveIndex index;
    private Arena promptArena;
    private KvPages prompt;

    SequenceLayer(AttentionShape shape, RetroConfig config, Arena arena) {
        this.shape = shape;
        this.config = config;
        this.arena = arena;
        this.steady = new SteadyZone(shape.kvHeads(), shape.headDim(), config.storage(), config.sinks(),
                config.steadyCapacity(), arena);
        this.index = new WaveIndex(shape.kvHeads());
    }

    /** The sequence's arena, which holds the steady zone and the index. */
    Arena arena() {
        return arena;
    }

    /** Positions stored. */
    long length() {
        return index.tokens() + steady.count() + (prompt == null ? 0 : prompt.length());
    }

    /** The prompt positions not yet indexed, or null where there are none. */
    KvPages prompt() {
        return prompt;
    }

    /** Stores one prompt position (keys and values of every KV head at {@code off}). */
    void appendPrompt(float[] keys, float[] values, int off) {
        if (prompt == null) {
            promptArena = Arena.ofShared();
            prompt = new KvPages(shape.kvHeads(), shape.headDim(), config.storage(), config.pageTokens(), promptArena);
        }
        prompt.append(keys, values, off);
    }

    /**
     * Stores one generated position in the steady zone, and returns the update that clusters its
     * oldest {@code updateSegment} local positions where that fills the zone (spec §1.4), else null.
     */
    IndexWork appendGenerated(float[] keys, float[] values, int off) {
        steady.append(keys, values, off);
        if (!steady.isFull()) {
            return null;
        }
        return new IndexWork(this, steady.localTokens().slice(0, config.updateSegment()),
                ClusterSizing.forUpdate(config), true, 0);
    }

    /**
     * Ends a prefill: tops up the sinks from the prompt, then either moves the pending positions
     * (local and prompt) into the steady zone where they fit, returning null, or returns the index
     * build of all but the newest {@code window} of them (spec §1.1: tokens [sinks, L − window)).
     */
    IndexWork endOfPrefill() {
        StoredTokens promptTokens = prompt == null ? null : StoredTokens.of(prompt);
        long promptLength = prompt == null ? 0 : prompt.length();
        long next = 0;
        while (steady.count() < config.sinks() && next < promptLength) {
            steady.append(promptTokens, next++);
        }
        long pending = steady.local() + promptLength - next;
        if (pending < (long) config.window() + config.updateSegment()) {
            while (next < promptLength) {
                steady.append(promptTokens, next++);
            }
            releasePrompt();
            return null;
        }
        StoredTokens all = steady.localTokens();
        if (next < promptLength) {
            all = all.then(promptTokens.slice(next, promptLength - next));
        }
        long sinksHeld = steady.count() - steady.local();
        return new IndexWork(this, all.slice(0, pending - config.window()),
                ClusterSizing.forPrompt(sinksHeld + pending, config), false, next);
    }

    /**
     * Adds the batches built for {@code work} (one per KV head) to the index and removes their
     * positions from the steady zone and the prompt pages, keeping the newest in the steady zone.
     */
    void commit(IndexWork work, ClusterBatch[] batches) {
        index.add(batches, config);
        long clustered = work.tokens().length();
        int fromLocal = (int) Math.min(clustered, steady.local());
        steady.dropOldestLocal(fromLocal);
        if (work.update()) {
            return;
        }
        StoredTokens promptTokens = StoredTokens.of(prompt);
        for (long t = work.promptConsumed() + clustered - fromLocal; t < prompt.length(); t++) {
            steady.append(promptTokens, t);
        }
        releasePrompt();
    }

    private void releasePrompt() {
        if (promptArena != null) {
            promptArena.close();
            promptArena = null;
            prompt = null;
        }
    }

    /** Bytes held: steady zone, index and prompt pages. */
    long bytes() {
        return steady.bytes() + index.bytes() + (prompt == null ? 0 : prompt.bytes());
    }

    /** Frees the prompt pages; the steady zone and index go with the sequence's arena. */
    void close() {
        releasePrompt();
    }
}
