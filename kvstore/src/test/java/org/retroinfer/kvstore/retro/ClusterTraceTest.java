package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;

class ClusterTraceTest {
    private static final AttentionShape SHAPE = new AttentionShape(1, 4, 2, 16);
    private static final int PROMPT = 300;

    /** A cache holding one prompt of random keys; returns its keys as stored (F16-rounded). */
    private static float[] prefill(RetroKvCache cache, int id, Random random) {
        int width = SHAPE.kvWidth();
        float[] keys = RetroKvCacheTest.random(random, PROMPT * width);
        float[] values = RetroKvCacheTest.random(random, PROMPT * width);
        cache.append(0, BatchLayout.single(id, PROMPT), keys, values);
        cache.endOfPrefill(id);
        float[] stored = new float[keys.length];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment half = arena.allocate(2L * keys.length);
            AttentionKernels.store(keys, 0, keys.length, half, 0, DType.F16);
            Dequantize.row(DType.F16, half, 0, keys.length, stored, 0);
        }
        return stored;
    }

    private static float[] key(float[] stored, int position, int kvHead) {
        float[] k = new float[SHAPE.headDim()];
        System.arraycopy(stored, position * SHAPE.kvWidth() + kvHead * SHAPE.headDim(), k, 0, k.length);
        return k;
    }

    @Test
    void aSinkAndAWindowPositionAreFoundInTheSteadyZoneAndAnUnknownKeyNowhere() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        try (RetroKvCache cache = new RetroKvCache(SHAPE, RetroKvCacheTest.small(DType.F16))) {
            int id = cache.openSequence();
            float[] stored = prefill(cache, id, random);
            float[] q = RetroKvCacheTest.random(random, SHAPE.queryWidth());
            ClusterTrace.Located sink = ClusterTrace.locate(cache, id, 0, 1, q, 2 * SHAPE.headDim(), 0, key(stored, 2, 1));
            assertEquals(ClusterTrace.Zone.STEADY, sink.zone(), "seed " + seed);
            assertEquals(2, sink.steadySlot(), "seed " + seed);
            // small(): 4 sinks, a window of 16, so the last prompt position is slot 4 + 15
            ClusterTrace.Located last = ClusterTrace.locate(cache, id, 0, 0, q, 0, 1, key(stored, PROMPT - 1, 0));
            assertEquals(ClusterTrace.Zone.STEADY, last.zone(), "seed " + seed);
            assertEquals(19, last.steadySlot(), "seed " + seed);
            float[] unknown = new float[SHAPE.headDim()];
            unknown[0] = 1e4f;
            assertEquals(ClusterTrace.Zone.ABSENT, ClusterTrace.locate(cache, id, 0, 0, q, 0, 0, unknown).zone());
        }
    }

    @Test
    void anIndexedKeyIsRankedAsTheDecodeStepRanksItsCluster() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        try (RetroKvCache cache = new RetroKvCache(SHAPE, RetroKvCacheTest.small(DType.F16))) {
            int id = cache.openSequence();
            float[] stored = prefill(cache, id, random);
            int clusters = cache.layer(id, 0).index.clusters();
            int retrieval = cache.layer(id, 0).index.budget().retrieval();
            for (int trial = 0; trial < 40; trial++) {
                float[] q = RetroKvCacheTest.random(random, SHAPE.queryWidth());
                int position = 4 + random.nextInt(PROMPT - 4 - 16);
                int kvHead = random.nextInt(2);
                int head = random.nextInt(2);
                float[] k = key(stored, position, kvHead);
                ClusterTrace.Located at = ClusterTrace.locate(cache, id, 0, kvHead, q, kvHead * 2 * SHAPE.headDim(), head, k);
                String where = "seed " + seed + ", position " + position + ": " + at;
                assertTrue(at.cluster() >= 0 && at.cluster() < clusters, where);
                assertEquals(clusters, at.clusters(), where);
                assertEquals(retrieval, at.retrieval(), where);
                assertEquals(at.rank() < retrieval, at.zone() == ClusterTrace.Zone.RETRIEVED, where);
                assertTrue(at.zone() == ClusterTrace.Zone.RETRIEVED ? at.score() >= at.lastRetrieved()
                        : at.score() <= at.lastRetrieved(), where);
                double logit = 0;
                for (int i = 0; i < k.length; i++) {
                    logit += (double) q[(kvHead * 2 + head) * SHAPE.headDim() + i] * k[i];
                }
                assertEquals(logit * SHAPE.scale(), at.keyLogit(), 1e-9, where);
                // the centroid is the members' mean, so its logit is their mean logit: never above the best
                assertTrue(at.centroidLogit() <= at.maxMemberLogit() + 1e-4 && at.keyLogit() <= at.maxMemberLogit() + 1e-9,
                        where);
                assertTrue(at.centroidLogit() <= at.bestCentroidLogit() && at.size() >= 1, where);
                assertTrue(Math.abs(at.cosine()) <= 1 + 1e-9 && at.headShare() > 0 && at.headShare() <= 1, where);
                assertTrue(at.size() > 1 || Math.abs(at.cosine() - 1) < 1e-6, where);
            }
        }
    }
}
