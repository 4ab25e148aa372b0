package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.Float64Attention;

class RetroKvCacheTest {
    /** Small zones so that short tests cross every boundary: index at 84 positions, updates of 64. */
    static RetroConfig small(DType type) {
        return new RetroConfig(0.018, 0.232, 4, 16, 8, 128, 64, 10, ComputePool.threads(), type, 32);
    }

    static Stream<Arguments> shapesAndTypes() {
        return Stream.of(
                Arguments.of(new AttentionShape(2, 8, 2, 32), DType.F16),
                Arguments.of(new AttentionShape(2, 8, 2, 32), DType.BF16),
                Arguments.of(new AttentionShape(1, 4, 4, 16), DType.F16),
                Arguments.of(new AttentionShape(1, 6, 2, 24), DType.BF16),
                Arguments.of(new AttentionShape(1, 8, 1, 32), DType.F16));
    }

    static float[] random(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /**
     * Runs one step (append then attend, every layer) of {@code counts[i]} rows for sequence
     * {@code ids[i]}, checking every row against float64 attention over everything stored.
     */
    static void stepAndCheck(RetroKvCache cache, Float64Attention[] refs, int[] ids, int[] counts, Random random,
                             double tolerance, long seed) {
        AttentionShape shape = cache.shape();
        BatchLayout batch = new BatchLayout(ids, counts);
        int rows = batch.rows();
        for (int layer = 0; layer < shape.layers(); layer++) {
            float[] k = random(random, rows * shape.kvWidth());
            float[] v = random(random, rows * shape.kvWidth());
            float[] q = random(random, rows * shape.queryWidth());
            for (int i = 0; i < batch.size(); i++) {
                for (int r = 0; r < batch.count(i); r++) {
                    refs[i].append(layer, k, v, (batch.firstRow(i) + r) * shape.kvWidth());
                }
            }
            cache.append(layer, batch, k, v);
            float[] out = new float[rows * shape.queryWidth()];
            Arrays.fill(out, Float.NaN);
            cache.attend(layer, batch, q, out);
            for (int i = 0; i < batch.size(); i++) {
                int length = refs[i].keys.get(layer).size();
                assertEquals(length, cache.length(ids[i], layer));
                for (int r = 0; r < batch.count(i); r++) {
                    int row = batch.firstRow(i) + r;
                    int position = length - batch.count(i) + r;
                    double[] expected = refs[i].attend(layer, q, row * shape.queryWidth(), position);
                    for (int j = 0; j < expected.length; j++) {
                        assertEquals(expected[j], out[row * shape.queryWidth() + j], tolerance, "sequence " + i
                                + " layer " + layer + " position " + position + " element " + j + " (seed " + seed + ")");
                    }
                }
            }
        }
    }

    static void prefill(RetroKvCache cache, Float64Attention ref, int id, int length, int chunk, Random random,
                        long seed) {
        for (int done = 0; done < length; done += chunk) {
            int n = Math.min(chunk, length - done);
            stepAndCheck(cache, new Float64Attention[] {ref}, new int[] {id}, new int[] {n}, random, 1e-5, seed);
        }
        cache.endOfPrefill(id);
    }

    @ParameterizedTest
    @MethodSource("shapesAndTypes")
    void budgetsCoveringEveryClusterReproduceDenseAttention(AttentionShape shape, DType type) {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        try (RetroKvCache cache = new RetroKvCache(shape, small(type).withBudgets(1.0, 0.0))) {
            int id = cache.openSequence();
            Float64Attention ref = new Float64Attention(shape, type);
            prefill(cache, ref, id, 700, 96, random, seed);
            assertTrue(cache.layer(id, 0).index.clusters() > 0, "a prompt of 700 positions is indexed");
            // 140 decode steps: two updates of 64 generated positions each.
            for (int step = 0; step < 140; step++) {
                stepAndCheck(cache, new Float64Attention[] {ref}, new int[] {id}, new int[] {1}, random, 1e-5, seed);
            }
            assertEquals(2, cache.stats().indexUpdates() / shape.layers());
            assertEquals(700 - 4 - 16 + 128, cache.layer(id, 0).index.tokens());
        }
    }

    @Test
    void aShortPromptIsAttendedDenselyAndGetsItsIndexAtTheFirstUpdate() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(2, 8, 2, 32);
        RetroConfig config = small(DType.F16).withBudgets(1.0, 0.0);
        try (RetroKvCache cache = new RetroKvCache(shape, config)) {
            int id = cache.openSequence();
            Float64Attention ref = new Float64Attention(shape, DType.F16);
            prefill(cache, ref, id, 30, 7, random, seed);
            assertEquals(0, cache.layer(id, 1).index.clusters(), "30 positions are fewer than 4 + 16 + 64");
            assertEquals(0, cache.stats().indexBuilds());
            assertEquals(30, cache.layer(id, 1).steady.count());
            // 30 + 50 = 80 positions: the steady zone (4 sinks + 16 + 64) fills at the 54th step.
            for (int step = 0; step < 60; step++) {
                stepAndCheck(cache, new Float64Attention[] {ref}, new int[] {id}, new int[] {1}, random, 1e-5, seed);
                int expected = 30 + step + 1 < 84 ? 0 : ClusterSizing.forUpdate(config).clusters();
                assertEquals(expected, cache.layer(id, 1).index.clusters(), "after step " + step);
            }
            WaveIndex index = cache.layer(id, 0).index;
            assertEquals(64, index.tokens());
            assertEquals(ZoneBudget.initial(8, config), index.budget());
        }
    }

