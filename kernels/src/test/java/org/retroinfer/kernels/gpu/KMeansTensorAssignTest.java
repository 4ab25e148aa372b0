package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;

/**
 * {@link KMeansTensorAssign} on the accel emulator assigns every key as {@link KMeansAssign#nearest} does, bit for bit:
 * on random keys and centroids (most keys settled by one candidate), on centroids with exact ties (the lowest id,
 * through flagged keys' full scans), on centroids a rounding apart (several candidates a key), on keys that are NaN
 * or zero, segmented with a tail of keys left untouched, and with heads stacked.
 */
class KMeansTensorAssignTest {
    private static final int POISON = -7;

    @Test
    void randomKeysGetNearestsCentroidsMostlyFromOneCandidate() {
        Random random = SplitKvDecodeTest.random("tensor assignment, random");
        Case c = new Case(random, 2, 150, 70, 7, 1); // partial tiles of keys and of centroids, a tail past the segments
        int flagged = c.compare();
        assertTrue(flagged < c.sorted() / 20, flagged + " of " + c.sorted() + " keys flagged: the candidates did no work");
    }

    @Test
    void theGlobalIterationsShapeAssignsAsNearest() {
        Random random = SplitKvDecodeTest.random("tensor assignment, global");
        Case c = new Case(random, 1, 130, 140, 0, 1);
        c.compare();
    }

    /** Centroids copied from five vectors: every key's best score is shared, and the lowest id must win. */
    @Test
    void exactTiesGoToTheLowestId() {
        Random random = SplitKvDecodeTest.random("tensor assignment, ties");
        Case c = new Case(random, 2, 70, 150, 0, 1);
        float[] distinct = new float[5 * HEAD_DIM];
        for (int i = 0; i < distinct.length; i++) distinct[i] = (float) random.nextGaussian();
        for (int k = 0; k < c.centroidCount(); k++) {
            int from = k < 3 ? 4 : random.nextInt(5);
            for (int d = 0; d < HEAD_DIM; d++) c.centroids.set((long) k * HEAD_DIM + d, distinct[from * HEAD_DIM + d]);
        }
        int flagged = c.compare();
        assertTrue(flagged > 0, "no key went to the full scan, though every lane keeps copies of the same centroid");
    }

    /** Pairs of centroids a few float roundings apart: the tensor cores cannot tell them apart, the refinement can. */
    @Test
    void centroidsARoundingApartAreToldApartExactly() {
        Random random = SplitKvDecodeTest.random("tensor assignment, near ties");
        Case c = new Case(random, 1, 100, 64, 0, 1);
        for (int k = 1; k < c.centroidCount(); k += 2) {
            for (int d = 0; d < HEAD_DIM; d++) {
                float x = c.centroids.get((long) (k - 1) * HEAD_DIM + d);
                int ulps = random.nextInt(7) - 3;
                c.centroids.set((long) k * HEAD_DIM + d, Float.intBitsToFloat(Float.floatToRawIntBits(x) + ulps));
            }
        }
        c.compare();
    }

    @Test
    void nanAndZeroKeysAssignAsNearest() {
        Random random = SplitKvDecodeTest.random("tensor assignment, nan");
        Case c = new Case(random, 2, 40, 24, 3, 1);
        for (int d = 0; d < HEAD_DIM; d++) {
            c.keys.set(5L * HEAD_DIM + d, 0f);
            c.keys.set(50L * HEAD_DIM + d, d == 3 ? Float.NaN : 1f);
        }
        c.compare();
    }

    @Test
    void stackedHeadsAssignAsNearest() {
        Random random = SplitKvDecodeTest.random("tensor assignment, heads");
        Case c = new Case(random, 2, 90, 40, 5, 3);
        c.compare();
    }

