package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.Float64Attention;

class TripartiteAttentionTest {
    private static float[] read(ClusterBatch batch, long offset) {
        float[] x = new float[batch.headDim()];
        Dequantize.row(batch.type(), batch.data(), offset, batch.headDim(), x, 0);
        return x;
    }

    private static double dot(float[] q, int qOff, float[] k) {
        double s = 0;
        for (int i = 0; i < k.length; i++) {
            s += (double) q[qOff + i] * k[i];
        }
        return s;
    }

    /**
     * Spec §2.3's output, in float64, for the query heads of {@code kvHead}: clusters ranked by the
     * sum over the group of the softmax of q·c/√d, the top {@code retrieval} attended exactly with
     * the steady zone, the next {@code estimation} estimated by e^y·VS over s·e^y.
     */
    private static double[][] reference(SequenceLayer layer, int kvHead, float[] q, int qOff, int group, int d) {
        WaveIndex index = layer.index;
        int clusters = index.clusters();
        double scale = 1 / Math.sqrt(d);
        double[][] y = new double[group][clusters];
        int[] sizes = new int[clusters];
        float[][] valueSums = new float[clusters][];
        ClusterBatch[] batchOf = new ClusterBatch[clusters];
        for (int c = 0; c < clusters; c++) {
            int b = index.batchOf(c);
            ClusterBatch batch = index.batch(kvHead, b);
            int local = c - index.base(b);
            batchOf[c] = batch;
            sizes[c] = batch.sizes()[local];
            valueSums[c] = read(batch, batch.valueSumOffset(local));
            float[] centroid = new float[d];
            batch.centroid(local, centroid);
            for (int h = 0; h < group; h++) {
                y[h][c] = dot(q, qOff + h * d, centroid) * scale;
            }
        }
        double[] score = new double[clusters];
        for (int h = 0; h < group; h++) {
            double max = Arrays.stream(y[h]).max().orElseThrow();
            double total = Arrays.stream(y[h]).map(v -> Math.exp(v - max)).sum();
            for (int c = 0; c < clusters; c++) {
                score[c] += Math.exp(y[h][c] - max) / total;
            }
        }
        List<Integer> ranked = new ArrayList<>(IntStream.range(0, clusters).filter(c -> sizes[c] > 0).boxed().toList());
        ranked.sort(Comparator.comparingDouble((Integer c) -> -score[c]).thenComparingInt(c -> c));
        int retrieval = Math.min(index.budget().retrieval(), ranked.size());
        int estimation = Math.min(Math.min(index.budget().estimation(), clusters - retrieval), ranked.size() - retrieval);
        double[][] out = new double[group][d];
        for (int h = 0; h < group; h++) {
            // Everything relative to the largest exponent seen, as a float64 log-sum-exp would be.
            List<double[]> exact = new ArrayList<>();
            StoredTokens steady = layer.steady.tokensFrom(0);
            float[] k = new float[d];
            float[] v = new float[d];
            for (long t = 0; t < steady.length(); t++) {
                steady.readKey(kvHead, t, k, 0);
                steady.readValue(kvHead, t, v, 0);
                exact.add(concat(dot(q, qOff + h * d, k) * scale, v));
            }
            for (int r = 0; r < retrieval; r++) {
                int c = ranked.get(r);
                ClusterBatch batch = batchOf[c];
                int local = c - index.base(index.batchOf(c));
                for (int j = 0; j < sizes[c]; j++) {
                    int slot = batch.starts()[local] + j;
                    exact.add(concat(dot(q, qOff + h * d, read(batch, batch.keyOffset(slot))) * scale,
                            read(batch, batch.valueOffset(slot))));
                }
            }
            double max = exact.stream().mapToDouble(e -> e[0]).max().orElseThrow();
            for (int r = retrieval; r < retrieval + estimation; r++) {
                max = Math.max(max, y[h][ranked.get(r)]);
            }
            double numerator[] = new double[d];
            double denominator = 0;
            for (double[] e : exact) {
                double w = Math.exp(e[0] - max);
                denominator += w;
                for (int i = 0; i < d; i++) {
                    numerator[i] += w * e[1 + i];
                }
            }
            for (int r = retrieval; r < retrieval + estimation; r++) {
                int c = ranked.get(r);
                double w = Math.exp(y[h][c] - max);
                denominator += sizes[c] * w;
                for (int i = 0; i < d; i++) {
                    numerator[i] += w * valueSums[c][i];
                }
            }
            for (int i = 0; i < d; i++) {
                out[h][i] = numerator[i] / denominator;
            }
        }
        return out;
    }

