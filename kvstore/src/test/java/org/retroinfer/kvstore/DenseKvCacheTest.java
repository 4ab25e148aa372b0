package org.retroinfer.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

class DenseKvCacheTest {
    private static final AttentionShape SHAPE = new AttentionShape(2, 8, 2, 16);

    /** Keys and values of one sequence as stored (rounded to the storage type), per layer. */
    private static final class Reference {
        final AttentionShape shape;
        final List<List<double[]>> keys = new ArrayList<>();
        final List<List<double[]>> values = new ArrayList<>();

        Reference(AttentionShape shape) {
            this.shape = shape;
            for (int l = 0; l < shape.layers(); l++) {
                keys.add(new ArrayList<>());
                values.add(new ArrayList<>());
            }
        }

        /** Causal attention of one query row at position {@code position}, in float64. */
        double[] attend(int layer, float[] q, int qOff, int position) {
            int d = shape.headDim();
            double[] out = new double[shape.queryWidth()];
            for (int h = 0; h < shape.queryHeads(); h++) {
                int kv = h / shape.groupSize();
                double[] s = new double[position + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t <= position; t++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += q[qOff + h * d + i] * keys.get(layer).get(t)[kv * d + i];
                    }
                    s[t] = dot / Math.sqrt(d);
                    max = Math.max(max, s[t]);
                }
                double sum = 0;
                for (int t = 0; t <= position; t++) {
                    s[t] = Math.exp(s[t] - max);
                    sum += s[t];
                }
                for (int t = 0; t <= position; t++) {
                    for (int i = 0; i < d; i++) {
                        out[h * d + i] += s[t] / sum * values.get(layer).get(t)[kv * d + i];
                    }
                }
            }
            return out;
        }
    }

    private static float[] random(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static double[] rounded(float[] x, int off, int n, DType type) {
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = Half.toFloat(type, Half.fromFloat(type, x[off + i]));
        }
        return r;
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
            Reference[] refs = {new Reference(shape), new Reference(shape), new Reference(shape)};
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
                            refs[i].keys.get(layer).add(rounded(k, row * shape.kvWidth(), shape.kvWidth(), storage));
                            refs[i].values.get(layer).add(rounded(v, row * shape.kvWidth(), shape.kvWidth(), storage));
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
