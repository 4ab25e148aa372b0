package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The k-means kernels on the accel emulator against {@link KMeansTwin}, on fresh random inputs with poisoned
 * outputs: centring (mean within float error of float64, centred keys exact given that mean), assignment (the
 * float64 argmax wherever the runner-up is not within F32 rounding, exact ties to the lowest id, keys outside
 * the segments untouched), the counting sort (sizes, starts and members exactly the stable sort's, over several
 * tiles and several passes per tile), means (within float error, normalised or not, empty clusters unchanged)
 * and value sums.
 */
class KMeansKernelsTest {
    private static final int POISON = -7;

    @ParameterizedTest(name = "bf16 {0}")
    @ValueSource(booleans = {true, false})
    void centringSubtractsTheMeanKey(boolean bf16) {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("centring " + (bf16 ? "bf16" : "f16"));
            int tokens = 1501; // two chunks, the second partial and not a multiple of the four chains
            long base = 3L * 1600 * HEAD_DIM; // the fourth (slot, head) of a cache of capacity 1600
            long length = base + 1600L * HEAD_DIM;
            HalfPrecisionArray keys = bf16 ? BF16Array.allocate(arena, length) : F16Array.allocate(arena, length);
            for (long i = 0; i < length; i++) keys.set(i, i >= base && i < base + (long) tokens * HEAD_DIM
                    ? (float) (random.nextGaussian() + 0.5) : Float.NaN);
            KMeansShape shape = new KMeansShape(tokens, 8, 1, 1);
            F32Array partials = SplitKvDecodeTest.poisoned(arena, (long) shape.centreChunks() * HEAD_DIM);
            F32Array mean = SplitKvDecodeTest.poisoned(arena, HEAD_DIM);
            F32Array centred = SplitKvDecodeTest.poisoned(arena, shape.keyElements());
            Emulator emulator = new Emulator();
            emulator.launch(KMeansCentring.class, "keySums", shape.centreGrid(), keys, base, 0L, tokens, partials);
            emulator.launch(KMeansCentring.class, "centre", shape.centreGrid(), keys, base, 0L, tokens, partials,
                    shape.centreChunks(), mean, centred);
            for (int d = 0; d < HEAD_DIM; d++) {
                double expected = 0;
                for (int t = 0; t < tokens; t++) expected += keys.get(base + (long) t * HEAD_DIM + d);
                expected /= tokens;
                assertEquals(expected, mean.get(d), 1e-6, "mean of dimension " + d);
                for (int t = 0; t < tokens; t++) {
                    float key = keys.get(base + (long) t * HEAD_DIM + d);
                    assertEquals(key - mean.get(d), centred.get((long) t * HEAD_DIM + d), "key " + t + " dimension " + d);
                }
            }
        }
    }

    /** Two segments of 150 keys (two 128-key tiles, the second partial) against 70 centroids each, plus a tail. */
    @Test
    void segmentedAssignmentPicksTheLargestInnerProduct() {
        checkAssignment(2, 150, 70, 7, "segmented");
    }

    /** The global iteration: every key against every centroid (two 128-centroid tiles, the second partial). */
    @Test
    void globalAssignmentPicksTheLargestInnerProduct() {
        checkAssignment(1, 150, 140, 0, "global");
    }

    private static void checkAssignment(int segments, int perSegment, int cps, int tail, String name) {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("assignment " + name);
            int tokens = segments * perSegment + tail;
            F32Array keys = gaussian(arena, (long) tokens * HEAD_DIM, random);
            F32Array centroids = gaussian(arena, (long) segments * cps * HEAD_DIM, random);
            I32Array assignment = I32Array.allocate(arena, tokens);
            assignment.fill(POISON);
            new Emulator().launch(KMeansAssign.class, "nearest", KMeansShape.assignGrid(segments, perSegment), keys, centroids,
                    assignment, tokens, segments * cps, perSegment, cps);
            int nearTies = 0;
            for (int t = 0; t < tokens; t++) {
                if (t >= segments * perSegment) {
                    assertEquals(POISON, assignment.get(t), "key " + t + " is past the segments");
                    continue;
                }
                int first = t / perSegment * cps;
                KMeansTwin.Choice choice = KMeansTwin.nearest(keys::get, centroids::get, t, first, cps);
                if (choice.margin() <= 2 * KMeansTwin.dotTolerance(keys::get, centroids::get, t, choice.id())) {
                    nearTies++;
                    int got = assignment.get(t);
                    assertTrue(got >= first && got < first + cps, "key " + t + " got " + got);
                    assertEquals(choice.best(), KMeansTwin.nearest(keys::get, centroids::get, t, got, 1).best(),
                            2 * KMeansTwin.dotTolerance(keys::get, centroids::get, t, got), "key " + t);
                } else {
                    assertEquals(choice.id(), assignment.get(t), "key " + t);
                }
            }
            assertTrue(nearTies < tokens / 20, nearTies + " near-ties: the check compared too little");
        }
    }

    /**
     * Centroids drawn from five distinct vectors, so every key's best score is shared by several centroids, which
     * sit in different threads and tiles: the kernel must pick the lowest id, as the float64 scan does.
     */
    @Test
    void tiedCentroidsGoToTheLowestId() {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("assignment ties");
            int segments = 2, perSegment = 70, cps = 150;
            F32Array keys = gaussian(arena, (long) segments * perSegment * HEAD_DIM, random);
            F32Array distinct = gaussian(arena, 5L * HEAD_DIM, random);
            F32Array centroids = F32Array.allocate(arena, (long) segments * cps * HEAD_DIM);
            for (int c = 0; c < segments * cps; c++) {
                int from = c < 3 ? 4 : random.nextInt(5); // the lowest ids are not always the winners' copies
                for (int d = 0; d < HEAD_DIM; d++) centroids.set((long) c * HEAD_DIM + d, distinct.get((long) from * HEAD_DIM + d));
            }
            I32Array assignment = I32Array.allocate(arena, segments * perSegment);
            assignment.fill(POISON);
            new Emulator().launch(KMeansAssign.class, "nearest", KMeansShape.assignGrid(segments, perSegment), keys, centroids,
                    assignment, segments * perSegment, segments * cps, perSegment, cps);
            for (int t = 0; t < segments * perSegment; t++) {
                KMeansTwin.Choice choice = KMeansTwin.nearest(keys::get, centroids::get, t, t / perSegment * cps, cps);
                assertEquals(choice.id(), assignment.get(t), "key " + t);
            }
        }
    }

    /** tile tokens 512: six tiles of one pass (the offsets' unrolled loop and its tail); 1024: three tiles of two passes. */
    @ParameterizedTest(name = "tile of {0} keys")
    @ValueSource(ints = {512, 1024})
    void countingSortAndMeansMatchTheTwin(int tileTokens) {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("update, tiles of " + tileTokens);
            int tokens = 2900, sorted = 2850, clusters = 90;
            int[] hostAssignment = new int[tokens];
            for (int t = 0; t < tokens; t++) {
                // a few crowded clusters, many small ones, and every fifth cluster empty
                int c = random.nextInt(4) == 0 ? random.nextInt(3) : random.nextInt(clusters);
                hostAssignment[t] = c % 5 == 4 ? c - 1 : c;
            }
            I32Array assignment = I32Array.of(arena, hostAssignment);
            int tiles = (sorted + tileTokens - 1) / tileTokens;
            I32Array tileCounts = I32Array.allocate(arena, (long) tiles * clusters);
            tileCounts.fill(POISON);
            I32Array ranks = poisonedInts(arena, tokens);
            I32Array sizes = poisonedInts(arena, clusters);
            I32Array starts = poisonedInts(arena, clusters);
            I32Array members = poisonedInts(arena, tokens);
            Emulator emulator = new Emulator();
            emulator.launch(KMeansUpdate.class, "rank", Grid.of(tiles, KMeansShape.RANK_THREADS), assignment, tokens, sorted,
                    tileTokens, clusters, tileCounts, ranks);
            emulator.launch(KMeansUpdate.class, "tileOffsets", Grid.covering(clusters, 32), tileCounts, tokens, tileTokens, tiles,
                    clusters, sizes);
            emulator.launch(KMeansUpdate.class, "clusterStarts", Grid.of(1, KMeansShape.SCAN_THREADS), sizes, clusters, starts);
            emulator.launch(KMeansUpdate.class, "scatter", KMeansShape.tokenThreadsGrid(sorted), assignment, ranks, tileCounts,
                    starts, tokens, sorted, tileTokens, clusters, members);
            KMeansTwin.Runs runs = KMeansTwin.sort(hostAssignment, sorted, clusters);
            assertArrayEquals(runs.sizes(), sizes.toArray(), "sizes");
            assertArrayEquals(runs.starts(), starts.toArray(), "starts");
            int[] gotMembers = members.toArray();
            for (int m = 0; m < tokens; m++) {
                assertEquals(m < sorted ? runs.members()[m] : POISON, gotMembers[m], "member " + m);
            }

            F32Array keys = gaussian(arena, (long) tokens * HEAD_DIM, random);
            for (boolean normalise : new boolean[] {true, false}) {
                F32Array centroids = gaussian(arena, (long) clusters * HEAD_DIM, random);
                F32Array previous = F32Array.allocate(arena, centroids.length());
                for (long i = 0; i < centroids.length(); i++) previous.set(i, centroids.get(i));
                emulator.launch(KMeansUpdate.class, "means", Grid.of(clusters, HEAD_DIM), keys, members, starts, sizes, centroids,
                        tokens, clusters, normalise ? 1 : 0);
                double[] expected = KMeansTwin.means(keys::get, runs, previous::get, normalise);
                for (int i = 0; i < expected.length; i++) {
                    int c = i / HEAD_DIM;
                    if (runs.sizes()[c] == 0) {
                        assertEquals(previous.get(i), centroids.get(i), "empty cluster " + c + " keeps its centroid");
                    } else {
                        assertEquals(expected[i], centroids.get(i), 1e-6 * Math.max(1, Math.abs(expected[i])),
                                "cluster " + c + " normalised " + normalise);
                    }
                }
            }

            long base = (long) tokens * HEAD_DIM;
            for (boolean bf16 : new boolean[] {true, false}) {
                HalfPrecisionArray values = bf16 ? BF16Array.allocate(arena, 2L * tokens * HEAD_DIM)
                        : F16Array.allocate(arena, 2L * tokens * HEAD_DIM);
                for (long i = 0; i < values.length(); i++) values.set(i, i < base ? Float.NaN : (float) random.nextGaussian());
                F32Array valueSums = SplitKvDecodeTest.poisoned(arena, (long) clusters * HEAD_DIM);
                emulator.launch(KMeansUpdate.class, "valueSums", Grid.of(clusters, HEAD_DIM), values,
                        base, 0L, members, starts, sizes, valueSums, tokens, clusters);
                for (int c = 0; c < clusters; c++) {
                    double[] expected = KMeansTwin.sums(i -> values.get(base + i), runs, c);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertEquals(expected[d], valueSums.get((long) c * HEAD_DIM + d), 1e-5 * Math.max(1, runs.sizes()[c]),
                                (bf16 ? "BF16" : "F16") + " value sum of cluster " + c);
                    }
                }
            }
        }
    }

    @Test
    void shapeFollowsTheCpuRules() {
        assertEquals(1, KMeansShape.of(5, 16, 8, 10).segments(), "fewer keys than segments make one segment");
        KMeansShape llama = KMeansShape.of(131072, 8192, 16, 10);
        assertEquals(8192, llama.perSegment());
        assertEquals(512, llama.clustersPerSegment());
        assertEquals(512, llama.tileTokens(), "256 tiles of 512 keys");
        assertEquals(256L * 8192, llama.tileCountElements());
        assertEquals(4096, KMeansShape.of(1 << 20, 65536, 128, 10).tileTokens(), "long inputs take longer tiles, 256 of them");
        assertEquals(16 * 64, KMeansShape.assignGrid(16, 8192).blockCount(), "128 keys per block");
        int[] ids = KMeansShape.of(100, 8, 1, 1).initialTokens();
        assertArrayEquals(new int[] {6, 18, 31, 43, 56, 68, 81, 93}, ids, "⌊i·12.5 + 6.25⌋");
    }

    static F32Array gaussian(Arena arena, long n, Random random) {
        F32Array a = F32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, (float) random.nextGaussian());
        return a;
    }

    private static I32Array poisonedInts(Arena arena, long n) {
        I32Array a = I32Array.allocate(arena, n);
        a.fill(POISON);
        return a;
    }
}
