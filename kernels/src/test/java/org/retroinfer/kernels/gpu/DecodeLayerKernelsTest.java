package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.Rope;

/**
 * The decode layer's kernels on the accel emulator against {@link DecodeLayerTwin}, the CPU model's own code,
 * on fresh random inputs. Outputs are poisoned with NaN first, so a missed write shows. Sizes are odd on
 * purpose: rows that are not a multiple of the block (or shorter than it), batches of 1 and 5, head counts
 * that leave warps idle.
 */
class DecodeLayerKernelsTest {
    /**
     * Relative error allowed where the kernel and the twin round differently: the RMSNorm's sum of squares
     * in another order (a few 1e-7 of the row's norm) and SwiGLU's exponential (an ulp or two). A missed
     * piece of a row or a wrong weight errs by 1e-2 or more.
     */
    private static final double RELATIVE = 2e-6;
    private static final float EPS = 1e-5f;

    private final Emulator emulator = new Emulator();

    @ParameterizedTest(name = "batch {0}, width {1}")
    @CsvSource({"1, 40", "5, 4104", "2, 1032", "1, 8192"})
    void rowNormMatchesVectorMathRmsNorm(int batch, int width) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("row norm batch " + batch + " width " + width);
            DecodeLayerShape shape = new DecodeLayerShape(batch, width, 1, 1, 8);
            F32Array x = gaussian(arena, random, shape.hiddenElements(), 3);
            F32Array weight = gaussian(arena, random, width, 1);
            F32Array out = poisoned(arena, shape.hiddenElements());
            emulator.launch(RmsNorm.class, "rows", shape.normGrid(), x, weight, out, width, EPS);
            assertClose(DecodeLayerTwin.rmsNorm(x, weight, EPS, batch, width), out, "row norm");
        }
    }

    @Test
    void rowNormMayWriteItsInput() {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("row norm in place");
            DecodeLayerShape shape = new DecodeLayerShape(3, 520, 1, 1, 8);
            F32Array x = gaussian(arena, random, shape.hiddenElements(), 1);
            F32Array weight = gaussian(arena, random, shape.hidden(), 1);
            float[] expected = DecodeLayerTwin.rmsNorm(x, weight, EPS, shape.batch(), shape.hidden());
            emulator.launch(RmsNorm.class, "rows", shape.normGrid(), x, weight, x, shape.hidden(), EPS);
            assertClose(expected, x, "row norm in place");
        }
    }

    /** Qwen3's q and k norms: one weight of 128 over every head row; 5 × 3 rows leave a warp of the last block idle. */
    @ParameterizedTest(name = "batch {0}, {1} heads")
    @CsvSource({"1, 1", "5, 3", "2, 32"})
    void headNormMatchesVectorMathRmsNormPerHead(int batch, int heads) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("head norm batch " + batch + " heads " + heads);
            DecodeLayerShape shape = new DecodeLayerShape(batch, 8, heads, heads, 8);
            int rows = batch * heads;
            F32Array x = gaussian(arena, random, shape.queryElements(), 2);
            F32Array weight = gaussian(arena, random, HEAD_DIM, 1);
            F32Array out = poisoned(arena, shape.queryElements());
            emulator.launch(RmsNorm.class, "heads", shape.headNormGrid(heads), x, weight, out, rows, EPS);
            assertClose(DecodeLayerTwin.rmsNorm(x, weight, EPS, rows, HEAD_DIM), out, "head norm");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Rope.Pairing.class)
    void ropeMatchesRopeRotateBitForBitAtEachSequencesPosition(Rope.Pairing pairing) {
        for (int batch : new int[] {1, 5}) {
            rope(pairing, new DecodeLayerShape(batch, 8, 6, 2, 8), null);
        }
    }

    /** A grid far smaller than the work: every thread takes several head rows, of q and of k. */
    @Test
    void ropeCoversEveryRowFromAnyGrid() {
        rope(Rope.Pairing.HALVES, new DecodeLayerShape(5, 8, 8, 2, 8), Grid.of(2, 64));
        rope(Rope.Pairing.ADJACENT, new DecodeLayerShape(5, 8, 8, 2, 8), Grid.of(1, 32));
    }

    private void rope(Rope.Pairing pairing, DecodeLayerShape shape, Grid grid) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("rope " + pairing + " " + shape);
            int positions = 4000;
            F32Array cos = F32Array.allocate(arena, (long) positions * RopeRotation.PAIRS);
            F32Array sin = F32Array.allocate(arena, (long) positions * RopeRotation.PAIRS);
            fillAngles(cos, sin, positions);
            int[] at = new int[shape.batch()];
            for (int s = 0; s < at.length; s++) at[s] = random.nextInt(positions);
            I32Array position = I32Array.of(arena, at);
            F32Array q = gaussian(arena, random, shape.queryElements(), 1);
            F32Array k = gaussian(arena, random, shape.kvElements(), 1);
            float[] expectedQ = DecodeLayerTwin.rope(q, shape.batch(), shape.queryHeads(), position, cos, sin, pairing);
            float[] expectedK = DecodeLayerTwin.rope(k, shape.batch(), shape.kvHeads(), position, cos, sin, pairing);
            String kernel = pairing == Rope.Pairing.HALVES ? "halves" : "adjacent";
            emulator.launch(RopeRotation.class, kernel, grid != null ? grid : shape.ropeGrid(), q, k, position, cos, sin,
                    shape.batch(), shape.queryHeads(), shape.kvHeads());
            assertArrayEquals(expectedQ, q.toArray(), "rotated queries");
            assertArrayEquals(expectedK, k.toArray(), "rotated keys");
        }
    }

    /** Llama 3's angles as RotaryEmbedding.angles computes them (θ = 500000, no scaling). */
    static void fillAngles(F32Array cos, F32Array sin, int positions) {
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < RopeRotation.PAIRS; i++) {
                float inverseFrequency = 1f / (float) Math.pow(500000, (float) (2 * i) / HEAD_DIM);
                float angle = (float) p * inverseFrequency;
                cos.set((long) p * RopeRotation.PAIRS + i, (float) Math.cos(angle));
                sin.set((long) p * RopeRotation.PAIRS + i, (float) Math.sin(angle));
            }
        }
    }

    @ParameterizedTest(name = "batch {0}, intermediate {1}")
    @CsvSource({"1, 1000", "5, 344"})
    void swigluMatchesVectorMathSwiglu(int batch, int intermediate) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("swiglu batch " + batch + " intermediate " + intermediate);
            DecodeLayerShape shape = new DecodeLayerShape(batch, 8, 1, 1, intermediate);
            long n = shape.intermediateElements();
            F32Array gate = gaussian(arena, random, n, 4);
            gate.set(0, -200f); // e^200 overflows to ∞: silu is −0 on both sides
            F32Array up = gaussian(arena, random, n, 2);
            float[] expected = DecodeLayerTwin.swiglu(gate, up, n);
            emulator.launch(SwiGlu.class, "apply", shape.swigluGrid(), gate, up, n);
            assertClose(expected, gate, "swiglu");
        }
    }

    @Test
    void residualAddMatchesVectorMathExactly() {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("residual");
            DecodeLayerShape shape = new DecodeLayerShape(5, 1032, 1, 1, 8);
            F32Array x = gaussian(arena, random, shape.hiddenElements(), 10);
            F32Array y = gaussian(arena, random, shape.hiddenElements(), 1);
            float[] expected = DecodeLayerTwin.residual(x, y, shape.hiddenElements());
            emulator.launch(ResidualAdd.class, "add", Grid.of(3, 64), x, y, shape.hiddenElements());
            assertArrayEquals(expected, x.toArray());
        }
    }

    @ParameterizedTest(name = "batch {0}, width {1}")
    @CsvSource({"1, 40", "5, 4104", "3, 1032"})
    void rowNormAfterResidualIsTheAddThenTheNorm(int batch, int width) {
        try (Arena arena = Arena.ofShared()) {
            Random random = random("row norm after residual batch " + batch + " width " + width);
            DecodeLayerShape shape = new DecodeLayerShape(batch, width, 1, 1, 8);
            F32Array x = gaussian(arena, random, shape.hiddenElements(), 10);
            F32Array y = gaussian(arena, random, shape.hiddenElements(), 1);
            F32Array weight = gaussian(arena, random, width, 1);
            F32Array out = poisoned(arena, shape.hiddenElements());
            float[] sum = DecodeLayerTwin.residual(x, y, shape.hiddenElements());
            float[] expected = DecodeLayerTwin.rmsNorm(F32Array.of(arena, sum), weight, EPS, batch, width);
            emulator.launch(RmsNorm.class, "rowsAfterResidual", shape.normGrid(), x, y, weight, out, width, EPS);
            assertArrayEquals(sum, x.toArray());
            assertClose(expected, out, "row norm after residual");
        }
    }

    @Test
    void kvAppendWritesEachRowIntoItsSlotAndPositionAndNothingElse() {
        try (Arena arena = Arena.ofShared()) {
            DecodeAttentionShape cache = new DecodeAttentionShape(5, 3, 1, 37, 1);
            kvAppend(arena, cache, BF16Array.allocate(arena, cache.kvElements()), BF16Array.allocate(arena, cache.kvElements()),
                    BF16Array.allocate(arena, cache.kvElements()), BF16Array.allocate(arena, cache.kvElements()), "into");
            kvAppend(arena, cache, F16Array.allocate(arena, cache.kvElements()), F16Array.allocate(arena, cache.kvElements()),
                    F16Array.allocate(arena, cache.kvElements()), F16Array.allocate(arena, cache.kvElements()), "into");
        }
    }

    /**
     * Seven rows into five slots: slot 0 twice and slot 4 three times at consecutive positions (prefill chunks),
     * slot 1 once at the last position, slot 2 never.
     */
    private void kvAppend(Arena arena, DecodeAttentionShape cache, HalfPrecisionArray kCache, HalfPrecisionArray vCache,
            HalfPrecisionArray expectedK, HalfPrecisionArray expectedV, String kernel) {
        Random random = random("kv append " + kernel);
        int[] slotOf = {3, 0, 0, 4, 4, 4, 1};
        int first = random.nextInt((int) cache.capacity() - 3);
        int[] at = {random.nextInt((int) cache.capacity()), first, first + 1, first, first + 1, first + 2,
                (int) cache.capacity() - 1};
        DecodeLayerShape shape = new DecodeLayerShape(slotOf.length, 8, cache.kvHeads(), cache.kvHeads(), 8);
        I32Array slots = I32Array.of(arena, slotOf);
        I32Array positions = I32Array.of(arena, at);
        F32Array k = gaussian(arena, random, shape.kvElements(), 1);
        F32Array v = gaussian(arena, random, shape.kvElements(), 1);
        for (HalfPrecisionArray c : new HalfPrecisionArray[] {kCache, vCache, expectedK, expectedV}) {
            for (long i = 0; i < c.length(); i++) c.setBits(i, (short) 0x7FFF); // NaN in both formats
        }
        DecodeLayerTwin.kvAppend(k, expectedK, slots, positions, slotOf.length, cache);
        DecodeLayerTwin.kvAppend(v, expectedV, slots, positions, slotOf.length, cache);
        emulator.launch(KvAppend.class, kernel, shape.kvAppendGrid(), k, v, kCache, vCache, slots, positions, slotOf.length,
                cache.kvHeads(), cache.capacity());
        assertSameBits(expectedK, kCache, kernel + " keys");
        assertSameBits(expectedV, vCache, kernel + " values");
    }

    @Test
    void embeddingLookupReadsEachTokensRowAsWeightMatrixDoes() {
        try (Arena arena = Arena.ofShared()) {
            int vocab = 50, hidden = 72;
            long n = (long) vocab * hidden;
            embedding(arena, BF16Array.allocate(arena, n), hidden, "fromHalf");
            embedding(arena, F16Array.allocate(arena, n), hidden, "fromHalf");
            embedding(arena, F32Array.allocate(arena, n), hidden, "fromF32");
        }
    }

    private void embedding(Arena arena, TypedArray table, int hidden, String kernel) {
        Random random = random("embedding " + kernel);
        int vocab = (int) (table.length() / hidden);
        for (long i = 0; i < table.length(); i++) {
            float value = (float) random.nextGaussian();
            if (table instanceof HalfPrecisionArray h) h.set(i, value);
            else ((F32Array) table).set(i, value);
        }
        int[] tokens = {vocab - 1, 0, 17, 17, 3};
        DecodeLayerShape shape = new DecodeLayerShape(tokens.length, hidden, 1, 1, 8);
        I32Array tokenArray = I32Array.of(arena, tokens);
        F32Array out = poisoned(arena, shape.hiddenElements());
        emulator.launch(EmbeddingLookup.class, kernel, shape.embeddingGrid(), tokenArray, table, out, tokens.length, hidden);
        assertArrayEquals(DecodeLayerTwin.embedding(tokenArray, tokens.length, table, hidden), out.toArray(), kernel);
    }

    @Test
    void widthsThatAreNotWholeSixteenBytePiecesAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DecodeLayerShape(1, 4100, 32, 8, 14336));
        assertEquals("hidden must be a positive multiple of 8, got 4100", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DecodeLayerShape(1, 4096, 30, 8, 14336));
        assertEquals("queryHeads must be a positive multiple of kvHeads (8), got 30", e.getMessage());
    }

    private static void assertClose(float[] expected, F32Array actual, String what) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            float a = actual.get(i);
            double error = Math.abs(a - expected[i]) / Math.max(1, Math.abs(expected[i]));
            int at = i;
            assertTrue(error <= RELATIVE, () -> what + " element " + at + ": expected " + expected[at] + ", got " + a);
            worst = Math.max(worst, error);
        }
        System.out.printf("  %s: worst relative error %.2e (tolerance %.0e)%n", what, worst, RELATIVE);
    }

    private static void assertSameBits(HalfPrecisionArray expected, HalfPrecisionArray actual, String what) {
        for (long i = 0; i < expected.length(); i++) {
            long at = i;
            assertEquals(expected.getBits(i), actual.getBits(i), () -> what + " element " + at);
        }
    }

    private static F32Array gaussian(Arena arena, Random random, long n, double sd) {
        F32Array a = F32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, (float) (sd * random.nextGaussian()));
        return a;
    }

    private static F32Array poisoned(Arena arena, long n) {
        F32Array a = F32Array.allocate(arena, n);
        a.fill(Float.NaN);
        return a;
    }

    private static Random random(String test) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println(test + ": seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        return new Random(seed);
    }
}