    private static double[] concat(double first, float[] rest) {
        double[] x = new double[1 + rest.length];
        x[0] = first;
        for (int i = 0; i < rest.length; i++) {
            x[1 + i] = rest[i];
        }
        return x;
    }

    /**
     * With one thread, and with more threads than (sequence, KV head) tasks, which splits each
     * task's clusters into parts merged at the end.
     */
    @ParameterizedTest
    @CsvSource({"1, 2, 2", "4, 2, 2", "4, 1, 1"})
    void retrievedAndEstimatedClustersMergeAsTheSpecFormulaSays(int threads, int kvHeads, int sequences) {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(2, 4 * kvHeads, kvHeads, 32);
        RetroConfig config = RetroKvCacheTest.small(DType.BF16).withBudgets(0.1, 0.5)
                .withThreads(Math.min(threads, org.retroinfer.kernels.ComputePool.threads()));
        try (RetroKvCache cache = new RetroKvCache(shape, config)) {
            int a = cache.openSequence();
            int b = sequences == 2 ? cache.openSequence() : -1;
            int[] ids = sequences == 2 ? new int[] {a, b} : new int[] {a};
            for (int id : ids) {
                for (int layer = 0; layer < shape.layers(); layer++) {
                    float[] kv = RetroKvCacheTest.random(random, 900 * shape.kvWidth());
                    float[] v = RetroKvCacheTest.random(random, 900 * shape.kvWidth());
                    cache.append(layer, BatchLayout.single(id, 900), kv, v);
                }
                cache.endOfPrefill(id);
            }
            for (int step = 0; step < 70; step++) {
                BatchLayout batch = BatchLayout.oneRowEach(ids);
                for (int layer = 0; layer < shape.layers(); layer++) {
                    cache.append(layer, batch, RetroKvCacheTest.random(random, sequences * shape.kvWidth()),
                            RetroKvCacheTest.random(random, sequences * shape.kvWidth()));
                    float[] q = RetroKvCacheTest.random(random, sequences * shape.queryWidth());
                    float[] out = new float[sequences * shape.queryWidth()];
                    Arrays.fill(out, Float.NaN);
                    cache.attend(layer, batch, q, out);
                    if (step % 23 != 0 && step != 69) {
                        continue;
                    }
                    for (int row = 0; row < sequences; row++) {
                        SequenceLayer sl = cache.layer(ids[row], layer);
                        for (int kvHead = 0; kvHead < shape.kvHeads(); kvHead++) {
                            int qOff = row * shape.queryWidth() + kvHead * shape.groupSize() * shape.headDim();
                            double[][] expected = reference(sl, kvHead, q, qOff, shape.groupSize(), shape.headDim());
                            for (int h = 0; h < shape.groupSize(); h++) {
                                for (int i = 0; i < shape.headDim(); i++) {
                                    assertEquals(expected[h][i], out[qOff + h * shape.headDim() + i], 2e-5,
                                            "step " + step + " layer " + layer + " row " + row + " head " + h
                                                    + " element " + i + " (seed " + seed + ")");
                                }
                            }
                        }
                    }
                }
            }
            assertTrue(cache.layer(a, 0).index.batchCount() == 2, "the steps cross an update");
        }
    }

