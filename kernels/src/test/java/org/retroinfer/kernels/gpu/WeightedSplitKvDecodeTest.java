package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.SCALE;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.TOLERANCE;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.fillCache;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.poisoned;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.random;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.worst;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * RetroInfer's additions to {@link SplitKvDecode} (retroinfer-spec.md §2.3-2.4) on the accel emulator:
 * per-key weights in the softmax denominator only, and a previous (out, lse) merged as one more split. Each
 * result is checked against the float64 twin and against the spec's formula evaluated directly in float64,
 * on fresh random inputs with NaN-poisoned outputs and NaN past every sequence's end (keys, values and
 * weights).
 */
class WeightedSplitKvDecodeTest {
    /** group size, splits, sequence lengths (none a multiple of the 32-token tile). */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 3, new int[] {97, 33}),
                Arguments.of(4, 5, new int[] {150, 61}),
                Arguments.of(4, 1, new int[] {70}),
                Arguments.of(8, 7, new int[] {5, 203}),
                Arguments.of(3, 2, new int[] {45}));
    }

    @ParameterizedTest(name = "group {0}, {1} splits, lengths {2}")
    @MethodSource("shapes")
    void weightsEnterTheDenominatorOnly(int group, int splits, int[] lengths) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("weighted bf16 group " + group + " splits " + splits + " lengths " + Arrays.toString(lengths));
            DecodeAttentionShape shape = new DecodeAttentionShape(lengths.length, 2, group, 256, splits);
            BF16Array k = BF16Array.allocate(arena, shape.kvElements());
            BF16Array v = BF16Array.allocate(arena, shape.kvElements());
            checkWeighted(arena, random, shape, lengths, k, v, "partialsWeighted");
        }
    }

    @Test
    void f16WeightsEnterTheDenominatorOnly() {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("weighted f16 group 4 splits 3");
            int[] lengths = {111, 40};
            DecodeAttentionShape shape = new DecodeAttentionShape(lengths.length, 2, 4, 128, 3);
            F16Array k = F16Array.allocate(arena, shape.kvElements());
            F16Array v = F16Array.allocate(arena, shape.kvElements());
            checkWeighted(arena, random, shape, lengths, k, v, "partialsWeighted");
        }
    }

    /**
     * Keys, values and weights chosen by id ({@code partialsWeightedIndexed}, the estimation zone read in place) give
     * bit for bit what the weighted kernel gives over the same rows gathered into a contiguous buffer first. The rows
     * are drawn with repeats, the unchosen ones are NaN (a row read that should not be poisons the output), and the
     * counts leave splits empty.
     */
    @ParameterizedTest(name = "group {0}, {1} splits")
    @CsvSource({"4, 3", "8, 2", "1, 5"})
    void keysChosenByIdGiveWhatGatheringThemFirstGives(int group, int splits) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("indexed group " + group + " splits " + splits);
            int rows = 300, idsStride = 96;
            int[] counts = {96, 37, 1};
            int pairs = counts.length;
            BF16Array k = BF16Array.allocate(arena, (long) pairs * rows * HEAD_DIM);
            BF16Array v = BF16Array.allocate(arena, (long) pairs * rows * HEAD_DIM);
            F32Array w = F32Array.allocate(arena, (long) pairs * rows);
            for (long i = 0; i < k.length(); i++) {
                k.set(i, Float.NaN);
                v.set(i, Float.NaN);
            }
            for (long i = 0; i < w.length(); i++) {
                w.set(i, Float.NaN);
            }
            DecodeAttentionShape gathered = new DecodeAttentionShape(pairs, 1, group, idsStride, splits);
            BF16Array gk = BF16Array.allocate(arena, gathered.kvElements());
            BF16Array gv = BF16Array.allocate(arena, gathered.kvElements());
            F32Array gw = F32Array.allocate(arena, gathered.weightElements());
            I32Array ids = I32Array.allocate(arena, (long) pairs * idsStride);
            for (int p = 0; p < pairs; p++) {
                for (int t = 0; t < counts[p]; t++) {
                    int row = random.nextInt(rows);
                    ids.set((long) p * idsStride + t, row);
                    long from = ((long) p * rows + row) * HEAD_DIM, to = gathered.kvOffset(p, 0, t);
                    if (Float.isNaN(w.get((long) p * rows + row))) { // a row drawn again keeps its weight
                        w.set((long) p * rows + row, 2 + random.nextInt(63));
                    }
                    gw.set(gathered.weightOffset(p, 0, t), w.get((long) p * rows + row));
                    for (int d = 0; d < HEAD_DIM; d++) {
                        if (Float.isNaN(k.get(from + d))) {
                            k.set(from + d, (float) random.nextGaussian());
                            v.set(from + d, (float) random.nextGaussian());
                        }
                        gk.set(to + d, k.get(from + d));
                        gv.set(to + d, v.get(from + d));
                    }
                }
            }
            F32Array q = gaussian(arena, gathered.queryElements(), random);
            Emulator emulator = new Emulator();
            F32Array[] expected = launchPartials(emulator, arena, gathered, q, gk, gv, gw, counts, "partialsWeighted");
            F32Array out = poisoned(arena, gathered.partialRows() * HEAD_DIM);
            F32Array lse = poisoned(arena, gathered.partialRows());
            emulator.launch(SplitKvDecode.class, "partialsWeightedIndexed", gathered.partialsGrid(), q, k, v, w, ids, idsStride,
                    I32Array.of(arena, counts), out, lse, 1, (long) rows, splits, SCALE, group);
            for (long i = 0; i < out.length(); i++) {
                assertEquals(Float.floatToIntBits(expected[0].get(i)), Float.floatToIntBits(out.get(i)), "partial out " + i);
            }
            for (long i = 0; i < lse.length(); i++) {
                assertEquals(Float.floatToIntBits(expected[1].get(i)), Float.floatToIntBits(lse.get(i)), "partial lse " + i);
            }
            assertTrue(Float.isFinite(out.get(0)), "the first pair's first split attends something");
        }
    }

    /**
     * INT8 values chosen by id ({@code partialsWeightedIndexedInt8}, the estimation zone over INT8 value sums) give bit
     * for bit what the 16-bit kernel gives over the same values: each row's scale is a power of two, so level × scale is
     * exactly a BF16 too. Unchosen rows have a NaN scale, so a row read that should not be poisons the output.
     */
    @ParameterizedTest(name = "group {0}, {1} splits")
    @CsvSource({"4, 3", "8, 2", "1, 5"})
    void int8ValuesGiveWhatTheirExact16BitValuesGive(int group, int splits) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("int8 values group " + group + " splits " + splits);
            int rows = 300, idsStride = 96;
            int[] counts = {96, 37, 1};
            int pairs = counts.length;
            ChosenRows chosen = ChosenRows.draw(arena, random, counts, rows, idsStride);
            BF16Array k = chosen.k(), v = chosen.v();
            I32Array levels = chosen.levels(), scales = chosen.scales(), ids = chosen.ids();
            F32Array w = chosen.w();
            DecodeAttentionShape shape = new DecodeAttentionShape(pairs, 1, group, idsStride, splits);
            F32Array q = gaussian(arena, shape.queryElements(), random);
            I32Array countArray = I32Array.of(arena, counts);
            Emulator emulator = new Emulator();
            F32Array out16 = poisoned(arena, shape.partialRows() * HEAD_DIM), lse16 = poisoned(arena, shape.partialRows());
            emulator.launch(SplitKvDecode.class, "partialsWeightedIndexed", shape.partialsGrid(), q, k, v, w, ids, idsStride,
                    countArray, out16, lse16, 1, (long) rows, splits, SCALE, group);
            F32Array out8 = poisoned(arena, shape.partialRows() * HEAD_DIM), lse8 = poisoned(arena, shape.partialRows());
            emulator.launch(SplitKvDecode.class, "partialsWeightedIndexedInt8", shape.partialsGrid(), q, k, levels, scales, w,
                    ids, idsStride, countArray, out8, lse8, 1, (long) rows, splits, SCALE, group);
            for (long i = 0; i < out8.length(); i++) {
                assertEquals(Float.floatToIntBits(out16.get(i)), Float.floatToIntBits(out8.get(i)), "partial out " + i);
            }
            for (long i = 0; i < lse8.length(); i++) {
                assertEquals(Float.floatToIntBits(lse16.get(i)), Float.floatToIntBits(lse8.get(i)), "partial lse " + i);
            }
            assertTrue(Float.isFinite(out8.get(0)), "the first pair's first split attends something");
        }
    }

    /**
     * Scores given instead of keys ({@code partialsScoredIndexed} and its INT8 twin, the estimation zone reading the
     * logits cluster scoring wrote): what the kernels that score the keys themselves give, up to the order of the F32 dot
     * products. The keys the scored kernels are handed are all NaN, as are the scores of unchosen rows, so reading either
     * poisons the output; group 1 leaves three of a quad's four heads past the group.
     */
    @ParameterizedTest(name = "group {0}, {1} splits, int8 values {2}")
    @CsvSource({"4, 3, false", "8, 2, true", "1, 5, false", "4, 1, true"})
    void givenScoresGiveWhatScoringTheKeysGives(int group, int splits, boolean int8) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("scored group " + group + " splits " + splits + " int8 " + int8);
            int rows = 300, idsStride = 96;
            int[] counts = {96, 37, 1};
            int pairs = counts.length;
            ChosenRows chosen = ChosenRows.draw(arena, random, counts, rows, idsStride);
            BF16Array k = chosen.k(), v = chosen.v();
            I32Array levels = chosen.levels(), scales = chosen.scales(), ids = chosen.ids();
            F32Array w = chosen.w();
            BF16Array nanKeys = BF16Array.allocate(arena, k.length());
            for (long i = 0; i < k.length(); i++) {
                nanKeys.set(i, Float.NaN);
            }
            DecodeAttentionShape shape = new DecodeAttentionShape(pairs, 1, group, idsStride, splits);
            F32Array q = gaussian(arena, shape.queryElements(), random);
            // the chosen rows' scores, as cluster scoring writes them: [pair][head][row], NaN where no id names the row
            F32Array logits = F32Array.allocate(arena, (long) pairs * group * rows);
            logits.fill(Float.NaN);
            for (int p = 0; p < pairs; p++) {
                for (int t = 0; t < counts[p]; t++) {
                    long vector = (long) p * rows + ids.get((long) p * idsStride + t);
                    for (int h = 0; h < group; h++) {
                        double y = 0;
                        for (int d = 0; d < HEAD_DIM; d++) {
                            y += (double) q.get(((long) p * group + h) * HEAD_DIM + d) * k.get(vector * HEAD_DIM + d);
                        }
                        logits.set(((long) p * group + h) * rows + vector % rows, (float) (SCALE * y));
                    }
                }
            }
            I32Array countArray = I32Array.of(arena, counts);
            Emulator emulator = new Emulator();
            F32Array expectedOut = poisoned(arena, shape.partialRows() * HEAD_DIM), expectedLse = poisoned(arena, shape.partialRows());
            F32Array out = poisoned(arena, shape.partialRows() * HEAD_DIM), lse = poisoned(arena, shape.partialRows());
            if (int8) {
                emulator.launch(SplitKvDecode.class, "partialsWeightedIndexedInt8", shape.partialsGrid(), q, k, levels, scales, w,
                        ids, idsStride, countArray, expectedOut, expectedLse, 1, (long) rows, splits, SCALE, group);
                emulator.launch(SplitKvDecode.class, "partialsScoredIndexedInt8", shape.partialsGrid(), logits, nanKeys, levels,
                        scales, w, ids, idsStride, countArray, out, lse, 1, (long) rows, splits, group);
            } else {
                emulator.launch(SplitKvDecode.class, "partialsWeightedIndexed", shape.partialsGrid(), q, k, v, w, ids, idsStride,
                        countArray, expectedOut, expectedLse, 1, (long) rows, splits, SCALE, group);
                emulator.launch(SplitKvDecode.class, "partialsScoredIndexed", shape.partialsGrid(), logits, v, w, ids, idsStride,
                        countArray, out, lse, 1, (long) rows, splits, group);
            }
            for (long i = 0; i < out.length(); i++) {
                float want = expectedOut.get(i), got = out.get(i);
                assertEquals(Float.isNaN(want), Float.isNaN(got), "partial out " + i + ": " + got + " against " + want);
                if (!Float.isNaN(want)) {
                    assertEquals(want, got, TOLERANCE * Math.max(1, Math.abs(want)), "partial out " + i);
                }
            }
            for (long i = 0; i < lse.length(); i++) {
                float want = expectedLse.get(i), got = lse.get(i);
                assertEquals(want == Float.NEGATIVE_INFINITY, got == Float.NEGATIVE_INFINITY, "partial lse " + i);
                if (Float.isFinite(want)) {
                    assertEquals(want, got, TOLERANCE * Math.max(1, Math.abs(want)), "partial lse " + i);
                }
            }
            assertTrue(Float.isFinite(out.get(0)), "the first pair's first split attends something");
        }
    }

    /**
     * Offsets of the previous partial's lse from the exact attention's: ±100, where e^lse alone would overflow
     * or flush F32 (the merge must subtract the max first); near offsets, where dropping or doubling either
     * side errs by far more than the tolerance; and −∞ (nothing to add).
     */
    static Stream<Arguments> previousOffsets() {
        return Stream.of(Arguments.of(100.0, 4, 5), Arguments.of(-100.0, 4, 5), Arguments.of(1.5, 8, 3),
                Arguments.of(-0.5, 1, 1), Arguments.of(Double.NEGATIVE_INFINITY, 4, 2));
    }

    @ParameterizedTest(name = "previous lse = exact lse + {0}, group {1}, {2} splits")
    @MethodSource("previousOffsets")
    void previousPartialMergesAsOneMoreSplit(double offset, int group, int splits) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("previous partial offset " + offset + " group " + group + " splits " + splits);
            int[] lengths = {150, 37};
            DecodeAttentionShape shape = new DecodeAttentionShape(lengths.length, 2, group, 160, splits);
            F32Array q = gaussian(arena, shape.queryElements(), random);
            BF16Array k = BF16Array.allocate(arena, shape.kvElements());
            BF16Array v = BF16Array.allocate(arena, shape.kvElements());
            fillCache(shape, lengths, k, random);
            fillCache(shape, lengths, v, random);
            Sums exact = direct(shape, q, k, v, null, lengths);
            int heads = shape.batch() * shape.queryHeads();
            F32Array previousOut = gaussian(arena, shape.queryElements(), random);
            F32Array previousLse = F32Array.allocate(arena, heads);
            for (int head = 0; head < heads; head++) previousLse.set(head, (float) (exact.lse(head) + offset));

            Emulator emulator = new Emulator();
            F32Array[] partials = launchPartials(emulator, arena, shape, q, k, v, null, lengths, "partials");
            F32Array out = poisoned(arena, shape.queryElements());
            F32Array outLse = poisoned(arena, heads);
            emulator.launch(SplitKvMerge.class, "mergeWithPrevious", shape.mergeGrid(), partials[0], partials[1], previousOut,
                    previousLse, out, outLse, shape.splits(), shape.groupSize());

            SplitKvDecodeTwin.Output previous = new SplitKvDecodeTwin.Output(toDouble(previousOut), toDouble(previousLse));
            SplitKvDecodeTwin.Output twin = SplitKvDecodeTwin.merge(shape,
                    SplitKvDecodeTwin.partials(shape, q, k, v, I32Array.of(arena, lengths), SCALE), previous);
            Sums formula = exact.plus(Sums.of(previous));
            double error = Math.max(worst(out, formula.out(), "merged out"), worst(outLse, formula.lse(), "merged lse"));
            assertEquals(0, Math.max(maxDifference(twin.out(), formula.out()), maxDifference(twin.lse(), formula.lse())), 1e-9,
                    "the twin's merge with the previous partial differs from the formula");
            System.out.printf("  worst error against the formula: %.2e (tolerance %.0e)%n", error, TOLERANCE);
        }
    }

    /**
     * RetroInfer's call sequence (spec §2.4): the estimation zone's centroids, value sums and cluster sizes
     * through the weighted kernel give (out_E, lse_E); the exact zone's keys and values through the plain
     * kernel, merged with that previous partial, give §2.3's
     * {@code o = (Σ e^x V + Σ e^y VS) / (Σ e^x + Σ s·e^y)}.
     */
    @ParameterizedTest(name = "estimation clusters {0} and {1}")
    @CsvSource({"45, 9", "45, 0", "0, 0"})
    void estimationAndExactZonesCombineToTheSpecsOutput(int clustersOfFirst, int clustersOfSecond) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("estimation + exact zones " + clustersOfFirst + " " + clustersOfSecond);
            int[] exactLengths = {140, 70};
            int[] clusterCounts = {clustersOfFirst, clustersOfSecond};
            DecodeAttentionShape exactShape = new DecodeAttentionShape(2, 2, 4, 160, 4);
            DecodeAttentionShape estimationShape = new DecodeAttentionShape(2, 2, 4, 64, 2);
            F32Array q = gaussian(arena, exactShape.queryElements(), random);
            BF16Array k = BF16Array.allocate(arena, exactShape.kvElements());
            BF16Array v = BF16Array.allocate(arena, exactShape.kvElements());
            fillCache(exactShape, exactLengths, k, random);
            fillCache(exactShape, exactLengths, v, random);
            BF16Array centroids = BF16Array.allocate(arena, estimationShape.kvElements());
            BF16Array valueSums = BF16Array.allocate(arena, estimationShape.kvElements());
            fillCache(estimationShape, clusterCounts, centroids, random);
            fillCache(estimationShape, clusterCounts, valueSums, random);
            F32Array sizes = weights(arena, estimationShape, clusterCounts, random);

            Emulator emulator = new Emulator();
            int heads = exactShape.batch() * exactShape.queryHeads();
            F32Array[] estimation = launchPartials(emulator, arena, estimationShape, q, centroids, valueSums, sizes,
                    clusterCounts, "partialsWeighted");
            F32Array outE = poisoned(arena, exactShape.queryElements());
            F32Array lseE = poisoned(arena, heads);
            emulator.launch(SplitKvMerge.class, "merge", estimationShape.mergeGrid(), estimation[0], estimation[1], outE, lseE,
                    estimationShape.splits(), estimationShape.groupSize());
            // A sequence with no estimation clusters (a short prompt's, or estimation off) has lse −∞ and o = 0,
            // which then adds nothing to the exact zone's output.
            for (int head = 0; head < heads; head++) {
                if (clusterCounts[head / exactShape.queryHeads()] == 0) {
                    assertEquals(Float.NEGATIVE_INFINITY, lseE.get(head), "lse of head " + head + " with no clusters");
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertEquals(0f, outE.get((long) head * HEAD_DIM + d), "out of head " + head + " with no clusters");
                    }
                }
            }
            F32Array[] exact = launchPartials(emulator, arena, exactShape, q, k, v, null, exactLengths, "partials");
            F32Array out = poisoned(arena, exactShape.queryElements());
            F32Array outLse = poisoned(arena, heads);
            emulator.launch(SplitKvMerge.class, "mergeWithPrevious", exactShape.mergeGrid(), exact[0], exact[1], outE, lseE,
                    out, outLse, exactShape.splits(), exactShape.groupSize());

            Sums formula = direct(exactShape, q, k, v, null, exactLengths)
                    .plus(direct(estimationShape, q, centroids, valueSums, sizes, clusterCounts));
            double error = Math.max(worst(out, formula.out(), "attention out"), worst(outLse, formula.lse(), "attention lse"));
            System.out.printf("  worst error against the spec's formula: %.2e (tolerance %.0e)%n", error, TOLERANCE);
        }
    }

    private static void checkWeighted(Arena arena, Random random, DecodeAttentionShape shape, int[] lengths,
            HalfPrecisionArray k, HalfPrecisionArray v, String partialsKernel) {
        F32Array q = gaussian(arena, shape.queryElements(), random);
        fillCache(shape, lengths, k, random);
        fillCache(shape, lengths, v, random);
        F32Array w = weights(arena, shape, lengths, random);
        Emulator emulator = new Emulator();
        F32Array[] partials = launchPartials(emulator, arena, shape, q, k, v, w, lengths, partialsKernel);
        F32Array out = poisoned(arena, shape.queryElements());
        F32Array outLse = poisoned(arena, (long) shape.batch() * shape.queryHeads());
        emulator.launch(SplitKvMerge.class, "merge", shape.mergeGrid(), partials[0], partials[1], out, outLse,
                shape.splits(), shape.groupSize());

        SplitKvDecodeTwin.Partials twin = SplitKvDecodeTwin.weightedPartials(shape, q, k, v, w, I32Array.of(arena, lengths), SCALE);
        for (int row = 0; row < twin.lse().length; row++) {
            if (twin.lse()[row] == Double.NEGATIVE_INFINITY) {
                assertEquals(Float.NEGATIVE_INFINITY, partials[1].get(row), "lse of empty split row " + row);
            }
        }
        double partialError = Math.max(worst(partials[1], twin.lse(), "partial lse"), worst(partials[0], twin.out(), "partial out"));
        Sums formula = direct(shape, q, k, v, w, lengths);
        double outError = Math.max(worst(out, formula.out(), "merged out"), worst(outLse, formula.lse(), "merged lse"));
        SplitKvDecodeTwin.Output merged = SplitKvDecodeTwin.merge(shape, twin);
        assertEquals(0, Math.max(maxDifference(merged.out(), formula.out()), maxDifference(merged.lse(), formula.lse())), 1e-9,
                "the twin's weighted partials and merge differ from the formula");
        System.out.printf("  worst error: partials %.2e (twin), merged %.2e (formula), tolerance %.0e%n", partialError, outError,
                TOLERANCE);
    }

    /** Launches a partials kernel into NaN-poisoned arrays; returns {partialOut, partialLse}. */
    /**
     * Rows chosen by id, {@code counts[p]} of pair {@code p}'s {@code rows} drawn with repeats: random keys, values whose
     * INT8 levels times a power-of-two scale are exact BF16s (so the INT8 and 16-bit kernels read the same values), and
     * weights; an unchosen row's scale is NaN.
     */
    private record ChosenRows(BF16Array k, BF16Array v, I32Array levels, I32Array scales, F32Array w, I32Array ids) {
        static ChosenRows draw(Arena arena, Random random, int[] counts, int rows, int idsStride) {
            int pairs = counts.length;
            BF16Array k = BF16Array.allocate(arena, (long) pairs * rows * HEAD_DIM);
            BF16Array v = BF16Array.allocate(arena, (long) pairs * rows * HEAD_DIM);
            I32Array levels = I32Array.allocate(arena, (long) pairs * rows * Int8Vectors.INTS);
            I32Array scales = I32Array.allocate(arena, (long) pairs * rows);
            F32Array w = F32Array.allocate(arena, (long) pairs * rows);
            scales.fill(Float.floatToRawIntBits(Float.NaN));
            byte[] q8 = new byte[HEAD_DIM];
            I32Array ids = I32Array.allocate(arena, (long) pairs * idsStride);
            for (int p = 0; p < pairs; p++) {
                for (int t = 0; t < counts[p]; t++) {
                    int row = random.nextInt(rows);
                    long vector = (long) p * rows + row;
                    ids.set((long) p * idsStride + t, row);
                    w.set(vector, 2 + random.nextInt(63));
                    float scale = (float) Math.scalb(1.0, random.nextInt(9) - 6);
                    scales.set(vector, Float.floatToRawIntBits(scale));
                    for (int d = 0; d < HEAD_DIM; d++) {
                        q8[d] = (byte) (random.nextInt(2 * Int8Vectors.LEVELS + 1) - Int8Vectors.LEVELS);
                        k.set(vector * HEAD_DIM + d, (float) random.nextGaussian());
                        v.set(vector * HEAD_DIM + d, q8[d] * scale);
                    }
                    Int8Vectors.store(q8, levels, vector);
                }
            }
            return new ChosenRows(k, v, levels, scales, w, ids);
        }
    }

    private static F32Array[] launchPartials(Emulator emulator, Arena arena, DecodeAttentionShape shape, F32Array q,
            HalfPrecisionArray k, HalfPrecisionArray v, F32Array weights, int[] lengths, String kernel) {
        F32Array partialOut = poisoned(arena, shape.partialRows() * HEAD_DIM);
        F32Array partialLse = poisoned(arena, shape.partialRows());
        I32Array lengthArray = I32Array.of(arena, lengths);
        if (weights == null) {
            emulator.launch(SplitKvDecode.class, kernel, shape.partialsGrid(), q, k, v, lengthArray, partialOut, partialLse,
                    shape.kvHeads(), shape.capacity(), shape.splits(), SCALE, shape.groupSize());
        } else {
            emulator.launch(SplitKvDecode.class, kernel, shape.partialsGrid(), q, k, v, weights, lengthArray, partialOut,
                    partialLse, shape.kvHeads(), shape.capacity(), shape.splits(), SCALE, shape.groupSize());
        }
        return new F32Array[] {partialOut, partialLse};
    }

    /** Cluster sizes: whole numbers in [2, 64] in each sequence's first {@code length} slots, NaN in the rest. */
    private static F32Array weights(Arena arena, DecodeAttentionShape shape, int[] lengths, Random random) {
        F32Array w = F32Array.allocate(arena, shape.weightElements());
        for (int s = 0; s < shape.batch(); s++) {
            for (int h = 0; h < shape.kvHeads(); h++) {
                for (long t = 0; t < shape.capacity(); t++) {
                    w.set(shape.weightOffset(s, h, t), t < lengths[s] ? 2 + random.nextInt(63) : Float.NaN);
                }
            }
        }
        return w;
    }

    /**
     * Per (sequence, query head), in float64 straight from the formula: {@code max} of the scaled scores y,
     * {@code num = Σ e^(y−max)·v} and {@code den = Σ w·e^(y−max)} ({@code w} = 1 without weights), so that
     * {@code o = num / den} and {@code lse = max + log den}.
     */
    private static Sums direct(DecodeAttentionShape shape, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v,
            F32Array weights, int[] lengths) {
        int heads = shape.batch() * shape.queryHeads();
        Sums sums = new Sums(new double[heads], new double[heads * HEAD_DIM], new double[heads]);
        for (int s = 0; s < shape.batch(); s++) {
            for (int head = 0; head < shape.queryHeads(); head++) {
                int row = s * shape.queryHeads() + head;
                int kvHead = head / shape.groupSize();
                double[] y = new double[lengths[s]];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < lengths[s]; t++) {
                    for (int d = 0; d < HEAD_DIM; d++) {
                        y[t] += (double) q.get((long) row * HEAD_DIM + d) * k.get(shape.kvOffset(s, kvHead, t) + d);
                    }
                    y[t] *= SCALE;
                    max = Math.max(max, y[t]);
                }
                sums.max[row] = max;
                for (int t = 0; t < lengths[s]; t++) {
                    double e = Math.exp(y[t] - max);
                    sums.den[row] += (weights == null ? 1 : weights.get(shape.weightOffset(s, kvHead, t))) * e;
                    for (int d = 0; d < HEAD_DIM; d++) sums.num[row * HEAD_DIM + d] += e * v.get(shape.kvOffset(s, kvHead, t) + d);
                }
            }
        }
        return sums;
    }

    private record Sums(double[] max, double[] num, double[] den) {
        /** A partial given as (o, lse): max = lse, den = 1, num = o. */
        static Sums of(SplitKvDecodeTwin.Output partial) {
            double[] den = new double[partial.lse().length];
            Arrays.fill(den, 1);
            return new Sums(partial.lse().clone(), partial.out().clone(), den);
        }

        /** The sums over both token sets, on a common max. */
        Sums plus(Sums other) {
            Sums both = new Sums(new double[max.length], new double[num.length], new double[den.length]);
            for (int row = 0; row < max.length; row++) {
                double m = Math.max(max[row], other.max[row]);
                double a = max[row] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(max[row] - m);
                double b = other.max[row] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(other.max[row] - m);
                both.max[row] = m;
                both.den[row] = a * den[row] + b * other.den[row];
                for (int d = 0; d < HEAD_DIM; d++) {
                    both.num[row * HEAD_DIM + d] = a * num[row * HEAD_DIM + d] + b * other.num[row * HEAD_DIM + d];
                }
            }
            return both;
        }

        double lse(int row) {
            return max[row] + Math.log(den[row]);
        }

        double[] lse() {
            double[] lse = new double[max.length];
            for (int row = 0; row < lse.length; row++) lse[row] = lse(row);
            return lse;
        }

        double[] out() {
            double[] out = new double[num.length];
            for (int i = 0; i < out.length; i++) out[i] = num[i] / den[i / HEAD_DIM];
            return out;
        }
    }

    private static F32Array gaussian(Arena arena, long n, Random random) {
        F32Array a = F32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, (float) random.nextGaussian());
        return a;
    }

    private static double[] toDouble(F32Array a) {
        double[] d = new double[Math.toIntExact(a.length())];
        for (int i = 0; i < d.length; i++) d[i] = a.get(i);
        return d;
    }

    private static double maxDifference(double[] a, double[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            assertTrue(Double.isFinite(a[i]) == Double.isFinite(b[i]) && (Double.isFinite(a[i]) || a[i] == b[i]),
                    "element " + i + ": " + a[i] + " vs " + b[i]);
            if (Double.isFinite(a[i])) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
