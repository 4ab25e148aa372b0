package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.generation.SamplingParams;

class BatchSchedulerTest {
    /** Counts a sequence's text pieces, numbered on one clock shared by every listener of the test. */
    static final class Recorder implements SequenceListener {
        final AtomicInteger clock;
        final CountDownLatch done = new CountDownLatch(1);
        final CountDownLatch firstText = new CountDownLatch(1);
        volatile int pieces;
        volatile int firstTextAt = -1;
        volatile FinishReason reason;

        Recorder(AtomicInteger clock) {
            this.clock = clock;
        }

        @Override
        public void text(String piece) {
            int now = clock.incrementAndGet();
            if (pieces++ == 0) {
                firstTextAt = now;
                firstText.countDown();
            }
        }

        @Override
        public void finished(FinishReason reason, int promptTokens, int completionTokens) {
            this.reason = reason;
            done.countDown();
        }

        @Override
        public void failed(ApiException error) {
            done.countDown();
        }
    }

    @Test
    void aLongPromptIsPrefilledInChunksBetweenTheDecodeStepsOfOthers() throws Exception {
        try (Model model = Model.load(RetroTiny.DIR)) {
            ModelConfig c = model.config();
            ServeConfig config = new ServeConfig("t", "127.0.0.1", 0, null, 8, 4096, 1L << 30, 8, 128);
            try (DenseKvCache cache = new DenseKvCache(new AttentionShape(c.layers(), c.heads(), c.kvHeads(), c.headDim()),
                    DenseKvCache.Config.defaults());
                 BatchScheduler scheduler = new BatchScheduler(model.transformer(), model.tokenizer(), cache, config,
                         new ServerMetrics())) {
                AtomicInteger clock = new AtomicInteger();
                Recorder decoding = new Recorder(clock);
                // No stop tokens: the first sequence decodes all its 300 tokens whatever it writes.
                Submission first = scheduler.submit(new SequenceRequest(model.tokenizer().encode("def f(x):", true), 300,
                        SamplingParams.greedy(), Set.of(), List.of(), null, null), decoding);
                assertTrue(decoding.firstText.await(30, TimeUnit.SECONDS));
                int[] longPrompt = new int[640];
                for (int i = 0; i < longPrompt.length; i++) {
                    longPrompt[i] = 10 + i % 1000;
                }
                Recorder prefilling = new Recorder(clock);
                int submittedAt = clock.get();
                int decodedBefore = decoding.pieces;
                scheduler.submit(new SequenceRequest(longPrompt, 4, SamplingParams.greedy(), Set.of(), List.of(), null,
                        null), prefilling);
                assertTrue(prefilling.done.await(60, TimeUnit.SECONDS));
                assertEquals(SequenceListener.FinishReason.LENGTH, prefilling.reason);
                // 640 prompt tokens are 5 chunks of 128, each in a step that also decodes the first sequence.
                int interleaved = prefilling.firstTextAt - submittedAt - 1;
                assertTrue(interleaved >= 4, "the first sequence wrote only " + interleaved
                        + " pieces while the long prompt was prefilled (" + (decoding.pieces - decodedBefore) + " in all)");
                first.cancel();
            }
        }
    }

    /**
     * A cache that takes a step of prompt rows or of decode rows but not both (as the GPU RetroInfer cache): the
     * scheduler runs the decode rows and the prompt chunks as two steps, and both requests complete.
     */
    @Test
    void aCacheThatTakesNoMixedStepsGetsDecodeRowsAndPromptChunksInSeparateSteps() throws Exception {
        try (Model model = Model.load(RetroTiny.DIR)) {
            ModelConfig c = model.config();
            ServeConfig config = new ServeConfig("t", "127.0.0.1", 0, null, 8, 4096, 1L << 30, 8, 128);
            AtomicInteger mixed = new AtomicInteger(), split = new AtomicInteger();
            try (DenseKvCache dense = new DenseKvCache(new AttentionShape(c.layers(), c.heads(), c.kvHeads(), c.headDim()),
                    DenseKvCache.Config.defaults());
                 UnmixedCache cache = new UnmixedCache(dense, mixed, split);
                 BatchScheduler scheduler = new BatchScheduler(model.transformer(), model.tokenizer(), cache, config,
                         new ServerMetrics())) {
                AtomicInteger clock = new AtomicInteger();
                Recorder decoding = new Recorder(clock);
                scheduler.submit(new SequenceRequest(model.tokenizer().encode("def f(x):", true), 40, SamplingParams.greedy(),
                        Set.of(), List.of(), null, null), decoding);
                assertTrue(decoding.firstText.await(30, TimeUnit.SECONDS));
                Recorder prefilling = new Recorder(clock);
                int[] longPrompt = new int[400];
                for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = 10 + i % 1000;
                scheduler.submit(new SequenceRequest(longPrompt, 4, SamplingParams.greedy(), Set.of(), List.of(), null, null),
                        prefilling);
                assertTrue(decoding.done.await(60, TimeUnit.SECONDS) && prefilling.done.await(60, TimeUnit.SECONDS));
                assertEquals(SequenceListener.FinishReason.LENGTH, decoding.reason);
                assertEquals(SequenceListener.FinishReason.LENGTH, prefilling.reason);
                assertEquals(0, mixed.get(), "no step held both prompt and decode rows");
                assertTrue(split.get() > 0, "some steps ran while the other sequence decoded");
            }
        }
    }

    /** {@link DenseKvCache} that counts steps holding both prompt rows and decode rows, and says it takes none. */
    private static final class UnmixedCache implements org.retroinfer.kvstore.KvCache {
        private final DenseKvCache dense;
        private final AtomicInteger mixed, promptBesideDecoding;
        private final java.util.Set<Integer> decodingSequences = java.util.concurrent.ConcurrentHashMap.newKeySet();

        UnmixedCache(DenseKvCache dense, AtomicInteger mixed, AtomicInteger promptBesideDecoding) {
            this.dense = dense;
            this.mixed = mixed;
            this.promptBesideDecoding = promptBesideDecoding;
        }

        @Override public AttentionShape shape() { return dense.shape(); }
        @Override public int openSequence() { return dense.openSequence(); }
        @Override public void closeSequence(int sequence) { decodingSequences.remove(sequence); dense.closeSequence(sequence); }
        @Override public long length(int sequence, int layer) { return dense.length(sequence, layer); }
        @Override public void endOfPrefill(int sequence) { decodingSequences.add(sequence); dense.endOfPrefill(sequence); }
        @Override public boolean takesMixedSteps() { return false; }
        @Override public long memoryBytes() { return dense.memoryBytes(); }
        @Override public long sequenceBytesBound(long prompt, long generated) { return dense.sequenceBytesBound(prompt, generated); }
        @Override public void close() {}

        @Override
        public void append(int layer, org.retroinfer.kvstore.BatchLayout batch, float[] keys, float[] values) {
            if (layer == 0) {
                int decodeRows = 0;
                for (int i = 0; i < batch.size(); i++) decodeRows += decodingSequences.contains(batch.sequence(i)) ? 1 : 0;
                if (decodeRows > 0 && decodeRows < batch.size()) mixed.incrementAndGet();
                if (decodeRows == 0 && !decodingSequences.isEmpty()) promptBesideDecoding.incrementAndGet();
            }
            dense.append(layer, batch, keys, values);
        }

        @Override
        public void attend(int layer, org.retroinfer.kvstore.BatchLayout batch, float[] queries, float[] out) {
            dense.attend(layer, batch, queries, out);
        }
    }
}