    /**
     * The three-term products ({@link KMeansTensorAssign#pair} over the split rows) against float64 on random rows:
     * within 2⁻¹⁶·‖k‖·‖c‖ (they are near 2⁻²⁰ here; the proof of exactness needs ε/4 = 2⁻¹³), so a term dropped
     * from the sum (2⁻⁹ of a product, about 2⁻¹³ here) is noticed even where the assignments stay exact.
     */
    @Test
    void threeTermProductsAreAccurateToSixteenBits() {
        Random random = SplitKvDecodeTest.random("tensor assignment, products");
        try (Arena arena = Arena.ofShared()) {
            F32Array keys = F32Array.allocate(arena, 16L * HEAD_DIM), centroids = F32Array.allocate(arena, 8L * HEAD_DIM);
            for (long i = 0; i < keys.length(); i++) keys.set(i, (float) random.nextGaussian());
            for (long i = 0; i < centroids.length(); i++) centroids.set(i, (float) random.nextGaussian());
            I32Array keyHi = I32Array.allocate(arena, 16L * HEAD_DIM / 2), keyLo = I32Array.allocate(arena, 16L * HEAD_DIM / 2);
            I32Array centroidHi = I32Array.allocate(arena, 8L * HEAD_DIM / 2);
            I32Array centroidLo = I32Array.allocate(arena, 8L * HEAD_DIM / 2);
            F32Array norms = F32Array.allocate(arena, 16);
            F32Array scores = F32Array.allocate(arena, 16 * 8);
            Emulator emulator = new Emulator();
            emulator.launch(KMeansTensorAssign.class, "split", KMeansTensorAssign.splitGrid(16), keys, 16, keyHi, keyLo, norms);
            emulator.launch(KMeansTensorAssign.class, "split", KMeansTensorAssign.splitGrid(8), centroids, 8, centroidHi,
                    centroidLo, norms);
            emulator.launch(ProductTile.class, "scores", org.retroinfer.accel.kernel.Grid.of(1, 32), keyHi, keyLo, centroidHi,
                    centroidLo, scores);
            for (int k = 0; k < 16; k++) {
                for (int c = 0; c < 8; c++) {
                    double exact = 0, keyNorm = 0, centroidNorm = 0;
                    for (int d = 0; d < HEAD_DIM; d++) {
                        double x = keys.get((long) k * HEAD_DIM + d), y = centroids.get((long) c * HEAD_DIM + d);
                        exact += x * y;
                        keyNorm += x * x;
                        centroidNorm += y * y;
                    }
                    double bound = Math.scalb(Math.sqrt(keyNorm * centroidNorm), -16);
                    assertEquals(exact, scores.get(k * 8 + c), bound, "key " + k + " centroid " + c);
                }
            }
        }
    }

    /** One warp's 16 × 8 tile of approximate scores, its fragments loaded as {@link KMeansTensorAssign#candidates} loads. */
    static final class ProductTile {
        @org.retroinfer.accel.kernel.Kernel
        public static void scores(org.retroinfer.accel.kernel.KernelContext ctx, I32Array keyHi, I32Array keyLo,
                I32Array centroidHi, I32Array centroidLo, F32Array scores) {
            int g = ctx.laneId / 4, t = ctx.laneId % 4;
            long rowG = (long) g * 64 + 4 * t, rowG8 = (long) (g + 8) * 64 + 4 * t, column = (long) g * 64 + 4 * t;
            org.retroinfer.accel.kernel.Float4 acc = new org.retroinfer.accel.kernel.Float4(0f, 0f, 0f, 0f);
            for (int p = 0; p < 4; p++) {
                acc = KMeansTensorAssign.pair(ctx, acc, keyHi.getInt4(rowG + 16 * p), keyHi.getInt4(rowG8 + 16 * p),
                        keyLo.getInt4(rowG + 16 * p), keyLo.getInt4(rowG8 + 16 * p), centroidHi.getInt4(column + 16 * p),
                        centroidLo.getInt4(column + 16 * p));
            }
            scores.set(g * 8 + 2 * t, acc.x());
            scores.set(g * 8 + 2 * t + 1, acc.y());
            scores.set((g + 8) * 8 + 2 * t, acc.z());
            scores.set((g + 8) * 8 + 2 * t + 1, acc.w());
        }
    }

