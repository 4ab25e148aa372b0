package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * {@link SplitKvDecode} on the accel emulator (real barriers and shuffles) against its float64 twin and a
 * direct float64 softmax, on fresh random inputs. Outputs are poisoned with NaN before the kernels write
 * them, and the cache slots past each sequence's length hold NaN, so a missed write or a read past the end
 * shows up as NaN.
 */
class SplitKvDecodeTest {
    /**
     * Allowed absolute error. Scores and values are O(1) (unit Gaussians, scale 1/√128), sequences are at
     * most a few hundred tokens, and the kernel sums in F32: its error is a few 1e-7 (measured ≤ 1e-6); a
     * wrong split boundary, rescale or merge weight errs by 1e-2 or more.
     */
    static final double TOLERANCE = 1e-5;
    static final float SCALE = (float) (1 / Math.sqrt(HEAD_DIM));

    /**
     * group size, splits, sequence lengths (none a multiple of the 32-token tile, one shorter than the splits;
     * 37 splits make the merge stride its lanes over more than 32 splits and end on a remainder of one).
     */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 3, new int[] {97, 33}),
                Arguments.of(4, 5, new int[] {150, 61}),
                Arguments.of(4, 1, new int[] {70}),
                Arguments.of(8, 4, new int[] {203}),
                Arguments.of(8, 7, new int[] {5, 45}),
                Arguments.of(3, 2, new int[] {45}),
                Arguments.of(4, 37, new int[] {250, 9}));
    }

    @ParameterizedTest(name = "group {0}, {1} splits, lengths {2}")
    @MethodSource("shapes")
    void bf16PartialsAndMergeMatchTheFloat64Twin(int group, int splits, int[] lengths) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("bf16 group " + group + " splits " + splits + " lengths " + Arrays.toString(lengths));
            DecodeAttentionShape shape = new DecodeAttentionShape(lengths.length, 2, group, 256, splits);
            BF16Array k = BF16Array.allocate(arena, shape.kvElements());
            BF16Array v = BF16Array.allocate(arena, shape.kvElements());
            runAndCheck(arena, random, shape, lengths, k, v, "partials");
        }
    }

    @Test
    void f16PartialsAndMergeMatchTheFloat64Twin() {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("f16 group 4 splits 3");
            int[] lengths = {111, 40};
            DecodeAttentionShape shape = new DecodeAttentionShape(lengths.length, 2, 4, 128, 3);
            F16Array k = F16Array.allocate(arena, shape.kvElements());
            F16Array v = F16Array.allocate(arena, shape.kvElements());
            runAndCheck(arena, random, shape, lengths, k, v, "partials");
        }
    }

    /**
     * Query rows naming their slot: a prefill chunk's three rows of slot 2 (lengths 98, 99, 100: each sees up to
     * its own position), a decode row of slot 0, and slot 1 read by nobody. Every slot past its longest reader
     * holds NaN, so a row reading a wrong slot or past its own length fails.
     */
    @ParameterizedTest(name = "{0} K/V, group {1}, {2} splits")
    @MethodSource("rowShapes")
    void rowsReadTheirOwnSlotUpToTheirOwnLength(String type, int group, int splits) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random(type + " rows group " + group + " splits " + splits);
            int[] slotOf = {2, 2, 2, 0};
            int[] lengths = {98, 99, 100, 41};
            int[] filled = {41, 0, 100};
            DecodeAttentionShape cache = new DecodeAttentionShape(filled.length, 2, group, 128, splits);
            DecodeAttentionShape rows = new DecodeAttentionShape(slotOf.length, 2, group, 128, splits);
            HalfPrecisionArray k = type.equals("bf16") ? BF16Array.allocate(arena, cache.kvElements())
                    : F16Array.allocate(arena, cache.kvElements());
            HalfPrecisionArray v = type.equals("bf16") ? BF16Array.allocate(arena, cache.kvElements())
                    : F16Array.allocate(arena, cache.kvElements());
            fillCache(cache, filled, k, random);
            fillCache(cache, filled, v, random);
            F32Array q = F32Array.allocate(arena, rows.queryElements());
            for (long i = 0; i < rows.queryElements(); i++) q.set(i, (float) random.nextGaussian());
            I32Array slots = I32Array.of(arena, slotOf);
            I32Array lengthArray = I32Array.of(arena, lengths);
            F32Array partialOut = poisoned(arena, rows.partialRows() * HEAD_DIM);
            F32Array partialLse = poisoned(arena, rows.partialRows());
            F32Array out = poisoned(arena, rows.queryElements());
            F32Array outLse = poisoned(arena, (long) rows.batch() * rows.queryHeads());

            Emulator emulator = new Emulator();
            emulator.launch(SplitKvDecode.class, "rows", rows.partialsGrid(), q, k, v, slots, lengthArray, partialOut, partialLse,
                    rows.kvHeads(), rows.capacity(), rows.splits(), SCALE, rows.groupSize());
            emulator.launch(SplitKvMerge.class, "merge", rows.mergeGrid(), partialOut, partialLse, out, outLse, rows.splits(),
                    rows.groupSize());

            SplitKvDecodeTwin.Output merged = SplitKvDecodeTwin.merge(rows,
                    SplitKvDecodeTwin.rowPartials(rows, q, k, v, slots, lengthArray, SCALE));
            worst(out, merged.out(), "merged out");
            worst(outLse, merged.lse(), "merged lse");
            for (int r = 0; r < slotOf.length; r++) {
                for (int head = 0; head < rows.queryHeads(); head++) {
                    long row = (long) r * rows.queryHeads() + head;
                    double[] direct = new double[HEAD_DIM];
                    SplitKvDecodeTwin.attend(cache, q, row * HEAD_DIM, k, v, null, slotOf[r], head / group, 0, lengths[r], SCALE,
                            direct, 0);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertEquals(direct[d], merged.out()[(int) (row * HEAD_DIM) + d], 1e-12, "twin against direct softmax");
                    }
                }
            }
        }
    }

    static Stream<Arguments> rowShapes() {
        return Stream.of(Arguments.of("bf16", 2, 3), Arguments.of("f16", 4, 1), Arguments.of("bf16", 8, 2));
    }

    @Test
    void groupsLargerThanEightAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DecodeAttentionShape(1, 1, 9, 64, 2));
        assertEquals("groupSize must be in [1, 8], got 9", e.getMessage());
    }

    @Test
    void splitsAreWholeTilesSoOnlyTheLastTileOfASequenceIsPartial() {
        assertEquals(32, SplitKvDecode.tokensPerSplit(150, 5));
        assertEquals(64, SplitKvDecode.tokensPerSplit(150, 4));
        assertEquals(32, SplitKvDecode.tokensPerSplit(5, 8));
        assertEquals(4096, SplitKvDecode.tokensPerSplit(131072, 32));
    }

    private static void runAndCheck(Arena arena, Random random, DecodeAttentionShape shape, int[] lengths,
            HalfPrecisionArray k, HalfPrecisionArray v, String partialsKernel) {
        F32Array q = F32Array.allocate(arena, shape.queryElements());
        for (long i = 0; i < shape.queryElements(); i++) q.set(i, (float) random.nextGaussian());
        fillCache(shape, lengths, k, random);
        fillCache(shape, lengths, v, random);
        I32Array lengthArray = I32Array.of(arena, lengths);
        F32Array partialOut = poisoned(arena, shape.partialRows() * HEAD_DIM);
        F32Array partialLse = poisoned(arena, shape.partialRows());
        F32Array out = poisoned(arena, shape.queryElements());
        F32Array outLse = poisoned(arena, (long) shape.batch() * shape.queryHeads());

        Emulator emulator = new Emulator();
        emulator.launch(SplitKvDecode.class, partialsKernel, shape.partialsGrid(), q, k, v, lengthArray, partialOut, partialLse,
                shape.kvHeads(), shape.capacity(), shape.splits(), SCALE, shape.groupSize());
        emulator.launch(SplitKvMerge.class, "merge", shape.mergeGrid(), partialOut, partialLse, out, outLse,
                shape.splits(), shape.groupSize());

        SplitKvDecodeTwin.Partials twin = SplitKvDecodeTwin.partials(shape, q, k, v, lengthArray, SCALE);
        for (int row = 0; row < twin.lse().length; row++) {
            if (twin.lse()[row] == Double.NEGATIVE_INFINITY) {
                assertEquals(Float.NEGATIVE_INFINITY, partialLse.get(row), "lse of empty split row " + row);
            }
        }
        double partialError = Math.max(worst(partialLse, twin.lse(), "partial lse"),
                worst(partialOut, twin.out(), "partial out"));
        SplitKvDecodeTwin.Output merged = SplitKvDecodeTwin.merge(shape, twin);
        double outError = Math.max(worst(out, merged.out(), "merged out"), worst(outLse, merged.lse(), "merged lse"));
        double[] direct = direct(shape, q, k, v, lengths);
        for (int i = 0; i < direct.length; i++) {
            int at = i;
            assertEquals(direct[i], merged.out()[i], 1e-12, () -> "the twin's merge differs from direct softmax at " + at);
        }
        System.out.printf("  worst error: partials %.2e, merged %.2e (tolerance %.0e)%n", partialError, outError, TOLERANCE);
    }

    /** Random values in each sequence's first {@code length} slots, NaN in the rest. */
    static void fillCache(DecodeAttentionShape shape, int[] lengths, HalfPrecisionArray cache, Random random) {
        for (int s = 0; s < shape.batch(); s++) {
            for (int h = 0; h < shape.kvHeads(); h++) {
                for (long t = 0; t < shape.capacity(); t++) {
                    long at = shape.kvOffset(s, h, t);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        cache.set(at + d, t < lengths[s] ? (float) random.nextGaussian() : Float.NaN);
                    }
                }
            }
        }
    }

    /** Attention of every query head over its sequence's whole length, without splits, in float64. */
    private static double[] direct(DecodeAttentionShape shape, F32Array q, HalfPrecisionArray k, HalfPrecisionArray v, int[] lengths) {
        double[] out = new double[Math.toIntExact(shape.queryElements())];
        for (int s = 0; s < shape.batch(); s++) {
            for (int head = 0; head < shape.queryHeads(); head++) {
                long row = (long) s * shape.queryHeads() + head;
                SplitKvDecodeTwin.attend(shape, q, row * HEAD_DIM, k, v, null, s, head / shape.groupSize(), 0, lengths[s], SCALE,
                        out, row * HEAD_DIM);
            }
        }
        return out;
    }

    /** The largest error over finite expected values, after checking each is within {@link #TOLERANCE}. */
    static double worst(F32Array actual, double[] expected, String what) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            float a = actual.get(i);
            if (expected[i] == Double.NEGATIVE_INFINITY) {
                continue; // checked exactly by the caller
            }
            double error = Math.abs(a - expected[i]);
            int at = i;
            assertTrue(error <= TOLERANCE, () -> what + " element " + at + ": expected " + expected[at] + ", got " + a);
            worst = Math.max(worst, error);
        }
        return worst;
    }

    static F32Array poisoned(Arena arena, long n) {
        F32Array a = F32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, Float.NaN);
        return a;
    }

    static Random random(String test) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println(test + ": seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        return new Random(seed);
    }
}
