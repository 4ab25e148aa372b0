package org.retroinfer.kvstore.retro;

import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.PartialSoftmax;

/**
 * One decode step of RetroInfer attention for one layer (spec §2, §7 items 5–7): per sequence and
 * KV head, the clusters are scored and ranked, the steady zone and the retrieved clusters are
 * attended exactly, the estimated clusters are estimated, and the partials merge by log-sum-exp.
 *
 * <p>The work is parallel over (sequence, KV head) tasks. Where there are fewer tasks than
 * threads, each task is split further into parts: the centroid scoring by ranges of clusters, the
 * attention by strides of the selected clusters (part 0 also takes the steady zone), each part
 * with its own partial softmax, merged at the end.
 */
final class TripartiteAttention {
    private final AttentionShape shape;
    private final RetroConfig config;
    private final SequenceLayer[] layers;
    private final int[] rows;
    private final float[] queries;
    private final float[] out;
    private final int parts;
    private final ClusterScorer[] scorers;
    private final ClusterScorer.Selection[] selections;
    private final PartialSoftmax[][] partials;

    /** Decode rows {@code rows[i]} of sequences whose layer is {@code layers[i]}. */
    private TripartiteAttention(AttentionShape shape, RetroConfig config, SequenceLayer[] layers, int[] rows,
                                float[] queries, float[] out) {
        this.shape = shape;
        this.config = config;
        this.layers = layers;
        this.rows = rows;
        this.queries = queries;
        this.out = out;
        int tasks = layers.length * shape.kvHeads();
        this.parts = tasks >= config.threads() ? 1 : (config.threads() + tasks - 1) / tasks;
        this.scorers = new ClusterScorer[tasks];
        this.selections = new ClusterScorer.Selection[tasks];
        this.partials = new PartialSoftmax[tasks][parts];
    }

    /**
     * Writes the attention of every decode row: {@code out} and {@code queries} are laid out as
     * {@link org.retroinfer.kvstore.KvCache#attend} says.
     */
    static void attend(AttentionShape shape, RetroConfig config, SequenceLayer[] layers, int[] rows, float[] queries,
                       float[] out) {
        new TripartiteAttention(shape, config, layers, rows, queries, out).run();
    }

    private void run() {
        int tasks = scorers.length;
        int threads = config.threads();
        if (parts == 1) {
            SplitWork.run(tasks, threads, (start, end) -> {
                for (int t = start; t < end; t++) {
                    score(t, 0);
                    select(t);
                    attendPart(t, 0);
                    finish(t);
                }
            });
            return;
        }
        for (int t = 0; t < tasks; t++) {
            int clusters = layers[t / shape.kvHeads()].index.clusters();
            scorers[t] = clusters == 0 ? null : new ClusterScorer(shape.groupSize(), clusters);
        }
        SplitWork.run(tasks * parts, threads, (start, end) -> {
            for (int i = start; i < end; i++) {
                score(i / parts, i % parts);
            }
        });
        SplitWork.run(tasks, threads, (start, end) -> {
            for (int t = start; t < end; t++) {
                select(t);
            }
        });
        SplitWork.run(tasks * parts, threads, (start, end) -> {
            for (int i = start; i < end; i++) {
                attendPart(i / parts, i % parts);
            }
        });
        SplitWork.run(tasks, threads, (start, end) -> {
            for (int t = start; t < end; t++) {
                finish(t);
            }
        });
    }

    private int queryOffset(int task) {
        int kvHead = task % shape.kvHeads();
        return rows[task / shape.kvHeads()] * shape.queryWidth() + kvHead * shape.groupSize() * shape.headDim();
    }

    /** Centroid logits of part {@code part}'s range of clusters. */
    private void score(int task, int part) {
        WaveIndex index = layers[task / shape.kvHeads()].index;
        int clusters = index.clusters();
        if (clusters == 0) {
            return;
        }
        if (parts == 1) {
            scorers[task] = ClusterScorer.onThreadScratch(shape.groupSize(), clusters);
        }
        int from = (int) ((long) clusters * part / parts);
        int to = (int) ((long) clusters * (part + 1) / parts);
        scorers[task].logits(index, task % shape.kvHeads(), queries, queryOffset(task), shape.headDim(), shape.scale(),
                from, to);
    }

    private void select(int task) {
        ClusterScorer scorer = scorers[task];
        if (scorer == null) {
            return;
        }
        WaveIndex index = layers[task / shape.kvHeads()].index;
        scorer.softmax();
        selections[task] = scorer.select(index, task % shape.kvHeads(), index.budget());
    }

    private void attendPart(int task, int part) {
        SequenceLayer layer = layers[task / shape.kvHeads()];
        int kvHead = task % shape.kvHeads();
        int qOff = queryOffset(task);
        PartialSoftmax state = new PartialSoftmax(shape.groupSize(), shape.headDim());
        partials[task][part] = state;
        float[] scores = new float[shape.groupSize() * RetrievalZone.TILE];
        if (part == 0) {
            layer.steady.attend(kvHead, queries, qOff, shape.scale(), state, scores, RetrievalZone.TILE);
        }
        ClusterScorer.Selection selection = selections[task];
        if (selection == null) {
            return;
        }
        RetrievalZone.attend(layer.index, kvHead, selection.retrieval(), part, parts, queries, qOff, shape.scale(), state,
                scores);
        EstimationZone.estimate(layer.index, kvHead, selection.estimation(), part, parts, scorers[task], state);
    }

    private void finish(int task) {
        PartialSoftmax state = partials[task][0];
        for (int part = 1; part < parts; part++) {
            state.merge(partials[task][part]);
        }
        state.writeOutput(out, queryOffset(task));
    }
}
