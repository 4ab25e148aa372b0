package org.retroinfer.kvstore.retro;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DecodeZones;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.OpenSequences;
import org.retroinfer.kvstore.SparseKvCache;

/**
 * RetroInfer attention on the CPU behind the {@link KvCache} seam (spec §1, §2). A sequence's
 * prompt is stored in position order and attended exactly; at {@link #endOfPrefill} every layer's
 * prompt, except the sinks and the last {@code window} positions, is clustered into a
 * {@link WaveIndex} per KV head. From then on each decode row attends exactly to the
 * {@link SteadyZone} and the top clusters ({@link RetrievalZone}), estimates the next ones
 * ({@link EstimationZone}) and merges the two by log-sum-exp; every {@code updateSegment}
 * generated positions are clustered into the index in turn. A step with several rows for a
 * sequence (a new prompt) makes it a prefill again, attended exactly, until its next end of
 * prefill.
 */
public final class RetroKvCache implements SparseKvCache {
    private final AttentionShape shape;
    private final RetroConfig config;
    private final OpenSequences<Sequence> sequences = new OpenSequences<>();
    private final AtomicLong buildNanos = new AtomicLong();
    private final AtomicLong builds = new AtomicLong();
    private final AtomicLong builtTokens = new AtomicLong();
    private final AtomicLong updateNanos = new AtomicLong();
    private final AtomicLong updates = new AtomicLong();

    public RetroKvCache(AttentionShape shape, RetroConfig config) {
        this.shape = shape;
        this.config = config;
    }

    /**
     * Index building so far: the prompt builds at ends of prefill, and the updates during
     * decoding, with the wall time each took.
     */
    public record Stats(long indexBuilds, long indexBuildNanos, long indexedPromptTokens, long indexUpdates,
                        long indexUpdateNanos) {}