    @Test
    void plantedNeedlesAmongClusteredDistractorsAreRetrieved() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        int d = 64;
        AttentionShape shape = new AttentionShape(1, 4, 1, d);
        RetroConfig config = RetroConfig.defaults();
        int length = 6000;
        int directions = 48;
        float[][] topics = new float[directions][];
        for (int j = 0; j < directions; j++) {
            topics[j] = unit(random, d);
        }
        // Distractors run in topics of 40 to 200 positions; needles are 16-token phrases.
        float[] keys = new float[length * d];
        float[] values = RetroKvCacheTest.random(random, length * d);
        for (int t = 0; t < length; ) {
            float[] topic = topics[random.nextInt(directions)];
            int run = 40 + random.nextInt(160);
            for (int r = 0; r < run && t < length; r++, t++) {
                for (int i = 0; i < d; i++) {
                    keys[t * d + i] = 2 * topic[i] + 0.3f * (float) random.nextGaussian();
                }
            }
        }
        int[] needles = {300, 1700, 2999, 4200, 5800};
        float[][] needleDirections = new float[needles.length][];
        for (int n = 0; n < needles.length; n++) {
            needleDirections[n] = unit(random, d);
            for (int t = needles[n]; t < needles[n] + 16; t++) {
                for (int i = 0; i < d; i++) {
                    keys[t * d + i] = 6 * needleDirections[n][i] + 0.3f * (float) random.nextGaussian();
                }
            }
        }
        try (RetroKvCache cache = new RetroKvCache(shape, config);
             org.retroinfer.kvstore.DenseKvCache dense = new org.retroinfer.kvstore.DenseKvCache(shape,
                     org.retroinfer.kvstore.DenseKvCache.Config.defaults())) {
            int id = cache.openSequence();
            int denseId = dense.openSequence();
            cache.append(0, BatchLayout.single(id, length), keys, values);
            dense.append(0, BatchLayout.single(denseId, length), keys, values);
            cache.endOfPrefill(id);
            SequenceLayer layer = cache.layer(id, 0);
            WaveIndex index = layer.index;
            for (int n = 0; n < needles.length; n++) {
                float[] q = new float[shape.queryWidth()];
                for (int h = 0; h < shape.groupSize(); h++) {
                    for (int i = 0; i < d; i++) {
                        q[h * d + i] = 12 * needleDirections[n][i] + 0.2f * (float) random.nextGaussian();
                    }
                }
                ClusterScorer scorer = new ClusterScorer(shape.groupSize(), index.clusters());
                scorer.logits(index, 0, q, 0, d, shape.scale(), 0, index.clusters());
                scorer.softmax();
                ClusterScorer.Selection selection = scorer.select(index, 0, index.budget());
                for (int t = needles[n]; t < needles[n] + 16; t++) {
                    int cluster = clusterOf(index, keys, t, d, DType.F16);
                    assertTrue(Arrays.stream(selection.retrieval()).anyMatch(c -> c == cluster), "needle " + n
                            + " position " + t + " is in cluster " + cluster + ", not among the retrieved "
                            + Arrays.toString(selection.retrieval()) + " (seed " + seed + ")");
                }
                float[] kv = RetroKvCacheTest.random(random, d);
                cache.append(0, BatchLayout.single(id, 1), kv, kv);
                dense.append(0, BatchLayout.single(denseId, 1), kv, kv);
                float[] retro = new float[shape.queryWidth()];
                float[] exact = new float[shape.queryWidth()];
                cache.attend(0, BatchLayout.single(id, 1), q, retro);
                dense.attend(0, BatchLayout.single(denseId, 1), q, exact);
                double error = 0;
                double norm = 0;
                for (int i = 0; i < retro.length; i++) {
                    error += (retro[i] - exact[i]) * (retro[i] - exact[i]);
                    norm += exact[i] * exact[i];
                }
                System.out.printf("needle %d: relative error %.2e against dense attention%n", n, Math.sqrt(error / norm));
                // The estimation zone approximates the distractor topics' clusters: over seeds 0-1999 the worst needle's
                // error reached 0.060 (1.8% of seeds above 0.05, which this bound was until it failed CI at seed
                // 47098739788317 with 0.054); a retrieval that misses the needle errs by far more.
                assertTrue(Math.sqrt(error / norm) < 0.08, "needle " + n + ": relative error " + Math.sqrt(error / norm)
                        + " against dense attention (seed " + seed + ")");
            }
        }
    }

    private static float[] unit(Random random, int d) {
        float[] x = RetroKvCacheTest.random(random, d);
        double norm = Math.sqrt(dot(x, 0, x));
        for (int i = 0; i < d; i++) {
            x[i] /= (float) norm;
        }
        return x;
    }

    /** The cluster whose stored members include position {@code t}'s key (compared as stored). */
    private static int clusterOf(WaveIndex index, float[] keys, int t, int d, DType type) {
        double[] key = Float64Attention.rounded(keys, t * d, d, type);
        for (int b = 0; b < index.batchCount(); b++) {
            ClusterBatch batch = index.batch(0, b);
            for (int c = 0; c < batch.clusters(); c++) {
                for (int j = 0; j < batch.sizes()[c]; j++) {
                    float[] stored = read(batch, batch.keyOffset(batch.starts()[c] + j));
                    boolean same = true;
                    for (int i = 0; i < d && same; i++) {
                        same = stored[i] == key[i];
                    }
                    if (same) {
                        return index.base(b) + c;
                    }
                }
            }
        }
        throw new AssertionError("position " + t + " is not in the index");
    }
}
