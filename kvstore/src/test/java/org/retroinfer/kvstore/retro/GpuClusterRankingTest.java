package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;
import org.retroinfer.kernels.gpu.CentroidScoring;
import org.retroinfer.kernels.gpu.ClusterScoringShape;
import org.retroinfer.kernels.gpu.ClusterTopK;

/**
 * The GPU cluster ranking ({@link CentroidScoring} then {@link ClusterTopK}, on the accel emulator) selects the
 * zones {@link ClusterScorer} selects, as sets, for an index of two batches per KV head with empty clusters.
 * CPU and GPU sum in different orders, so two scores within F32 rounding of each other may rank either way: a
 * cluster on which they disagree must score within {@link #NEAR_TIE} of a zone boundary.
 */
class GpuClusterRankingTest {
    private static final int D = 128;
    private static final int GROUP = 4;
    private static final int KV_HEADS = 2;
    private static final double NEAR_TIE = 1e-5;

    @Test
    void gpuZonesAreClusterScorerZones() {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("gpu zones: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        RetroConfig config = RetroConfig.defaults().withBudgets(0.05, 0.3);
        try (Arena arena = Arena.ofShared()) {
            WaveIndex index = new WaveIndex(KV_HEADS);
            for (int clusters : new int[] {150, 64}) {
                ClusterBatch[] perHead = new ClusterBatch[KV_HEADS];
                for (int h = 0; h < KV_HEADS; h++) {
                    perHead[h] = centroidsOnly(arena, clusters, random);
                }
                index.add(perHead, config);
            }
            int clusters = index.clusters();
            ZoneBudget budget = index.budget();
            float scale = (float) (1 / Math.sqrt(D));
            float[] q = new float[KV_HEADS * GROUP * D];
            for (int i = 0; i < q.length; i++) q[i] = (float) random.nextGaussian();

            ClusterScoringShape shape = new ClusterScoringShape(1, KV_HEADS, GROUP, clusters, 3, budget.retrieval(),
                    budget.estimation());
            F32Array queries = F32Array.of(arena, q);
            // the GPU cache keeps the centroids in the storage type, F16 here (the index's are F16 values held as F32)
            F16Array centroids = F16Array.allocate(arena, shape.centroidElements());
            F32Array sizes = F32Array.allocate(arena, shape.clusterElements());
            float[] centroid = new float[D];
            for (int h = 0; h < KV_HEADS; h++) {
                for (int c = 0; c < clusters; c++) {
                    int b = index.batchOf(c);
                    index.batch(h, b).centroid(c - index.base(b), centroid);
                    for (int i = 0; i < D; i++) centroids.set(shape.centroidOffset(h, c) + i, centroid[i]);
                    sizes.set(shape.clusterOffset(h, c), index.batch(h, b).sizes()[c - index.base(b)]);
                }
            }
            I32Array counts = I32Array.of(arena, clusters, clusters);
            I32Array budgets = I32Array.of(arena, budget.retrieval(), budget.estimation(), budget.retrieval(), budget.estimation());
            F32Array logits = F32Array.allocate(arena, shape.logitElements());
            F32Array partialMax = F32Array.allocate(arena, shape.partialElements());
            F32Array partialSum = F32Array.allocate(arena, shape.partialElements());
            F32Array headMax = F32Array.allocate(arena, shape.headElements());
            F32Array headSum = F32Array.allocate(arena, shape.headElements());
            F32Array scores = F32Array.allocate(arena, shape.clusterElements());
            I32Array retrieval = I32Array.allocate(arena, shape.retrievalElements());
            I32Array estimation = I32Array.allocate(arena, shape.estimationElements());
            I32Array zoneSizes = I32Array.allocate(arena, 2L * shape.rows());
            Emulator emulator = new Emulator();
            emulator.launch(CentroidScoring.class, "logitsHalf", shape.scoringGrid(), queries, centroids, counts, logits,
                    partialMax, partialSum, clusters, shape.splits(), scale, GROUP);
            ClusterTopK.launch(emulator, 1, shape, logits, partialMax, partialSum, counts, sizes, budgets, headMax, headSum, scores,
                    I32Array.allocate(arena, shape.selectionWorkElements()), retrieval, estimation, zoneSizes);

            for (int h = 0; h < KV_HEADS; h++) {
                ClusterScorer scorer = new ClusterScorer(GROUP, clusters);
                scorer.logits(index, h, q, h * GROUP * D, D, scale, 0, clusters);
                scorer.softmax();
                ClusterScorer.Selection cpu = scorer.select(index, h, budget);
                Set<Integer> gpuRetrieval = ids(retrieval, h, shape.maxRetrieval(), zoneSizes.get(2L * h));
                Set<Integer> gpuEstimation = ids(estimation, h, shape.maxEstimation(), zoneSizes.get(2L * h + 1));
                assertEquals(cpu.retrieval().length, gpuRetrieval.size(), "retrieval size of KV head " + h);
                assertEquals(cpu.estimation().length, gpuEstimation.size(), "estimation size of KV head " + h);
                Set<Integer> disagreed = new TreeSet<>(symmetricDifference(set(cpu.retrieval()), gpuRetrieval));
                disagreed.addAll(symmetricDifference(set(cpu.estimation()), gpuEstimation));
                int row = h;
                double[] boundaries = {
                        gpuRetrieval.stream().mapToDouble(c -> scores.get(shape.clusterOffset(row, c))).min().orElse(0),
                        gpuEstimation.stream().mapToDouble(c -> scores.get(shape.clusterOffset(row, c))).min().orElse(0)};
                for (int c : disagreed) {
                    double s = scores.get(shape.clusterOffset(h, c));
                    assertTrue(Arrays.stream(boundaries).anyMatch(b -> Math.abs(s - b) <= NEAR_TIE * b), "KV head " + h
                            + ": cluster " + c + " (GPU score " + s + ") is zoned differently by the CPU, away from the"
                            + " boundaries " + Arrays.toString(boundaries) + " (seed " + seed + ")");
                }
                System.out.printf("  KV head %d: %d + %d clusters of %d, %d near-tie disagreements%n", h, gpuRetrieval.size(),
                        gpuEstimation.size(), clusters, disagreed.size());
            }
        }
    }

    /**
     * A batch of {@code clusters} random centroids, F16 values as the index builder stores them, with no stored members;
     * a fifth of them are empty (size 0).
     */
    private static ClusterBatch centroidsOnly(Arena arena, int clusters, Random random) {
        MemorySegment data = arena.allocate(ClusterBatch.bytes(0, clusters, D), 64);
        int[] sizes = IntStream.range(0, clusters).map(c -> random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(30)).toArray();
        ClusterBatch batch = new ClusterBatch(data, 0, clusters, sizes, new int[clusters], D, DType.F16);
        float[] centroid = new float[D];
        for (int c = 0; c < clusters; c++) {
            for (int i = 0; i < D; i++) centroid[i] = Half.round(DType.F16, (float) random.nextGaussian());
            batch.setCentroid(c, centroid, 0);
        }
        return batch;
    }

    private static Set<Integer> ids(I32Array zone, int row, int stride, int size) {
        return IntStream.range(0, size).mapToObj(i -> zone.get((long) row * stride + i)).collect(Collectors.toSet());
    }

    private static Set<Integer> set(int[] ids) {
        return Arrays.stream(ids).boxed().collect(Collectors.toSet());
    }

    private static Set<Integer> symmetricDifference(Set<Integer> a, Set<Integer> b) {
        Set<Integer> out = new TreeSet<>(a);
        out.addAll(b);
        Set<Integer> both = new TreeSet<>(a);
        both.retainAll(b);
        out.removeAll(both);
        return out;
    }
}
