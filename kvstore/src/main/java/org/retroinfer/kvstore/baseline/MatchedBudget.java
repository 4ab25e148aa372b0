package org.retroinfer.kvstore.baseline;

import org.retroinfer.kvstore.retro.ClusterSizing;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.ZoneBudget;

/**
 * The exact-attention budget RetroInfer would have for one (sequence, layer) at the same settings,
 * followed position by position without building an index: it counts what RetroInfer's
 * {@code SequenceLayer} stores where (steady zone, index, prompt pages) and grows the zone budget
 * by the same rules ({@link ClusterSizing}, {@link ZoneBudget}). A decode step of RetroInfer
 * attends exactly to its steady zone (the first {@link #sinks} positions and the last
 * {@link #recent}) and to about {@link #retrievalTokens} of the indexed positions between them;
 * the baselines attend exactly to as many.
 */
final class MatchedBudget {
    private final RetroConfig config;
    /** Positions in RetroInfer's steady zone, sinks included. */
    private int steady;
    /** Prompt positions appended since the last end of prefill. */
    private long prompt;
    private long indexed;
    private int clusters;
    private ZoneBudget budget = ZoneBudget.NONE;

    MatchedBudget(RetroConfig config) {
        this.config = config;
    }

    /** One prompt position: RetroInfer keeps it in its prompt pages until the end of prefill. */
    void appendPrompt() {
        prompt++;
    }

    /** One generated position: into the steady zone, which flushes its oldest into the index when full (spec §1.4). */
    void appendGenerated() {
        steady++;
        if (steady == config.steadyCapacity()) {
            grow(config.updateSegment(), ClusterSizing.forUpdate(config).clusters());
            steady -= config.updateSegment();
        }
    }

    /**
     * The end of a prefill: the sinks are topped up from the prompt; the pending positions (local
     * and prompt) stay in the steady zone where they are fewer than window + updateSegment, else
     * all but the last {@code window} are indexed (spec §1.1).
     */
    void endOfPrefill() {
        long next = Math.min(prompt, Math.max(0, config.sinks() - steady));
        steady += (int) next;
        int local = Math.max(0, steady - config.sinks());
        long pending = local + prompt - next;
        if (pending < (long) config.window() + config.updateSegment()) {
            steady += (int) (prompt - next);
        } else {
            long clustered = pending - config.window();
            int sinksHeld = steady - local;
            grow(clustered, ClusterSizing.forPrompt(sinksHeld + pending, config).clusters());
            steady = sinksHeld + config.window();
        }
        prompt = 0;
    }

    private void grow(long positions, int added) {
        indexed += positions;
        clusters += added;
        budget = budget.grownBy(added, config);
    }

    /** Positions at the start of the sequence in the steady zone (the sinks held). */
    long sinks() {
        return Math.min(steady, config.sinks());
    }

    /** Positions at the end of the sequence in the steady zone (the window and the generated ones). */
    long recent() {
        return steady - sinks();
    }

    /** Positions between the sinks and the recent ones: those RetroInfer has indexed. */
    long indexed() {
        return indexed;
    }

    /** The retrieval zone's nominal positions ({@link ZoneBudget#retrievalTokens}). */
    long retrievalTokens() {
        return budget.retrievalTokens(indexed, clusters);
    }

    /** Positions a decode step attends exactly: the steady zone and the retrieval zone. */
    long exact() {
        return steady + retrievalTokens();
    }
}
