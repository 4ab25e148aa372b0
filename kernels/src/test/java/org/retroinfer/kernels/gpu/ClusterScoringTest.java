package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.function.LongToDoubleFunction;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * {@link CentroidScoring} then {@link ClusterTopK} on the accel emulator against {@link ClusterScoringTwin}, on
 * fresh random inputs: logits, split and head statistics and scores within float error of the float64 twin, and
 * zones equal as sets to the twin's selection from the kernel's own F32 scores (so the ranking rule, not float
 * rounding, is what is compared). The twin is checked against a direct float64 softmax over each whole row
 * and a direct rank count. Outputs are poisoned before the kernels write them, and centroids and sizes past
 * each row's count hold NaN, so a missed write, a stray write or a read past the count shows.
 */
class ClusterScoringTest {
    /**
     * Allowed error, absolute for O(1) values (y, scores ≤ group, a head's max) and relative for the sums of
     * exponentials. The kernels compute in F32 over at most a few hundred clusters: a few 1e-7; a wrong split
     * boundary or combine errs by 1e-2 or more.
     */
    private static final double TOLERANCE = 1e-5;
    private static final float SCALE = (float) (1 / Math.sqrt(HEAD_DIM));
    private static final int POISON_ID = -1;

    /**
     * group size, splits, capacity, clusters per row (rows of 0, 1 and 5 clusters, counts that are not multiples
     * of the 32-centroid tile or of the 1024-thread selection block, rows shorter than their splits, rows past two
     * selection blocks' worth, each thread taking several clusters a pass, rows over three chunks of the chunked
     * selection, whose blocks find the boundaries together, and a row past the rank keys the one-block selection keeps in
     * shared memory, whose last clusters' keys come from global memory, and which {@link ClusterTopK#launch} selects
     * chunked).
     */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 3, 96, new int[] {70, 1, 0, 33}),
                Arguments.of(4, 2, 544, new int[] {530, 5}),
                Arguments.of(4, 5, 160, new int[] {150, 61, 97, 2}),
                Arguments.of(8, 4, 128, new int[] {97, 40}),
                Arguments.of(3, 1, 64, new int[] {45}),
                Arguments.of(4, 3, 2240, new int[] {2230, 1700}),
                Arguments.of(2, 4, 2 * ChunkedClusterTopK.CHUNK + 300, new int[] {2 * ChunkedClusterTopK.CHUNK + 250, 3000}),
                Arguments.of(2, 4, ClusterTopK.SHARED_KEYS + 128, new int[] {ClusterTopK.SHARED_KEYS + 100, 9000}));
    }

    /**
     * The 16-bit kernels over each shape, the selection run three times on the same scores: in one block per row of
     * {@link ClusterScoringShape#SELECT_THREADS} (rows sharing SMs) and of {@link ClusterScoringShape#WIDE_SELECT_THREADS}
     * (every row an SM to itself), and chunked; the zones are the twin's each time.
     */
    @ParameterizedTest(name = "group {0}, {1} splits, counts {3}")
    @MethodSource("shapes")
    void bf16ScoresAndZonesMatchTheTwin(int group, int splits, int capacity, int[] counts) {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("bf16 group " + group + " splits " + splits + " counts " + Arrays.toString(counts));
            Case c = randomCase(arena, random, group, splits, capacity, counts);
            BF16Array centroids = BF16Array.allocate(arena, c.shape.centroidElements());
            fillCentroids(c.shape, c.counts, centroids, random);
            for (Selection selection : Selection.values()) {
                runAndCheck(arena, c, centroids, centroids::get, "logitsHalf", selection);
            }
        }
    }

    /**
     * The INT8 kernel over each shape against the twin reading the same levels times scales ({@link Int8Centroids}) and
     * the queries rounded as the kernel rounds them ({@link ClusterScoringTwin#int8Queries}): past each row's count the
     * levels are random and the scales NaN, so a centroid read past the count shows.
     */
    @ParameterizedTest(name = "group {0}, {1} splits, counts {3}")
    @MethodSource("shapes")
    void int8ScoresAndZonesMatchTheTwin(int group, int splits, int capacity, int[] counts) {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("int8 group " + group + " splits " + splits + " counts " + Arrays.toString(counts));
            Case c = randomCase(arena, random, group, splits, capacity, counts);
            ClusterScoringShape shape = c.shape;
            I32Array levels = I32Array.allocate(arena, (long) shape.rows() * capacity * Int8Centroids.INTS);
            I32Array scales = I32Array.allocate(arena, (long) shape.rows() * capacity);
            float[] centroid = new float[HEAD_DIM];
            for (int row = 0; row < shape.rows(); row++) {
                for (int cluster = 0; cluster < capacity; cluster++) {
                    long v = (long) row * capacity + cluster;
                    if (cluster < counts[row]) {
                        double magnitude = Math.pow(2, random.nextInt(5) - 2);
                        for (int i = 0; i < HEAD_DIM; i++) centroid[i] = (float) (random.nextGaussian() * magnitude);
                        Int8Centroids.store(centroid, 0, levels, scales, v);
                    } else {
                        for (int s = 0; s < HEAD_DIM / 8; s++) {
                            levels.set(Int8Centroids.word(v, s), random.nextInt());
                            levels.set(Int8Centroids.word(v, s) + 1, random.nextInt());
                        }
                        scales.set(v, Float.floatToRawIntBits(Float.NaN));
                    }
                }
            }
            LongToDoubleFunction value = e -> Int8Centroids.value(levels, scales, e / HEAD_DIM, (int) (e % HEAD_DIM));
            runAndCheck(arena, c, new TypedArray[] {levels, scales}, value, "logitsInt8", Selection.AS_LAUNCHED);
        }
    }

    @Test
    void f32ScoresAndZonesMatchTheTwin() {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("f32 group 4 splits 3");
            Case c = randomCase(arena, random, 4, 3, 128, new int[] {111, 40, 7});
            F32Array centroids = F32Array.allocate(arena, c.shape.centroidElements());
            fillCentroids(c.shape, c.counts, centroids, random);
            runAndCheck(arena, c, centroids, centroids::get, "logitsF32", Selection.AS_LAUNCHED);
        }
    }

    /**
     * Row 0: all centroids equal, so every score ties and the zones are the lowest non-empty ids. Row 1: 300
     * centroids drawn from five, so ties straddle both zone boundaries and the id passes run twice (ids past
     * 255). Both rows agree with the twin's lower-id rule.
     */
    @Test
    void tiedScoresGoToTheLowerClusterId() {
        try (Arena arena = Arena.ofShared()) {
            for (Selection selection : new Selection[] {Selection.ONE_BLOCK, Selection.CHUNKED}) {
                Outputs out = runTied(arena, new int[] {70, 300}, 320, 20, 60, new int[] {3, 20, 17, 60}, "ties", selection);
                assertArrayEquals(Arrays.copyOfRange(out.nonEmptyOfRow0, 0, 3), zone(out.retrieval, 0, 20, out.zoneSizes.get(0)));
                assertArrayEquals(Arrays.copyOfRange(out.nonEmptyOfRow0, 3, 23), zone(out.estimation, 0, 60, out.zoneSizes.get(1)));
            }
        }
    }

    /**
     * The same over three chunks of the chunked selection: row 0's estimation zone ends in its second chunk, row 1's five
     * scores tie across all three chunks at both boundaries, so each block ranks its ties after the earlier blocks'.
     */
    @Test
    void tiesAcrossSelectionBlocksGoToTheLowerClusterId() {
        try (Arena arena = Arena.ofShared()) {
            int capacity = 2 * ChunkedClusterTopK.CHUNK + 500;
            Outputs out = runTied(arena, new int[] {capacity - 96, capacity - 10}, capacity, 900, 2600,
                    new int[] {3, 2500, 900, 2600}, "ties across blocks", Selection.CHUNKED);
            assertArrayEquals(Arrays.copyOfRange(out.nonEmptyOfRow0, 0, 3), zone(out.retrieval, 0, 900, out.zoneSizes.get(0)));
            assertArrayEquals(Arrays.copyOfRange(out.nonEmptyOfRow0, 3, 2503), zone(out.estimation, 0, 2600, out.zoneSizes.get(1)));
        }
    }

    /** Row 0's centroids all equal, row 1's drawn from five; the run checked against the twin. */
    private static Outputs runTied(Arena arena, int[] counts, int capacity, int maxRetrieval, int maxEstimation, int[] budgets,
            String seed, Selection selection) {
        Random random = SplitKvDecodeTest.random(seed);
        ClusterScoringShape shape = new ClusterScoringShape(1, 2, 4, capacity, 3, maxRetrieval, maxEstimation);
        Case c = new Case(shape, counts, I32Array.of(arena, counts), sizes(arena, shape, counts, random),
                I32Array.of(arena, budgets), randomQueries(arena, shape, random));
        BF16Array centroids = BF16Array.allocate(arena, shape.centroidElements());
        float[][] distinct = new float[5][HEAD_DIM];
        for (float[] d : distinct) {
            for (int i = 0; i < HEAD_DIM; i++) d[i] = (float) random.nextGaussian();
        }
        for (int row = 0; row < 2; row++) {
            for (int cluster = 0; cluster < shape.capacity(); cluster++) {
                float[] from = distinct[row == 0 ? 0 : random.nextInt(distinct.length)];
                for (int i = 0; i < HEAD_DIM; i++) {
                    centroids.set(shape.centroidOffset(row, cluster) + i, cluster < counts[row] ? from[i] : Float.NaN);
                }
            }
        }
        Outputs out = runAndCheck(arena, c, centroids, centroids::get, "logitsHalf", selection);
        int[] nonEmpty = IntStream.range(0, counts[0]).filter(i -> c.sizes.get(i) > 0).toArray();
        return new Outputs(out.retrieval, out.estimation, out.zoneSizes, nonEmpty);
    }

    /**
     * Rows past the one-block selection's shared keys select chunked: a row of 65536 clusters (1M tokens) over 32 blocks,
     * where one block per row ran 0.29 ms a layer on an H200; rows of a 128K-token context in one block each.
     */
    @Test
    void longRowsSelectChunked() {
        ClusterScoringShape oneMillion = new ClusterScoringShape(1, 8, 4, 65536, 5, 1, 1);
        assertTrue(ClusterTopK.chunked(oneMillion));
        assertEquals(8 * 32, ChunkedClusterTopK.grid(oneMillion).blockCount());
        assertEquals(8 * ChunkedClusterTopK.rowWork(65536), oneMillion.selectionWorkElements());
        ClusterScoringShape longest = new ClusterScoringShape(11, 8, 4, ClusterTopK.SHARED_KEYS, 5, 1, 1);
        assertFalse(ClusterTopK.chunked(longest));
        assertEquals(1, longest.selectionWorkElements());
    }

    @Test
    void zonesAreCutToTheNonEmptyClusters() {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("few candidates");
            int[] counts = {40};
            ClusterScoringShape shape = new ClusterScoringShape(1, 1, 8, 64, 2, 8, 30);
            F32Array sizes = F32Array.allocate(arena, shape.clusterElements());
            for (int cluster = 0; cluster < shape.capacity(); cluster++) {
                sizes.set(cluster, cluster >= counts[0] ? Float.NaN : cluster % 3 == 0 ? 16 : 0);
            }
            Case c = new Case(shape, counts, I32Array.of(arena, counts), sizes, I32Array.of(arena, 8, 30),
                    randomQueries(arena, shape, random));
            F32Array centroids = F32Array.allocate(arena, shape.centroidElements());
            fillCentroids(shape, counts, centroids, random);
            Outputs out = runAndCheck(arena, c, centroids, centroids::get, "logitsF32", Selection.AS_LAUNCHED);
            assertEquals(8, out.zoneSizes.get(0), "retrieval: its budget");
            assertEquals(14 - 8, out.zoneSizes.get(1), "estimation: the 14 non-empty clusters less the retrieved");
        }
    }

    /**
     * A scoring block holds four query heads, so a group of 8 takes two per (row, split), and the split count
     * fills one wave of resident scoring blocks (924 = 132 SMs × the 7 blocks that 72 registers allow).
     */
    @Test
    void scoringTakesABlockPerRowSplitAndFourHeads() {
        assertEquals(32 * 5, new ClusterScoringShape(4, 8, 4, 64, 5, 1, 1).scoringGrid().blockCount());
        assertEquals(32 * 5 * 2, new ClusterScoringShape(4, 8, 8, 64, 5, 1, 1).scoringGrid().blockCount());
        assertEquals(28, ClusterScoringShape.splitsFor(32, 4, 8192, 924), "924 resident blocks / 32 rows");
        assertEquals(14, ClusterScoringShape.splitsFor(32, 8, 8192, 924), "two blocks per split");
        assertEquals(4, ClusterScoringShape.splitsFor(8, 4, 100, 924), "100 clusters are 4 tiles of 32");
        assertEquals(ClusterScoringShape.WIDE_SELECT_THREADS, new ClusterScoringShape(10, 8, 4, 64, 5, 1, 1).selectionGrid(132).threadsPerBlock(),
                "80 rows on 132 SMs");
        assertEquals(ClusterScoringShape.SELECT_THREADS, new ClusterScoringShape(20, 8, 4, 64, 5, 1, 1).selectionGrid(132).threadsPerBlock(),
                "160 rows on 132 SMs");
    }

    /** The inputs of one launch pair: shape, counts, sizes (NaN past the counts), budgets and queries. */
    private record Case(ClusterScoringShape shape, int[] counts, I32Array countArray, F32Array sizes, I32Array budgets,
            F32Array q) {}

    /** A run's zones; {@code nonEmptyOfRow0} the tie tests' expected order. */
    private record Outputs(I32Array retrieval, I32Array estimation, I32Array zoneSizes, int[] nonEmptyOfRow0) {}

    /** Budgets of about 10% and 40% of each row's clusters, but at most 7 retrieved (some rows are cut). */
    private static Case randomCase(Arena arena, Random random, int group, int splits, int capacity, int[] counts) {
        int[] budgets = new int[2 * counts.length];
        for (int row = 0; row < counts.length; row++) {
            budgets[2 * row] = Math.max(1, Math.round(counts[row] * 0.1f));
            budgets[2 * row + 1] = Math.round(counts[row] * 0.4f);
        }
        int maxRetrieval = Math.min(7, IntStream.range(0, counts.length).map(r -> budgets[2 * r]).max().orElseThrow());
        int maxEstimation = IntStream.range(0, counts.length).map(r -> budgets[2 * r + 1]).max().orElseThrow();
        int kvHeads = counts.length % 2 == 0 ? 2 : 1;
        ClusterScoringShape shape = new ClusterScoringShape(counts.length / kvHeads, kvHeads, group, capacity, splits,
                maxRetrieval, maxEstimation);
        return new Case(shape, counts, I32Array.of(arena, counts), sizes(arena, shape, counts, random),
                I32Array.of(arena, budgets), randomQueries(arena, shape, random));
    }

    /** Sizes 1 to 30, a fifth of them 0 (empty clusters), NaN past each row's count. */
    private static F32Array sizes(Arena arena, ClusterScoringShape shape, int[] counts, Random random) {
        F32Array sizes = F32Array.allocate(arena, shape.clusterElements());
        for (int row = 0; row < shape.rows(); row++) {
            for (int c = 0; c < shape.capacity(); c++) {
                float size = random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(30);
                sizes.set(shape.clusterOffset(row, c), c < counts[row] ? size : Float.NaN);
            }
        }
        return sizes;
    }

    private static F32Array randomQueries(Arena arena, ClusterScoringShape shape, Random random) {
        F32Array q = F32Array.allocate(arena, shape.queryElements());
        for (long i = 0; i < shape.queryElements(); i++) q.set(i, (float) random.nextGaussian());
        return q;
    }

    private static void fillCentroids(ClusterScoringShape shape, int[] counts, TypedArray centroids, Random random) {
        for (int row = 0; row < shape.rows(); row++) {
            for (int c = 0; c < shape.capacity(); c++) {
                for (int i = 0; i < HEAD_DIM; i++) {
                    float x = c < counts[row] ? (float) random.nextGaussian() : Float.NaN;
                    switch (centroids) {
                        case F32Array a -> a.set(shape.centroidOffset(row, c) + i, x);
                        case BF16Array a -> a.set(shape.centroidOffset(row, c) + i, x);
                        default -> throw new IllegalArgumentException(centroids.describe());
                    }
                }
            }
        }
    }

    /** How a test runs the selection: through {@link ClusterTopK#launch}, or one of its kernels directly. */
    private enum Selection {
        AS_LAUNCHED, ONE_BLOCK, ONE_WIDE_BLOCK, CHUNKED;

        void launch(Emulator emulator, ClusterScoringShape shape, F32Array logits, F32Array partialMax, F32Array partialSum,
                Case c, F32Array headMax, F32Array headSum, F32Array scores, I32Array work, I32Array retrieval,
                I32Array estimation, I32Array zoneSizes) {
            switch (this) {
                case AS_LAUNCHED -> ClusterTopK.launch(emulator, shape.rows(), shape, logits, partialMax, partialSum, c.countArray,
                        c.sizes, c.budgets, headMax, headSum, scores, work, retrieval, estimation, zoneSizes);
                case ONE_BLOCK, ONE_WIDE_BLOCK -> emulator.launch(ClusterTopK.class, "select",
                        shape.selectionGrid(this == ONE_BLOCK ? 1 : shape.rows()), logits, partialMax, partialSum, c.countArray,
                        c.sizes, c.budgets, headMax, headSum, scores, retrieval, estimation, zoneSizes, shape.capacity(),
                        shape.splits(), shape.maxRetrieval(), shape.maxEstimation(), shape.groupSize());
                case CHUNKED -> ChunkedClusterTopK.launch(emulator, shape, logits, partialMax, partialSum, c.countArray, c.sizes,
                        c.budgets, headMax, headSum, scores, work, retrieval, estimation, zoneSizes);
            }
        }
    }

    private static Outputs runAndCheck(Arena arena, Case c, TypedArray centroids, LongToDoubleFunction centroid,
            String scoringKernel, Selection selection) {
        return runAndCheck(arena, c, new TypedArray[] {centroids}, centroid, scoringKernel, selection);
    }

    /** {@link #runAndCheck} for a kernel that reads the centroids from {@code centroids} (levels and scales for INT8). */
    private static Outputs runAndCheck(Arena arena, Case c, TypedArray[] centroids, LongToDoubleFunction centroid,
            String scoringKernel, Selection selection) {
        ClusterScoringShape shape = c.shape;
        F32Array logits = SplitKvDecodeTest.poisoned(arena, shape.logitElements());
        F32Array partialMax = SplitKvDecodeTest.poisoned(arena, shape.partialElements());
        F32Array partialSum = SplitKvDecodeTest.poisoned(arena, shape.partialElements());
        F32Array headMax = SplitKvDecodeTest.poisoned(arena, shape.headElements());
        F32Array headSum = SplitKvDecodeTest.poisoned(arena, shape.headElements());
        F32Array scores = SplitKvDecodeTest.poisoned(arena, shape.clusterElements());
        I32Array retrieval = poisonedIds(arena, shape.retrievalElements());
        I32Array estimation = poisonedIds(arena, shape.estimationElements());
        I32Array zoneSizes = poisonedIds(arena, 2L * shape.rows());

        Emulator emulator = new Emulator();
        java.util.List<Object> scoringArgs = new java.util.ArrayList<>(java.util.List.of(c.q));
        scoringArgs.addAll(java.util.List.of(centroids));
        scoringArgs.addAll(java.util.List.of(c.countArray, logits, partialMax, partialSum, shape.capacity(), shape.splits(), SCALE,
                shape.groupSize()));
        emulator.launch(CentroidScoring.class, scoringKernel, shape.scoringGrid(), scoringArgs.toArray());
        // zeroed, as the selection needs it; the chunked kernels' even where the shape's selection is one block a row
        I32Array work = I32Array.allocate(arena, shape.rows() * ChunkedClusterTopK.rowWork(shape.capacity()));
        selection.launch(emulator, shape, logits, partialMax, partialSum, c, headMax, headSum, scores, work, retrieval, estimation,
                zoneSizes);

        // the INT8 kernel scores with its queries rounded to INT8 too: the twin reads them so
        boolean int8 = scoringKernel.equals("logitsInt8");
        ClusterScoringTwin.Scores twin = int8
                ? ClusterScoringTwin.score(shape, ClusterScoringTwin.int8Queries(shape, c.q, SCALE, arena), centroid, c.countArray, 1f)
                : ClusterScoringTwin.score(shape, c.q, centroid, c.countArray, SCALE);
        checkTwinAgainstDirectSoftmax(shape, c.counts, twin);
        double worst = 0;
        for (int row = 0; row < shape.rows(); row++) {
            for (int g = 0; g < shape.groupSize(); g++) {
                for (int cluster = 0; cluster < shape.capacity(); cluster++) {
                    int at = (int) shape.logitOffset(row, g, cluster);
                    if (cluster < c.counts[row]) {
                        worst = Math.max(worst, check(logits.get(at), twin.logits()[at], 1, "y at " + at));
                    } else {
                        assertTrue(Float.isNaN(logits.get(at)), "y written past the count at " + at);
                    }
                }
            }
            for (int cluster = 0; cluster < shape.capacity(); cluster++) {
                int at = (int) shape.clusterOffset(row, cluster);
                if (cluster < c.counts[row]) {
                    worst = Math.max(worst, check(scores.get(at), twin.scores()[at], 1, "score at " + at));
                } else {
                    assertTrue(Float.isNaN(scores.get(at)), "score written past the count at " + at);
                }
            }
        }
        for (int i = 0; i < twin.partialMax().length; i++) {
            worst = Math.max(worst, check(partialMax.get(i), twin.partialMax()[i], 1, "split max " + i));
            worst = Math.max(worst, check(partialSum.get(i), twin.partialSum()[i], twin.partialSum()[i], "split sum " + i));
        }
        for (int i = 0; i < twin.headMax().length; i++) {
            worst = Math.max(worst, check(headMax.get(i), twin.headMax()[i], 1, "head max " + i));
            worst = Math.max(worst, check(headSum.get(i), twin.headSum()[i], twin.headSum()[i], "head sum " + i));
        }

        ClusterScoringTwin.Zones zones = ClusterScoringTwin.select(shape, scores, c.sizes, c.countArray, c.budgets);
        checkTwinAgainstSortedRanks(shape, c, scores, zones);
        for (int row = 0; row < shape.rows(); row++) {
            assertEquals(zones.retrieval()[row].length, zoneSizes.get(2L * row), "retrieval size of row " + row);
            assertEquals(zones.estimation()[row].length, zoneSizes.get(2L * row + 1), "estimation size of row " + row);
            assertArrayEquals(zones.retrieval()[row], zone(retrieval, row, shape.maxRetrieval(), zones.retrieval()[row].length),
                    "retrieval zone of row " + row);
            assertArrayEquals(zones.estimation()[row], zone(estimation, row, shape.maxEstimation(), zones.estimation()[row].length),
                    "estimation zone of row " + row);
            for (int i = zones.retrieval()[row].length; i < shape.maxRetrieval(); i++) {
                assertEquals(POISON_ID, retrieval.get((long) row * shape.maxRetrieval() + i), "stray retrieval id of row " + row);
            }
            for (int i = zones.estimation()[row].length; i < shape.maxEstimation(); i++) {
                assertEquals(POISON_ID, estimation.get((long) row * shape.maxEstimation() + i), "stray estimation id of row " + row);
            }
        }
        System.out.printf("  worst error %.2e (tolerance %.0e); zones %s%n", worst, TOLERANCE,
                IntStream.range(0, shape.rows()).mapToObj(r -> zones.retrieval()[r].length + "+" + zones.estimation()[r].length).toList());

        // Again on the work area the first run left: the same zones (a CUDA graph replays the selection so)
        I32Array retrievalAgain = poisonedIds(arena, shape.retrievalElements());
        I32Array estimationAgain = poisonedIds(arena, shape.estimationElements());
        I32Array zoneSizesAgain = poisonedIds(arena, 2L * shape.rows());
        selection.launch(emulator, shape, logits, partialMax, partialSum, c, headMax, headSum, scores, work, retrievalAgain,
                estimationAgain, zoneSizesAgain);
        for (int row = 0; row < shape.rows(); row++) {
            int r = zoneSizes.get(2L * row), e = zoneSizes.get(2L * row + 1);
            assertEquals(r, zoneSizesAgain.get(2L * row), "second run's retrieval size of row " + row);
            assertEquals(e, zoneSizesAgain.get(2L * row + 1), "second run's estimation size of row " + row);
            assertArrayEquals(zone(retrieval, row, shape.maxRetrieval(), r), zone(retrievalAgain, row, shape.maxRetrieval(), r),
                    "second run's retrieval zone of row " + row);
            assertArrayEquals(zone(estimation, row, shape.maxEstimation(), e), zone(estimationAgain, row, shape.maxEstimation(), e),
                    "second run's estimation zone of row " + row);
        }
        return new Outputs(retrieval, estimation, zoneSizes, null);
    }

    /**
     * |actual − expected| / max(1, |scale|) ≤ TOLERANCE, exact for infinite expected values; returns that scaled
     * error.
     */
    private static double check(float actual, double expected, double scale, String what) {
        if (Double.isInfinite(expected)) {
            assertEquals(expected, actual, 0, what);
            return 0;
        }
        double error = Math.abs(actual - expected) / Math.max(1, Math.abs(scale));
        assertTrue(error <= TOLERANCE, () -> what + ": expected " + expected + ", got " + actual);
        return error;
    }

    /** A softmax over each head's whole row, without splits: max, sum and the group's summed scores. */
    private static void checkTwinAgainstDirectSoftmax(ClusterScoringShape shape, int[] counts, ClusterScoringTwin.Scores twin) {
        for (int row = 0; row < shape.rows(); row++) {
            double[] score = new double[counts[row]];
            for (int g = 0; g < shape.groupSize(); g++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < counts[row]; c++) max = Math.max(max, twin.logits()[(int) shape.logitOffset(row, g, c)]);
                double sum = 0;
                for (int c = 0; c < counts[row]; c++) sum += Math.exp(twin.logits()[(int) shape.logitOffset(row, g, c)] - max);
                assertEquals(max, twin.headMax()[row * shape.groupSize() + g], 0, "twin's head max");
                assertEquals(sum, twin.headSum()[row * shape.groupSize() + g], 1e-12 * sum, "twin's head sum");
                for (int c = 0; c < counts[row]; c++) score[c] += Math.exp(twin.logits()[(int) shape.logitOffset(row, g, c)] - max) / sum;
            }
            for (int c = 0; c < counts[row]; c++) {
                assertEquals(score[c], twin.scores()[(int) shape.clusterOffset(row, c)], 1e-12, "twin's score");
            }
        }
    }

    /**
     * Each candidate's rank taken directly from the candidates sorted by score, an equal one by the lower id: rank below
     * R is retrieval, below R + E estimation, with R and E as the CPU's ClusterScorer cuts them.
     */
    private static void checkTwinAgainstSortedRanks(ClusterScoringShape shape, Case c, F32Array scores,
            ClusterScoringTwin.Zones zones) {
        for (int row = 0; row < shape.rows(); row++) {
            int r0 = row;
            int[] candidates = IntStream.range(0, c.counts[row]).filter(i -> c.sizes.get(shape.clusterOffset(r0, i)) > 0).toArray();
            int r = Math.min(Math.min(c.budgets.get(2L * row), shape.maxRetrieval()), candidates.length);
            int e = Math.min(Math.min(c.budgets.get(2L * row + 1), shape.maxEstimation()), candidates.length - r);
            // rank = how many candidates score higher, or the same with a lower id: their order sorted that way
            Integer[] ranked = Arrays.stream(candidates).boxed().toArray(Integer[]::new);
            Arrays.sort(ranked, (i, j) -> {
                float si = scores.get(shape.clusterOffset(r0, i)), sj = scores.get(shape.clusterOffset(r0, j));
                return si > sj ? -1 : si < sj ? 1 : Integer.compare(i, j);
            });
            IntStream.Builder retrieved = IntStream.builder();
            IntStream.Builder estimated = IntStream.builder();
            for (int rank = 0; rank < r + e; rank++) {
                (rank < r ? retrieved : estimated).add(ranked[rank]);
            }
            assertArrayEquals(retrieved.build().sorted().toArray(), zones.retrieval()[row], "twin's retrieval zone of row " + row);
            assertArrayEquals(estimated.build().sorted().toArray(), zones.estimation()[row], "twin's estimation zone of row " + row);
        }
    }

    /** The first {@code size} ids of a row's zone, ascending. */
    private static int[] zone(I32Array ids, int row, int stride, int size) {
        int[] zone = new int[size];
        for (int i = 0; i < size; i++) zone[i] = ids.get((long) row * stride + i);
        Arrays.sort(zone);
        return zone;
    }

    private static I32Array poisonedIds(Arena arena, long n) {
        I32Array a = I32Array.allocate(arena, Math.max(1, n));
        a.fill(POISON_ID);
        return a;
    }
}