    @Test
    void sequencesInDifferentStatesShareOneBatch() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(1, 8, 2, 32);
        try (RetroKvCache cache = new RetroKvCache(shape, small(DType.F16).withBudgets(1.0, 0.0))) {
            int a = cache.openSequence();
            int b = cache.openSequence();
            int c = cache.openSequence();
            Float64Attention[] refs = {new Float64Attention(shape, DType.F16), new Float64Attention(shape, DType.F16),
                new Float64Attention(shape, DType.F16)};
            prefill(cache, refs[0], a, 200, 64, random, seed);
            prefill(cache, refs[1], b, 40, 64, random, seed);
            // c prefills while a and b decode, in the same steps; then a takes a second prompt.
            int[] ids = {a, b, c};
            stepAndCheck(cache, refs, ids, new int[] {1, 1, 50}, random, 1e-5, seed);
            stepAndCheck(cache, refs, ids, new int[] {1, 1, 60}, random, 1e-5, seed);
            cache.endOfPrefill(c);
            stepAndCheck(cache, refs, ids, new int[] {30, 1, 1}, random, 1e-5, seed);
            cache.endOfPrefill(a);
            for (int step = 0; step < 20; step++) {
                stepAndCheck(cache, refs, ids, new int[] {1, 1, 1}, random, 1e-5, seed);
            }
            assertNull(cache.layer(a, 0).prompt(), "an indexed prompt's pages are freed");
        }
    }

    /** Keys and values that carry their position in their first two coordinates, exactly even in BF16. */
    private static float[] labelled(Random random, int position, int width, int headDim) {
        float[] x = random(random, width);
        for (int h = 0; h < width / headDim; h++) {
            x[h * headDim] = position / 64;
            x[h * headDim + 1] = position % 64;
        }
        return x;
    }

    private static int label(float[] x, int off) {
        return (int) x[off] * 64 + (int) x[off + 1];
    }

    /** Positions held for {@code kvHead}, as labels, read from wherever they are stored. */
    private static int[] storedLabels(SequenceLayer layer, int kvHead, int headDim) {
        float[] key = new float[headDim];
        float[] value = new float[headDim];
        java.util.List<Integer> labels = new java.util.ArrayList<>();
        java.util.List<StoredTokens> runs = new java.util.ArrayList<>();
        runs.add(layer.steady.tokensFrom(0));
        if (layer.prompt() != null) {
            runs.add(StoredTokens.of(layer.prompt()));
        }
        for (StoredTokens run : runs) {
            for (long t = 0; t < run.length(); t++) {
                run.readKey(kvHead, t, key, 0);
                run.readValue(kvHead, t, value, 0);
                assertEquals(label(key, 0), label(value, 0), "a key and its value stay together");
                labels.add(label(key, 0));
            }
        }
        WaveIndex index = layer.index;
        for (int b = 0; b < index.batchCount(); b++) {
            ClusterBatch batch = index.batch(kvHead, b);
            int members = Arrays.stream(batch.sizes()).sum();
            assertEquals(batch.tokens(), members, "cluster sizes add up to the batch's positions");
            for (int t = 0; t < batch.tokens(); t++) {
                org.retroinfer.kernels.Dequantize.row(batch.type(), batch.data(), batch.keyOffset(t), headDim, key, 0);
                org.retroinfer.kernels.Dequantize.row(batch.type(), batch.data(), batch.valueOffset(t), headDim, value, 0);
                assertEquals(label(key, 0), label(value, 0), "a key and its value stay together");
                labels.add(label(key, 0));
            }
        }
        return labels.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"F16", "BF16"})
    void updatesAcrossFlushesKeepEveryPositionExactlyOnce(DType type) {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(2, 4, 2, 16);
        try (RetroKvCache cache = new RetroKvCache(shape, small(type))) {
            int id = cache.openSequence();
            int position = 0;
            float[] q = new float[shape.queryWidth()];
            float[] out = new float[shape.queryWidth()];
            for (int step = 0; step < 400; step++) {
                // A prompt of 150 in chunks of 50, 200 generated, a second prompt of 70, 30 generated.
                int rows = step < 3 ? 50 : step == 203 ? 70 : 1;
                if (step >= 3 + 200 + 1 + 30) {
                    break;
                }
                float[] k = new float[rows * shape.kvWidth()];
                float[] v = new float[rows * shape.kvWidth()];
                for (int r = 0; r < rows; r++, position++) {
                    System.arraycopy(labelled(random, position, shape.kvWidth(), 16), 0, k, r * shape.kvWidth(),
                            shape.kvWidth());
                    System.arraycopy(labelled(random, position, shape.kvWidth(), 16), 0, v, r * shape.kvWidth(),
                            shape.kvWidth());
                }
                for (int layer = 0; layer < shape.layers(); layer++) {
                    BatchLayout batch = BatchLayout.single(id, rows);
                    cache.append(layer, batch, k, v);
                    float[] queries = rows == 1 ? q : new float[rows * shape.queryWidth()];
                    cache.attend(layer, batch, queries, rows == 1 ? out : new float[rows * shape.queryWidth()]);
                }
                if (step == 2 || step == 203) {
                    cache.endOfPrefill(id);
                }
                for (int layer = 0; layer < shape.layers(); layer++) {
                    for (int h = 0; h < shape.kvHeads(); h++) {
                        int[] labels = storedLabels(cache.layer(id, layer), h, 16);
                        assertEquals(position, labels.length, "positions held after step " + step);
                        for (int p = 0; p < position; p++) {
                            assertEquals(p, labels[p], "position " + p + " is held exactly once after step " + step);
                        }
                    }
                }
            }
            assertTrue(cache.stats().indexUpdates() >= 2 * shape.layers(), "the test crosses updates");
            assertEquals(2, cache.stats().indexBuilds(), "both prompts were indexed");
        }
    }

    @Test
    void memoryCountsTheZonesTheIndexAndThePromptPagesAndIsFreedOnClose() {
        AttentionShape shape = new AttentionShape(2, 8, 2, 32);
        RetroConfig config = small(DType.F16);
        Random random = new Random(5);
        try (RetroKvCache cache = new RetroKvCache(shape, config)) {
            long steady = SteadyZone.bytes(2, 32, config.steadyCapacity()) * shape.layers();
            int id = cache.openSequence();
            assertEquals(steady, cache.memoryBytes());
            float[] kv = random(random, 100 * shape.kvWidth());
            for (int layer = 0; layer < shape.layers(); layer++) {
                cache.append(layer, BatchLayout.single(id, 100), kv, kv);
            }
            long pageBytes = 2L * shape.kvHeads() * config.pageTokens() * shape.headDim() * 2;
            assertEquals(steady + shape.layers() * 4 * pageBytes, cache.memoryBytes(), "4 pages of 32 for 100 positions");
            cache.endOfPrefill(id);
            WaveIndex index = cache.layer(id, 0).index;
            long batchBytes = ClusterBatch.bytes(100 - 4 - 16, index.clusters(), 32) + 8L * index.clusters();
            assertEquals(steady + shape.layers() * shape.kvHeads() * batchBytes, cache.memoryBytes(),
                    "the prompt's pages are freed once indexed");
            int other = cache.openSequence();
            cache.closeSequence(id);
            assertEquals(steady, cache.memoryBytes());
            cache.closeSequence(other);
            assertEquals(0, cache.memoryBytes());
        }
    }

    @Test
    void theIndexIsAPureFunctionOfTheKeysAndValuesWhateverTheThreads() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        AttentionShape shape = new AttentionShape(2, 8, 2, 32);
        RetroConfig config = small(DType.BF16);
        try (RetroKvCache a = new RetroKvCache(shape, config); RetroKvCache b = new RetroKvCache(shape, config);
             RetroKvCache serial = new RetroKvCache(shape, config.withThreads(1))) {
            RetroKvCache[] caches = {a, b, serial};
            for (RetroKvCache cache : caches) {
                Random random = new Random(seed);
                int id = cache.openSequence();
                for (int layer = 0; layer < shape.layers(); layer++) {
                    cache.append(layer, BatchLayout.single(id, 1000), random(random, 1000 * shape.kvWidth()),
                            random(random, 1000 * shape.kvWidth()));
                }
                cache.endOfPrefill(id);
            }
            for (int layer = 0; layer < shape.layers(); layer++) {
                for (int h = 0; h < shape.kvHeads(); h++) {
                    ClusterBatch first = caches[0].layer(0, layer).index.batch(h, 0);
                    for (int c = 1; c < caches.length; c++) {
                        ClusterBatch other = caches[c].layer(0, layer).index.batch(h, 0);
                        assertArrayEquals(first.sizes(), other.sizes());
                        assertEquals(-1, first.data().mismatch(other.data()), "layer " + layer + " head " + h
                                + ": stored members, centroids and value sums differ (seed " + seed + ")");
                    }
                }
            }
        }
    }

    @Test
    void aSequenceOpenedWithItsOwnBudgetsDecodesWithThemBesideOneWithTheCachesBudgets() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(2, 8, 2, 32);
        RetroConfig config = small(DType.F16);
        try (RetroKvCache cache = new RetroKvCache(shape, config)) {
            int own = cache.openSequence(1.0, 0.0);
            int shared = cache.openSequence();
            Float64Attention ref = new Float64Attention(shape, DType.F16);
            prefill(cache, ref, own, 400, 100, random, seed);
            for (int layer = 0; layer < shape.layers(); layer++) {
                float[] kv = random(random, 400 * shape.kvWidth());
                cache.append(layer, BatchLayout.single(shared, 400), kv, kv);
            }
            cache.endOfPrefill(shared);
            WaveIndex ownIndex = cache.layer(own, 1).index;
            WaveIndex sharedIndex = cache.layer(shared, 1).index;
            assertEquals(ZoneBudget.initial(ownIndex.clusters(), config.withBudgets(1.0, 0.0)), ownIndex.budget());
            assertEquals(ZoneBudget.initial(sharedIndex.clusters(), config), sharedIndex.budget());
            assertTrue(sharedIndex.budget().retrieval() < sharedIndex.clusters(), "the cache's budget is partial");
            // Retrieving every cluster is exact attention, across an update, while the other sequence
            // stays at the cache's budgets.
            for (int step = 0; step < 70; step++) {
                stepAndCheck(cache, new Float64Attention[] {ref}, new int[] {own}, new int[] {1}, random, 1e-5, seed);
            }
            assertEquals(ownIndex.clusters(), ownIndex.budget().retrieval(), "the update grew the full budget");
        }
    }

    @Test
    void sequenceBytesBoundHoldsAtEveryStepAndIsNotFarAboveThePeak() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(2, 8, 2, 32);
        try (RetroKvCache cache = new RetroKvCache(shape, small(DType.F16).withBudgets(1.0, 0.0))) {
            for (int[] lengths : new int[][] {{30, 100}, {700, 140}}) {
                int prompt = lengths[0];
                int generated = lengths[1];
                long bound = cache.sequenceBytesBound(prompt, generated);
                int id = cache.openSequence();
                Float64Attention ref = new Float64Attention(shape, DType.F16);
                long peak = 0;
                for (int done = 0; done < prompt; done += 96) {
                    int n = Math.min(96, prompt - done);
                    stepAndCheck(cache, new Float64Attention[] {ref}, new int[] {id}, new int[] {n}, random, 1e-5, seed);
                    peak = Math.max(peak, cache.memoryBytes());
                }
                cache.endOfPrefill(id);
                for (int step = 0; step < generated; step++) {
                    peak = Math.max(peak, cache.memoryBytes());
                    assertTrue(cache.memoryBytes() <= bound, "prompt " + prompt + ", step " + step + ": "
                            + cache.memoryBytes() + " bytes above the bound " + bound);
                    stepAndCheck(cache, new Float64Attention[] {ref}, new int[] {id}, new int[] {1}, random, 1e-5, seed);
                }
                peak = Math.max(peak, cache.memoryBytes());
                assertTrue(peak <= bound, "peak " + peak + " above the bound " + bound);
                assertTrue(bound <= 2.5 * peak, "the bound " + bound + " is far above the peak " + peak);
                cache.closeSequence(id);
            }
        }
    }

    @Test
    void closedSequenceCannotBeUsed() {
        try (RetroKvCache cache = new RetroKvCache(new AttentionShape(1, 2, 1, 8), small(DType.F16))) {
            int id = cache.openSequence();
            cache.closeSequence(id);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cache.endOfPrefill(id));
            assertTrue(e.getMessage().contains("not open"), e.getMessage());
        }
    }
}
