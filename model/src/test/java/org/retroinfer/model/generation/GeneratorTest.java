package org.retroinfer.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.Rope;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.transformer.InMemoryWeights;
import org.retroinfer.model.transformer.Transformer;

class GeneratorTest {
    private static final ModelConfig CONFIG = new ModelConfig(ModelFamily.LLAMA, 61, 32, 64, 2, 4, 2, 8, 1e-5, 10000,
            new RopeScaling.None(), Rope.Pairing.HALVES, 96, false, false, false);

    private Arena arena;
    private Transformer model;
    private DenseKvCache cache;
    private Random random;

    @BeforeEach
    void setUp() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        random = new Random(seed);
        arena = Arena.ofShared();
        model = new Transformer(CONFIG, InMemoryWeights.random(CONFIG, random, arena));
        cache = new DenseKvCache(new AttentionShape(CONFIG.layers(), CONFIG.heads(), CONFIG.kvHeads(), CONFIG.headDim()),
                DenseKvCache.Config.defaults());
    }

    @AfterEach
    void tearDown() {
        cache.close();
        arena.close();
    }

    private int[] prompt(int length) {
        return random.ints(length, 0, CONFIG.vocabSize()).toArray();
    }

    private static GenerationRequest greedy(int[] prompt, int maxNewTokens) {
        return new GenerationRequest(prompt, maxNewTokens, SamplingParams.greedy(), Set.of());
    }

    @Test
    void thePrefillChunkSizeDoesNotChangeGreedyTokens() {
        int[] prompt = prompt(37);
        int[] whole = new Generator(model, cache, 64).generate(List.of(greedy(prompt, 12)), GenerationListener.NONE)
                .completions().getFirst().tokens();
        for (int chunk : new int[] {1, 5, 36}) {
            int[] chunked = new Generator(model, cache, chunk).generate(List.of(greedy(prompt, 12)), GenerationListener.NONE)
                    .completions().getFirst().tokens();
            assertArrayEquals(whole, chunked, "chunk " + chunk);
        }
    }

    @Test
    void lockStepBatchOfDifferentLengthsGivesEachSequenceItsOwnTokens() {
        List<GenerationRequest> requests = List.of(greedy(prompt(5), 9), greedy(prompt(30), 4), greedy(prompt(17), 14));
        GenerationResult batched = new Generator(model, cache, 8).generate(requests, GenerationListener.NONE);
        for (int i = 0; i < requests.size(); i++) {
            int[] alone = new Generator(model, cache, 8).generate(List.of(requests.get(i)), GenerationListener.NONE)
                    .completions().getFirst().tokens();
            assertArrayEquals(alone, batched.completions().get(i).tokens(), "request " + i);
        }
        assertEquals(9 + 4 + 14 - 3, batched.stats().decodeTokens(), "the first token of each comes from its prefill");
        assertEquals(13, batched.stats().decodeSteps());
        assertEquals(0, cache.memoryBytes(), "sequences are freed when generation ends");
    }

    @Test
    void aStopTokenEndsItsSequenceAndIsKept() {
        int[] prompt = prompt(11);
        int[] free = new Generator(model, cache, 8).generate(List.of(greedy(prompt, 10)), GenerationListener.NONE)
                .completions().getFirst().tokens();
        int stop = free[3];
        int firstStop = 0;
        while (free[firstStop] != stop) {
            firstStop++;
        }
        Completion c = new Generator(model, cache, 8).generate(
                List.of(new GenerationRequest(prompt, 10, SamplingParams.greedy(), Set.of(stop))), GenerationListener.NONE)
                .completions().getFirst();
        assertEquals(Completion.StopReason.STOP_TOKEN, c.reason());
        assertEquals(firstStop + 1, c.tokens().length);
        assertEquals(stop, c.tokens()[firstStop]);
    }

    @Test
    void generationStopsWhenTheContextWindowIsFull() {
        Completion c = new Generator(model, cache, 32).generate(List.of(greedy(prompt(90), 50)), GenerationListener.NONE)
                .completions().getFirst();
        assertEquals(Completion.StopReason.CONTEXT_FULL, c.reason());
        assertEquals(CONFIG.maxPositions() - 90 + 1, c.tokens().length, "the last token needs no position of its own");
    }

    @Test
    void aPromptLongerThanTheContextIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model, cache, 32).generate(List.of(greedy(prompt(97), 1)), GenerationListener.NONE));
        assertTrue(e.getMessage().contains("97 tokens"), e.getMessage());
    }

    @Test
    void theCacheLearnsWhereEachPromptEndsBeforeDecoding() {
        List<String> calls = new ArrayList<>();
        org.retroinfer.kvstore.KvCache recording = new org.retroinfer.kvstore.ForwardingKvCache(cache) {
            @Override
            public void attend(int layer, org.retroinfer.kvstore.BatchLayout batch, float[] queries, float[] out) {
                if (layer == 0) {
                    calls.add("attend " + batch.rows());
                }
                super.attend(layer, batch, queries, out);
            }

            @Override
            public void endOfPrefill(int sequence) {
                calls.add("end of prefill at " + length(sequence, CONFIG.layers() - 1));
            }
        };
        new Generator(model, recording, 8).generate(List.of(greedy(prompt(12), 3), greedy(prompt(5), 3)),
                GenerationListener.NONE);
        assertEquals(List.of("attend 8", "attend 4", "end of prefill at 12", "attend 5", "end of prefill at 5",
                "attend 2", "attend 2"), calls);
    }

    @Test
    void listenersSeePrefillProgressAndEveryTokenInOrder() {
        List<String> events = new ArrayList<>();
        GenerationListener listener = new GenerationListener() {
            @Override
            public void prefilled(int request, long done, long total) {
                events.add("p" + request + ":" + done + "/" + total);
            }

            @Override
            public void token(int request, int token) {
                events.add("t" + request + ":" + token);
            }
        };
        GenerationResult r = new Generator(model, cache, 4).generate(List.of(greedy(prompt(10), 3)), listener);
        int[] tokens = r.completions().getFirst().tokens();
        assertEquals(List.of("p0:4/10", "p0:8/10", "p0:10/10", "t0:" + tokens[0], "t0:" + tokens[1], "t0:" + tokens[2]),
                events);
    }
}
