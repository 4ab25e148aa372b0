package org.retroinfer.kvstore.baseline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DecodeZones;
import org.retroinfer.kvstore.Float64Attention;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.ProbeSteps;
import org.retroinfer.kvstore.retro.RetroConfig;

class QuestKvCacheTest {
    /**
     * Random keys (some scaled up, so that pages mix large and small ones), random queries of
     * GQA groups: for every page, KV head, query head and key, the page's bound is at least the
     * key's score computed in float64 from the stored key, up to float rounding of the bound's sum.
     */
    @Test
    void thePageBoundIsAnUpperBoundOfEveryScoreInThePage() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        for (int headDim : new int[] {8, 20, 64}) {
            for (DType type : new DType[] {DType.F16, DType.BF16}) {
                int kvHeads = 2;
                int group = 3;
                int pageTokens = 16;
                int positions = 16 * 70 + 5;
                AttentionShape shape = new AttentionShape(1, kvHeads * group, kvHeads, headDim);
                try (Arena arena = Arena.ofConfined()) {
                    KvPages pages = new KvPages(kvHeads, headDim, type, 32, arena);
                    PageBounds bounds = new PageBounds(kvHeads, headDim, pageTokens, arena);
                    Float64Attention ref = new Float64Attention(shape, type);
                    for (int t = 0; t < positions; t++) {
                        float[] k = ProbeSteps.random(random, kvHeads * headDim);
                        float gain = random.nextInt(8) == 0 ? 10 : 1;
                        for (int i = 0; i < k.length; i++) {
                            k[i] *= gain;
                        }
                        pages.append(k, k, 0);
                        bounds.add(pages, t);
                        ref.append(0, k, k, 0);
                    }
                    for (int trial = 0; trial < 20; trial++) {
                        float[] q = ProbeSteps.random(random, group * headDim);
                        for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
                            for (long page = 0; page * pageTokens < positions; page++) {
                                float bound = bounds.bound(kvHead, q, 0, group, shape.scale(), page);
                                for (long t = page * pageTokens; t < Math.min(positions, (page + 1) * pageTokens); t++) {
                                    double[] key = ref.keys.get(0).get((int) t);
                                    for (int h = 0; h < group; h++) {
                                        double dot = 0;
                                        double magnitude = 0;
                                        for (int i = 0; i < headDim; i++) {
                                            dot += q[h * headDim + i] * key[kvHead * headDim + i];
                                            magnitude += Math.abs(q[h * headDim + i] * key[kvHead * headDim + i]);
                                        }
                                        double score = dot * shape.scale();
                                        double slack = 1e-5 * magnitude * shape.scale();
                                        assertTrue(bound >= score - slack, "page " + page + " position " + t + " head " + h
                                                + ": bound " + bound + " < score " + score + " (" + type + ", d " + headDim
                                                + ", seed " + seed + ")");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Among random keys, one key along the decode query's direction: Quest's small budget picks
     * its page and attends it exactly (StreamingLLM at the same budget does not reach it), and the
     * output follows exact attention, which that key dominates.
     */
    @Test
    void questRetrievesThePageOfAPlantedHighScoringKey() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(1, 4, 1, 32);
        RetroConfig config = BaselineCachesTest.small(0.018, DType.F16);
        int prompt = 2000;
        int planted = 700 + random.nextInt(600);
        float[] direction = ProbeSteps.random(random, shape.headDim());
        double norm = 0;
        for (float x : direction) {
            norm += x * x;
        }
        for (int i = 0; i < direction.length; i++) {
            direction[i] /= (float) Math.sqrt(norm);
        }
        float[] keys = ProbeSteps.random(random, prompt * shape.kvWidth());
        for (int i = 0; i < shape.headDim(); i++) {
            keys[planted * shape.kvWidth() + i] = 50 * direction[i];
        }
        float[] values = ProbeSteps.random(random, prompt * shape.kvWidth());
        try (QuestKvCache quest = new QuestKvCache(shape, new QuestConfig(config, 16));
             StreamingLlmKvCache streaming = new StreamingLlmKvCache(shape, new StreamingLlmConfig(config))) {
            int id = quest.openSequence();
            streaming.openSequence();
            quest.append(0, BatchLayout.single(id, prompt), keys, values);
            streaming.append(0, BatchLayout.single(id, prompt), keys, values);
            quest.endOfPrefill(id);
            streaming.endOfPrefill(id);
            float[] k = ProbeSteps.random(random, shape.kvWidth());
            float[] v = ProbeSteps.random(random, shape.kvWidth());
            quest.append(0, BatchLayout.single(id, 1), k, v);
            streaming.append(0, BatchLayout.single(id, 1), k, v);
            float[] q = ProbeSteps.random(random, shape.queryWidth());
            for (int h = 0; h < shape.groupSize(); h++) {
                for (int i = 0; i < shape.headDim(); i++) {
                    q[h * shape.headDim() + i] = 0.3f * q[h * shape.headDim() + i] + 3 * direction[i];
                }
            }
            long exact = quest.exactBudget(id, 0);
            assertTrue(exact < prompt / 10, "a small budget: " + exact + " positions");
            DecodeZones zones = quest.zones(id, 0, 0, q, 0);
            assertEquals(DecodeZones.EXACT, zones.zones()[planted], "planted at " + planted + " (seed " + seed + ")");
            assertEquals(DecodeZones.DROPPED, streaming.zones(id, 0, 0, q, 0).zones()[planted]);
            float[] out = new float[q.length];
            float[] expected = new float[q.length];
            Arrays.fill(out, Float.NaN);
            quest.attend(0, BatchLayout.single(id, 1), q, out);
            quest.attendExactly(0, BatchLayout.single(id, 1), q, expected);
            for (int j = 0; j < out.length; j++) {
                assertEquals(expected[j], out[j], 1e-2, "element " + j + " (seed " + seed + ")");
            }
        }
    }

    /** Memory is the dense store's pages plus one chunk of page bounds per 64 Quest pages, per layer. */
    @Test
    void memoryCountsThePagesAndTheirBounds() {
        AttentionShape shape = new AttentionShape(2, 4, 2, 16);
        RetroConfig config = BaselineCachesTest.small(0.018, DType.F16);
        long storePage = 2L * shape.kvHeads() * config.pageTokens() * shape.headDim() * 2;
        long boundsChunk = PageBounds.chunkBytes(shape.kvHeads(), shape.headDim());
        try (QuestKvCache quest = new QuestKvCache(shape, new QuestConfig(config, 16));
             StreamingLlmKvCache streaming = new StreamingLlmKvCache(shape, new StreamingLlmConfig(config))) {
            int a = quest.openSequence();
            int b = quest.openSequence();
            streaming.openSequence();
            // 1100 positions: 35 store pages of 32, 69 Quest pages of 16, so 2 chunks of bounds.
            float[] kv = new float[1100 * shape.kvWidth()];
            for (int layer = 0; layer < shape.layers(); layer++) {
                quest.append(layer, BatchLayout.single(a, 1100), kv, kv);
                quest.append(layer, BatchLayout.single(b, 1), kv, kv);
                streaming.append(layer, BatchLayout.single(a, 1100), kv, kv);
            }
            assertEquals(shape.layers() * (35 * storePage + 2 * boundsChunk + storePage + boundsChunk),
                    quest.memoryBytes());
            assertEquals(shape.layers() * 35 * storePage, streaming.memoryBytes());
            quest.closeSequence(a);
            assertEquals(shape.layers() * (storePage + boundsChunk), quest.memoryBytes());
            quest.closeSequence(b);
            assertEquals(0, quest.memoryBytes());
        }
    }
}
