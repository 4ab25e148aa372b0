package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;

/**
 * {@link FlashPrefill} on the accel emulator (real barriers, shuffles and {@code mma} fragments) against a float64
 * softmax per row, on fresh random inputs: a prompt chunk of one sequence that fills a tile and part of another, the
 * first rows of a second sequence (lengths 1 to 5, shorter than a step of keys), and one row of a third, in slots out
 * of order. Cache slots past each sequence's filled length hold NaN, so a row reading past its length, or a value
 * staged past the tile's, turns its output to NaN; outputs are NaN until written.
 */
class FlashPrefillTest {
    /**
     * Allowed absolute error. The split queries and probabilities carry about 17 bits, and unit-Gaussian scores and
     * values give outputs of order 1: errors of a few 1e-6 (the emulator sums each {@code mma} exactly); a wrong mask,
     * rescale or fragment position errs by 1e-2 or more.
     */
    private static final double TOLERANCE = 5e-5;
    private static final float SCALE = (float) (1 / Math.sqrt(HEAD_DIM));
    private static final int KV_HEADS = 2;
    private static final int CAPACITY = 160;

    @ParameterizedTest(name = "group {0}")
    @ValueSource(ints = {1, 3, 4, 8})
    void everyRowAttendsExactlyToItsOwnSlotUpToItsOwnLength(int group) {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("flash prefill group " + group);
            int perTile = FlashPrefill.positionsPerTile(group);
            int[] filled = {5, 77, 40 + perTile + 7}; // slot 2's prompt chunk ends at the last filled position
            List<int[]> rows = new ArrayList<>(); // {slot, length}
            for (int p = 40; p < filled[2]; p++) rows.add(new int[] {2, p + 1});
            for (int p = 0; p < 5; p++) rows.add(new int[] {0, p + 1});
            rows.add(new int[] {1, 77});
            List<int[]> tiles = new ArrayList<>();
            tiles.add(new int[] {0, perTile});
            tiles.add(new int[] {perTile, 7});
            tiles.add(new int[] {perTile + 7, 5});
            tiles.add(new int[] {perTile + 12, 1});

            DecodeAttentionShape cache = new DecodeAttentionShape(filled.length, KV_HEADS, group, CAPACITY, 1);
            BF16Array k = BF16Array.allocate(arena, cache.kvElements());
            BF16Array v = BF16Array.allocate(arena, cache.kvElements());
            SplitKvDecodeTest.fillCache(cache, filled, k, random);
            SplitKvDecodeTest.fillCache(cache, filled, v, random);
            int n = rows.size(), heads = KV_HEADS * group;
            F32Array q = F32Array.allocate(arena, (long) n * heads * HEAD_DIM);
            for (long i = 0; i < q.length(); i++) q.set(i, (float) random.nextGaussian());
            I32Array slots = I32Array.of(arena, rows.stream().mapToInt(r -> r[0]).toArray());
            I32Array lengths = I32Array.of(arena, rows.stream().mapToInt(r -> r[1]).toArray());
            I32Array tileArray = I32Array.of(arena, tiles.stream().flatMapToInt(java.util.Arrays::stream).toArray());
            F32Array out = SplitKvDecodeTest.poisoned(arena, q.length());

            new Emulator().launch(FlashPrefill.class, "bf16", FlashPrefill.grid(tiles.size(), KV_HEADS), q, k, v, slots, lengths,
                    tileArray, out, tiles.size(), KV_HEADS, (long) CAPACITY, SCALE, group);

            double worst = 0;
            for (int r = 0; r < n; r++) {
                for (int head = 0; head < heads; head++) {
                    long at = ((long) r * heads + head) * HEAD_DIM;
                    double[] expected = new double[HEAD_DIM];
                    SplitKvDecodeTwin.attend(cache, q, at, k, v, null, rows.get(r)[0], head / group, 0, rows.get(r)[1], SCALE,
                            expected, 0);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        double error = Math.abs(out.get(at + d) - expected[d]);
                        int row = r, h = head, dim = d;
                        assertTrue(error <= TOLERANCE, () -> "row " + row + " head " + h + " dimension " + dim + ": expected "
                                + expected[dim] + ", got " + out.get(at + dim));
                        worst = Math.max(worst, error);
                    }
                }
            }
            System.out.printf("  worst error %.2e (tolerance %.0e)%n", worst, TOLERANCE);
        }
    }
}
