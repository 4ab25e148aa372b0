package org.retroinfer.model.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Rope;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.transformer.InMemoryWeights;
import org.retroinfer.model.transformer.Transformer;

/** The model generating with RetroInfer attention, end to end, against dense attention. */
class RetroGenerationTest {
    private static final ModelConfig CONFIG = new ModelConfig(ModelFamily.LLAMA, 97, 64, 128, 2, 8, 2, 16, 1e-5, 10000,
            new RopeScaling.None(), Rope.Pairing.HALVES, 1024, false, false, false);
    private static final AttentionShape SHAPE =
            new AttentionShape(CONFIG.layers(), CONFIG.heads(), CONFIG.kvHeads(), CONFIG.headDim());

    /**
     * Small zones (4 sinks, a window of 8, updates of 32 generated positions) so that short prompts
     * are indexed and short generations cross updates; budgets that retrieve every cluster.
     */
    private static RetroConfig fullBudgets(DType type) {
        return new RetroConfig(1.0, 0.0, 4, 8, 8, 64, 32, 10, ComputePool.threads(), type, 64);
    }

    private static GenerationRequest greedy(int[] prompt, int maxNewTokens) {
        return new GenerationRequest(prompt, maxNewTokens, SamplingParams.greedy(), Set.of());
    }

    @Test
    void retroAttentionCoveringEveryClusterGeneratesTheGreedyTokensOfDenseAttention() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            Transformer model = new Transformer(CONFIG, InMemoryWeights.random(CONFIG, random, arena));
            List<GenerationRequest> requests = List.of(
                    greedy(random.ints(300, 0, CONFIG.vocabSize()).toArray(), 90),
                    greedy(random.ints(20, 0, CONFIG.vocabSize()).toArray(), 70),
                    greedy(random.ints(133, 0, CONFIG.vocabSize()).toArray(), 50));
            for (DType type : new DType[] {DType.F16, DType.BF16}) {
                GenerationResult dense;
                try (DenseKvCache cache = new DenseKvCache(SHAPE, new DenseKvCache.Config(type, 64))) {
                    dense = new Generator(model, cache, 48).generate(requests, GenerationListener.NONE);
                }
                try (RetroKvCache cache = new RetroKvCache(SHAPE, fullBudgets(type))) {
                    GenerationResult retro = new Generator(model, cache, 48).generate(requests, GenerationListener.NONE);
                    for (int i = 0; i < requests.size(); i++) {
                        assertArrayEquals(dense.completions().get(i).tokens(), retro.completions().get(i).tokens(),
                                type + " request " + i + " (seed " + seed + ")");
                    }
                    RetroKvCache.Stats stats = cache.stats();
                    assertTrue(stats.indexBuilds() == 2 && stats.indexUpdates() > 0, "prompts of 300 and 133 are "
                            + "indexed, the prompt of 20 gets its index from an update: " + stats);
                }
            }
        }
    }
}