    /** Keys and centroids of {@code heads} heads, each of {@code segments} segments, and the two assignments. */
    private static final class Case {
        final int segments, perSegment, cps, tail, heads;
        final Arena arena = Arena.ofAuto();
        final F32Array keys, centroids;

        /** Gaussian keys (offset by 0.2) and centroids drawn from {@code random}. */
        Case(Random random, int segments, int perSegment, int cps, int tail, int heads) {
            this.segments = segments;
            this.perSegment = perSegment;
            this.cps = cps;
            this.tail = tail;
            this.heads = heads;
            keys = F32Array.allocate(arena, (long) heads * tokens() * HEAD_DIM);
            centroids = F32Array.allocate(arena, (long) heads * centroidCount() * HEAD_DIM);
            for (long i = 0; i < keys.length(); i++) keys.set(i, (float) random.nextGaussian() + 0.2f);
            for (long i = 0; i < centroids.length(); i++) centroids.set(i, (float) random.nextGaussian());
        }

        int tokens() {
            return segments * perSegment + tail;
        }

        int sorted() {
            return segments * perSegment;
        }

        int centroidCount() {
            return segments * cps;
        }

        /** Runs both assignments and asserts them equal; returns how many keys were flagged. */
        int compare() {
            int tokens = tokens(), clusters = centroidCount();
            Emulator emulator = new Emulator();
            I32Array expected = poisoned(heads * tokens);
            emulator.launch(KMeansAssign.class, "nearest", KMeansShape.stacked(KMeansShape.assignGrid(segments, perSegment),
                    heads), keys, centroids, expected, tokens, clusters, perSegment, cps);

            I32Array keyHi = poisoned(heads * tokens * HEAD_DIM / 2), keyLo = poisoned(heads * tokens * HEAD_DIM / 2);
            I32Array centroidHi = poisoned(heads * clusters * HEAD_DIM / 2);
            I32Array centroidLo = poisoned(heads * clusters * HEAD_DIM / 2);
            F32Array keyNorms = F32Array.allocate(arena, (long) heads * tokens);
            F32Array centroidNorms = F32Array.allocate(arena, (long) heads * clusters);
            I32Array candidates = poisoned(heads * tokens * KMeansTensorAssign.CANDIDATES);
            I32Array flags = poisoned(heads * tokens);
            I32Array got = poisoned(heads * tokens);
            emulator.launch(KMeansTensorAssign.class, "split", KMeansShape.stacked(KMeansTensorAssign.splitGrid(tokens), heads),
                    keys, tokens, keyHi, keyLo, keyNorms);
            emulator.launch(KMeansTensorAssign.class, "split", KMeansShape.stacked(KMeansTensorAssign.splitGrid(clusters),
                    heads), centroids, clusters, centroidHi, centroidLo, centroidNorms);
            emulator.launch(KMeansTensorAssign.class, "candidates", KMeansShape.stacked(
                    KMeansTensorAssign.candidatesGrid(segments, perSegment), heads), keyHi, keyLo, keyNorms, centroidHi,
                    centroidLo, centroidNorms, candidates, flags, tokens, clusters, perSegment, cps);
            emulator.launch(KMeansTensorAssign.class, "refine", KMeansShape.stacked(KMeansTensorAssign.refineGrid(sorted()),
                    heads), keys, centroids, candidates, flags, got, tokens, clusters, sorted(), perSegment, cps);

            assertArrayEquals(expected.toArray(), got.toArray(), "the tensor cores' assignment against nearest's");
            int flagged = 0;
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < tokens; t++) {
                    long at = (long) h * tokens + t;
                    if (t >= sorted()) {
                        assertEquals(POISON, got.get(at), "head " + h + " key " + t + " is past the segments");
                    } else {
                        assertTrue(flags.get(at) == 0 || flags.get(at) == 1, "flag of key " + t);
                        flagged += flags.get(at);
                    }
                }
            }
            return flagged;
        }

        private I32Array poisoned(long n) {
            I32Array a = I32Array.allocate(arena, n);
            a.fill(POISON);
            return a;
        }
    }
}