    public Stats stats() {
        return new Stats(builds.get(), buildNanos.get(), builtTokens.get(), updates.get(), updateNanos.get());
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public RetroConfig config() {
        return config;
    }

    @Override
    public int openSequence() {
        return sequences.open(new Sequence(config));
    }

    /**
     * Starts an empty sequence whose decode steps use its own budgets instead of the cache's (a
     * server's per-request budgets); every other setting is the cache's.
     */
    public int openSequence(double retrievalBudget, double estimationBudget) {
        return sequences.open(new Sequence(config.withBudgets(retrievalBudget, estimationBudget)));
    }

    /**
     * The most bytes one sequence of {@code promptTokens} prompt positions and up to
     * {@code generatedTokens} generated ones holds at any time, so that a server can admit
     * sequences against a memory budget before it runs them. Per layer: the steady zone (allocated
     * whole), the prompt pages (alive until the index over them is built) and an index of every
     * position, with the clusters of the prompt's build and of every update it can take.
     */
    @Override
    public long sequenceBytesBound(long promptTokens, long generatedTokens) {
        int d = shape.headDim();
        long positions = promptTokens + generatedTokens;
        long steady = SteadyZone.bytes(shape.kvHeads(), d, config.steadyCapacity());
        long pages = (promptTokens + config.pageTokens() - 1) / config.pageTokens();
        long prompt = pages * KvPages.pageBytes(shape.kvHeads(), d, config.pageTokens());
        long updates = positions / config.updateSegment() + 1;
        long clusters = ClusterSizing.forPrompt(Math.max(promptTokens, 1), config).clusters()
                + updates * ClusterSizing.forUpdate(config).clusters();
        long batches = 1 + updates;
        // ClusterBatch.bytes, summed over the batches, with each batch's centroid blocks rounded up.
        long index = 2L * (2 * positions + clusters) * d + 4L * (clusters + batches * ClusterBatch.BLOCK) * d + 8L * clusters;
        return shape.layers() * (steady + prompt + shape.kvHeads() * index);
    }

    @Override
    public void closeSequence(int sequence) {
        Sequence s = sequences.remove(sequence);
        for (SequenceLayer layer : s.layers) {
            layer.close();
        }
        s.arena.close();
    }

    @Override
    public long length(int sequence, int layer) {
        return sequence(sequence).layers[layer].length();
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keys, float[] values) {
        int width = shape.kvWidth();
        List<SequenceLayer.IndexWork> updatesDue = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = sequence(batch.sequence(i));
            if (batch.count(i) > 1) {
                s.decoding = false;
            }
            SequenceLayer target = s.layers[layer];
            int row = batch.firstRow(i);
            for (int r = 0; r < batch.count(i); r++, row++) {
                if (s.decoding) {
                    SequenceLayer.IndexWork update = target.appendGenerated(keys, values, row * width);
                    if (update != null) {
                        updatesDue.add(update);
                    }
                } else {
                    target.appendPrompt(keys, values, row * width);
                }
            }
        }
        if (!updatesDue.isEmpty()) {
            long start = System.nanoTime();
            build(updatesDue);
            updateNanos.addAndGet(System.nanoTime() - start);
            updates.addAndGet(updatesDue.size());
        }
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        SequenceLayer[] layers = new SequenceLayer[batch.size()];
        boolean[] exact = new boolean[batch.size()];
        int decodeRows = 0;
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = sequence(batch.sequence(i));
            layers[i] = s.layers[layer];
            exact[i] = !s.decoding || batch.count(i) > 1;
            decodeRows += exact[i] ? 0 : 1;
        }
        if (decodeRows < batch.size()) {
            ExactAttention.attend(shape, config, batch, layers, exact, queries, out);
        }
        if (decodeRows > 0) {
            SequenceLayer[] decoding = new SequenceLayer[decodeRows];
            int[] rows = new int[decodeRows];
            for (int i = 0, j = 0; i < batch.size(); i++) {
                if (!exact[i]) {
                    decoding[j] = layers[i];
                    rows[j++] = batch.firstRow(i);
                }
            }
            TripartiteAttention.attend(shape, config, decoding, rows, queries, out);
        }
    }

    /**
     * Builds the wave index of every layer over the prompt just ended (spec §1.1: all but the
     * sinks and the last {@code window} positions), or keeps a prompt too short for one in the
     * steady zone, and switches the sequence to decoding.
     */
    @Override
    public void endOfPrefill(int sequence) {
        Sequence s = sequence(sequence);
        List<SequenceLayer.IndexWork> work = new ArrayList<>();
        for (SequenceLayer layer : s.layers) {
            SequenceLayer.IndexWork w = layer.endOfPrefill();
            if (w != null) {
                work.add(w);
            }
        }
        s.decoding = true;
        if (work.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        build(work);
        buildNanos.addAndGet(System.nanoTime() - start);
        builds.incrementAndGet();
        builtTokens.addAndGet(work.getFirst().tokens().length());
    }

    /**
     * Runs the index builds, one task per (work, KV head): tasks in parallel where there are
     * enough of them to fill the threads, else one at a time with each k-means split across them.
     */
    private void build(List<SequenceLayer.IndexWork> work) {
        int kvHeads = shape.kvHeads();
        int tasks = work.size() * kvHeads;
        ClusterBatch[][] batches = new ClusterBatch[work.size()][kvHeads];
        int threads = config.threads();
        int innerParts = tasks >= threads ? 1 : threads;
        IntConsumer body = task -> {
            SequenceLayer.IndexWork w = work.get(task / kvHeads);
            batches[task / kvHeads][task % kvHeads] = IndexBuilder.build(w.tokens(), task % kvHeads, shape.headDim(),
                    config.storage(), w.sizing(), config.iterations(), innerParts, w.layer().arena());
        };
        if (innerParts == 1) {
            SplitWork.run(tasks, threads, (start, end) -> {
                for (int t = start; t < end; t++) {
                    body.accept(t);
                }
            });
        } else {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
        }
        for (int i = 0; i < work.size(); i++) {
            work.get(i).layer().commit(work.get(i), batches[i]);
        }
    }

    @Override
    public long memoryBytes() {
        long total = 0;
        for (Sequence s : sequences.all()) {
            for (SequenceLayer layer : s.layers) {
                total += layer.bytes();
            }
        }
        return total;
    }

    @Override
    public void close() {
        for (Integer id : sequences.ids()) {
            closeSequence(id);
        }
    }

    /** Whether {@code sequence} is past its prompt, its single rows answered by RetroInfer. */
    @Override
    public boolean isSparse(int sequence) {
        return sequence(sequence).decoding;
    }

    @Override
    public void attendExactly(int layer, BatchLayout batch, float[] queries, float[] out) {
        SequenceLayer[] layers = new SequenceLayer[batch.size()];
        boolean[] all = new boolean[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            layers[i] = layer(batch.sequence(i), layer);
            all[i] = true;
        }
        ExactAttention.attend(shape, config, batch, layers, all, queries, out);
    }

    @Override
    public DecodeZones zones(int sequence, int layer, int kvHead, float[] queries, int qOff) {
        return RetroZones.of(shape, layer(sequence, layer), kvHead, queries, qOff);
    }

    /**
     * The steady zone and the retrieval budget's nominal positions ({@link ZoneBudget#retrievalTokens})
     * while decoding; every position before.
     */
    @Override
    public long exactBudget(int sequence, int layer) {
        SequenceLayer sl = layer(sequence, layer);
        if (!isSparse(sequence)) {
            return sl.length();
        }
        return sl.steady.count() + sl.index.budget().retrievalTokens(sl.index.tokens(), sl.index.clusters());
    }

    /** The layer state of an open sequence. */
    SequenceLayer layer(int sequence, int layer) {
        return sequence(sequence).layers[layer];
    }

    private Sequence sequence(int id) {
        return sequences.get(id);
    }

    /**
     * One sequence: its layers (built with the sequence's budgets), freed together when it closes,
     * and whether it is decoding.
     */
    private final class Sequence {
        final Arena arena = Arena.ofShared();
        final SequenceLayer[] layers = new SequenceLayer[shape.layers()];
        boolean decoding;

        Sequence(RetroConfig budgets) {
            for (int l = 0; l < layers.length; l++) {
                layers[l] = new SequenceLayer(shape, budgets, arena);
            }
        }
    }
}
