package org.retroinfer.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.kernels.DType;

class DenseKvCacheTest {
    private static final AttentionShape SHAPE = new AttentionShape(2, 8, 2, 16);

    private static float[] random(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /**
     * GQA groups of 4, 1, 8, 3 and 2 query heads, head dimensions that are and are not whole
     * vectors, each with F16 and BF16 storage.
     */
    static Stream<Arguments> shapesAndTypes() {
        return Stream.of(new AttentionShape(2, 8, 2, 16), new AttentionShape(1, 4, 4, 24),
                        new AttentionShape(1, 8, 1, 32), new AttentionShape(1, 6, 2, 8), new AttentionShape(1, 4, 2, 8))
                .flatMap(shape -> Stream.of(Arguments.of(shape, DType.F16), Arguments.of(shape, DType.BF16)));
    }

    @ParameterizedTest
    @MethodSource("shapesAndTypes")
    void batchedChunksOfSequencesWithDifferentLengthsMatchFloat64Attention(AttentionShape shape, DType storage) {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        try (DenseKvCache cache = new DenseKvCache(shape, new DenseKvCache.Config(storage, 7))) {
            int[] ids = {cache.openSequence(), cache.openSequence(), cache.openSequence()};
            Float64Attention[] refs = {new Float64Attention(shape, storage), new Float64Attention(shape, storage),
                    new Float64Attention(shape, storage)};
            // A chunked prefill of different lengths per sequence, some chunks longer than a block of
            // rows and none a multiple of one, with decode rows mixed in; then lock-step steps of one
            // row each.
            int[][] steps = {{5, 13, 1}, {9, 2, 20}, {70, 1, 37}, {1, 1, 1}, {1, 1, 1}};
            for (int[] counts : steps) {
                BatchLayout batch = new BatchLayout(ids, counts);
                int rows = batch.rows();
                for (int layer = 0; layer < shape.layers(); layer++) {
                    float[] k = random(random, rows * shape.kvWidth());
                    float[] v = random(random, rows * shape.kvWidth());
                    float[] q = random(random, rows * shape.queryWidth());
                    for (int i = 0; i < batch.size(); i++) {
                        for (int r = 0; r < batch.count(i); r++) {
                            int row = batch.firstRow(i) + r;
                            refs[i].append(layer, k, v, row * shape.kvWidth());
                        }
                    }
                    cache.append(layer, batch, k, v);
                    float[] out = new float[rows * shape.queryWidth()];
                    Arrays.fill(out, Float.NaN);
                    cache.attend(layer, batch, q, out);
                    for (int i = 0; i < batch.size(); i++) {
                        int length = refs[i].keys.get(layer).size();
                        for (int r = 0; r < batch.count(i); r++) {
                            int row = batch.firstRow(i) + r;
                            int position = length - batch.count(i) + r;
                            double[] expected = refs[i].attend(layer, q, row * shape.queryWidth(), position);
                            for (int j = 0; j < expected.length; j++) {
                                assertEquals(expected[j], out[row * shape.queryWidth() + j], 1e-5,
                                        shape + " " + storage + " sequence " + i + " position " + position + " element "
                                                + j + " (seed " + seed + ")");
                            }
                        }
                        assertEquals(length, cache.length(ids[i], layer));
                    }
                }
            }
        }
    }

    @Test
    void memoryGrowsByWholePagesAndIsReturnedWhenSequencesClose() {
        try (DenseKvCache cache = new DenseKvCache(SHAPE, new DenseKvCache.Config(DType.F16, 4))) {
            long pageBytes = 2L * SHAPE.kvHeads() * 4 * SHAPE.headDim() * 2;
            int a = cache.openSequence();
            int b = cache.openSequence();
            float[] kv = new float[5 * SHAPE.kvWidth()];
            for (int layer = 0; layer < SHAPE.layers(); layer++) {
                cache.append(layer, BatchLayout.single(a, 5), kv, kv);
                cache.append(layer, BatchLayout.single(b, 1), kv, kv);
            }
            assertEquals(SHAPE.layers() * 3 * pageBytes, cache.memoryBytes());
            assertEquals(cache.memoryBytes(), cache.sequenceBytes(5) + cache.sequenceBytes(1),
                    "sequenceBytes foretells what a sequence holds");
            assertEquals(0, cache.sequenceBytes(0));
            cache.closeSequence(a);
            assertEquals(SHAPE.layers() * pageBytes, cache.memoryBytes());
            cache.closeSequence(b);
            assertEquals(0, cache.memoryBytes());
        }
    }

    @Test
    void closedSequenceCannotBeUsed() {
        try (DenseKvCache cache = new DenseKvCache(SHAPE, DenseKvCache.Config.defaults())) {
            int a = cache.openSequence();
            cache.closeSequence(a);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cache.length(a, 0));
            assertTrue(e.getMessage().contains("not open"));
        }
    }

    @Test
    void storageMustBeSixteenBit() {
        assertThrows(IllegalArgumentException.class, () -> new DenseKvCache.Config(DType.F32, 16));
    }
}
