package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;
import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The wave buffer's copy kernels on the emulator against their twin, on random stores and unit lists with
 * outputs poisoned first: every int of the outputs must equal the twin's, so a copy that lands one vector off,
 * misses a partial block's last vector or writes past a unit shows up, as does any write the twin does not make.
 */
class WaveBufferCopiesTest {
    private static final int POISON = 0xDEADBEEF;
    private static final int GROUPS = 3, STEADY_STRIDE = 40, LIST_STRIDE = 300, CACHE_BLOCKS = 12, MAX_UNITS = 10;
    private static final int EXEC_STRIDE = STEADY_STRIDE + CHUNK * MAX_UNITS;
    /** Steady lengths: not a multiple of the chunk, empty, exactly one chunk. */
    private static final int[] STEADY = {37, 0, 8};
    /** Misses and hits per group; the last group fills its units. */
    private static final int[] MISSES = {4, 0, 6}, HITS = {3, 5, 4};

    private final Random random = new Random(System.nanoTime());
    private final Arena arena = Arena.ofAuto();
    private final IntArrays ints = new IntArrays(arena, random);

    @Test
    void gatherPutsSteadyZoneMissesAndHitsInOrderAndCountsThem() {
        gathersLikeTheTwin(ExecutionBufferGather.grid(GROUPS));
    }

    @Test
    void aGatherOnFewerBlocksThanGroupsNeedDoesTheSameWork() {
        // 7 blocks for 48 blocks' work: each takes every 7th, across group boundaries
        gathersLikeTheTwin(ExecutionBufferGather.grid(GROUPS, 7));
    }

    private void gathersLikeTheTwin(org.retroinfer.accel.kernel.Grid grid) {
        Stores s = new Stores();
        I32Array execK = ints.filled(GROUPS * EXEC_STRIDE * INTS, POISON),
                execV = ints.filled(GROUPS * EXEC_STRIDE * INTS, POISON);
        I32Array twinK = ints.filled(GROUPS * EXEC_STRIDE * INTS, POISON),
                twinV = ints.filled(GROUPS * EXEC_STRIDE * INTS, POISON);
        I32Array valid = ints.filled(GROUPS, POISON), twinValid = ints.filled(GROUPS, POISON);
        new Emulator().launch(ExecutionBufferGather.class, "gather", grid, s.steadyK, s.steadyV,
                s.steadyLengths, STEADY_STRIDE, s.listK, s.listV, LIST_STRIDE, s.cacheK, s.cacheV, CACHE_BLOCKS, s.missStarts,
                s.missSizes, s.missOffsets, s.missCounts, s.hitBlocks, s.hitSizes, s.hitOffsets, s.hitCounts, MAX_UNITS, execK,
                execV, EXEC_STRIDE, valid, GROUPS);
        WaveBufferCopyTwin.gather(GROUPS, s.steadyK, s.steadyV, s.steadyLengths, STEADY_STRIDE, s.listK, s.listV, LIST_STRIDE,
                s.cacheK, s.cacheV, CACHE_BLOCKS, s.missStarts, s.missSizes, s.missOffsets, s.missCounts, s.hitBlocks,
                s.hitSizes, s.hitOffsets, s.hitCounts, MAX_UNITS, twinK, twinV, EXEC_STRIDE, twinValid);
        assertSame(twinK, execK, "K");
        assertSame(twinV, execV, "V");
        assertSame(twinValid, valid, "valid lengths");
        for (int g = 0; g < GROUPS; g++) {
            assertEquals(STEADY[g] + s.total(s.missSizes, g, MISSES[g]) + s.total(s.hitSizes, g, HITS[g]), valid.get(g),
                    "valid length of group " + g);
        }
        // group 0's first hit lands right after its misses, its first vector straight from the cache block
        long at = (0L * EXEC_STRIDE + STEADY[0] + s.total(s.missSizes, 0, MISSES[0])) * INTS;
        assertEquals(s.cacheK.get((long) s.hitBlocks.get(0) * CHUNK * INTS), execK.get(at), "group 0's first hit");
    }

    @Test
    void admissionCopiesMissBlocksFromTheBufferToTheirCacheBlocks() {
        Stores s = new Stores();
        I32Array execK = ints.random(GROUPS * EXEC_STRIDE * INTS), execV = ints.random(GROUPS * EXEC_STRIDE * INTS);
        int[] admitted = {3, 0, 6};
        I32Array sources = ints.filled(GROUPS * MAX_UNITS, 0), sizes = ints.filled(GROUPS * MAX_UNITS, 0);
        I32Array targets = ints.filled(GROUPS * MAX_UNITS, 0);
        for (int g = 0; g < GROUPS; g++) {
            List<Integer> blocks = ints.shuffled(CACHE_BLOCKS);
            for (int i = 0; i < admitted[g]; i++) { // the first misses, as the LRU admits them in rank order
                sources.set(g * MAX_UNITS + i, s.missOffsets.get(g * MAX_UNITS + i));
                sizes.set(g * MAX_UNITS + i, s.missSizes.get(g * MAX_UNITS + i));
                targets.set(g * MAX_UNITS + i, blocks.get(i));
            }
        }
        I32Array counts = I32Array.of(arena, admitted);
        long cacheInts = (long) GROUPS * CACHE_BLOCKS * CHUNK * INTS;
        I32Array cacheK = ints.filled(cacheInts, POISON), cacheV = ints.filled(cacheInts, POISON);
        I32Array twinK = ints.filled(cacheInts, POISON), twinV = ints.filled(cacheInts, POISON);
        new Emulator().launch(CacheAdmission.class, "admit", CacheAdmission.grid(GROUPS), execK, execV, EXEC_STRIDE,
                s.steadyLengths, sources, sizes, targets, counts, MAX_UNITS, cacheK, cacheV, CACHE_BLOCKS);
        WaveBufferCopyTwin.admit(GROUPS, execK, execV, EXEC_STRIDE, s.steadyLengths, sources, sizes, targets, counts,
                MAX_UNITS, twinK, twinV, CACHE_BLOCKS);
        assertSame(twinK, cacheK, "cache K");
        assertSame(twinV, cacheV, "cache V");
        // group 2's first admitted block: its first vector from the start of the miss region
        long target = ((2L * CACHE_BLOCKS + targets.get(2 * MAX_UNITS)) * CHUNK) * INTS;
        assertEquals(execV.get((2L * EXEC_STRIDE + STEADY[2] + sources.get(2 * MAX_UNITS)) * INTS), cacheV.get(target));
    }

    @Test
    void estimationGatherCopiesTheChosenClustersCentroidsValueSumsAndSizes() {
        // 7 clusters: part of a half-warp's first round; 300: all four rounds of a pass and a second, partial pass
        int clusterStride = 320, idsStride = 310, esStride = 305;
        int[] chosen = {7, 0, 300};
        I32Array centroids = ints.random(GROUPS * clusterStride * INTS),
                valueSums = ints.random(GROUPS * clusterStride * INTS);
        F32Array sizes = F32Array.allocate(arena, GROUPS * clusterStride);
        for (int i = 0; i < GROUPS * clusterStride; i++) sizes.set(i, 1 + random.nextInt(40));
        I32Array ids = ints.filled(GROUPS * idsStride, POISON);
        for (int g = 0; g < GROUPS; g++) {
            List<Integer> order = ints.shuffled(clusterStride);
            for (int i = 0; i < chosen[g]; i++) ids.set(g * idsStride + i, order.get(i));
        }
        I32Array counts = I32Array.of(arena, chosen);
        I32Array esC = ints.filled(GROUPS * esStride * INTS, POISON), esV = ints.filled(GROUPS * esStride * INTS, POISON);
        I32Array twinC = ints.filled(GROUPS * esStride * INTS, POISON),
                twinV = ints.filled(GROUPS * esStride * INTS, POISON);
        F32Array esSizes = F32Array.allocate(arena, GROUPS * esStride), twinSizes = F32Array.allocate(arena, GROUPS * esStride);
        for (int i = 0; i < GROUPS * esStride; i++) {
            esSizes.set(i, Float.NaN);
            twinSizes.set(i, Float.NaN);
        }
        new Emulator().launch(EstimationGather.class, "gather", EstimationGather.grid(GROUPS), centroids, valueSums, sizes,
                clusterStride, ids, counts, idsStride, esC, esV, esSizes, esStride);
        WaveBufferCopyTwin.gatherEstimation(GROUPS, centroids, valueSums, sizes, clusterStride, ids, counts, idsStride, twinC,
                twinV, twinSizes, esStride);
        assertSame(twinC, esC, "centroids");
        assertSame(twinV, esV, "value sums");
        for (int i = 0; i < GROUPS * esStride; i++) {
            assertEquals(Float.floatToRawIntBits(twinSizes.get(i)), Float.floatToRawIntBits(esSizes.get(i)), "size " + i);
        }
        assertEquals(sizes.get(2L * clusterStride + ids.get(2L * idsStride + 299)), esSizes.get(2L * esStride + 299));
    }

    /** Random stores and unit lists: misses anywhere in the host list, hits in distinct cache blocks. */
    private final class Stores {
        final I32Array steadyK = ints.random(GROUPS * STEADY_STRIDE * INTS),
                steadyV = ints.random(GROUPS * STEADY_STRIDE * INTS);
        final I32Array listK = ints.random(GROUPS * LIST_STRIDE * INTS), listV = ints.random(GROUPS * LIST_STRIDE * INTS);
        final I32Array cacheK = ints.random(GROUPS * CACHE_BLOCKS * CHUNK * INTS),
                cacheV = ints.random(GROUPS * CACHE_BLOCKS * CHUNK * INTS);
        final I32Array steadyLengths = I32Array.of(arena, STEADY);
        final I32Array missStarts = ints.filled(GROUPS * MAX_UNITS, POISON),
                missSizes = ints.filled(GROUPS * MAX_UNITS, POISON);
        final I32Array missOffsets = ints.filled(GROUPS * MAX_UNITS, POISON), missCounts = I32Array.of(arena, MISSES);
        final I32Array hitBlocks = ints.filled(GROUPS * MAX_UNITS, POISON),
                hitSizes = ints.filled(GROUPS * MAX_UNITS, POISON);
        final I32Array hitOffsets = ints.filled(GROUPS * MAX_UNITS, POISON), hitCounts = I32Array.of(arena, HITS);

        Stores() {
            for (int g = 0; g < GROUPS; g++) {
                int offset = 0;
                for (int i = 0; i < MISSES[g]; i++) {
                    int size = 1 + random.nextInt(CHUNK);
                    missStarts.set(g * MAX_UNITS + i, random.nextInt(LIST_STRIDE - CHUNK));
                    missSizes.set(g * MAX_UNITS + i, size);
                    missOffsets.set(g * MAX_UNITS + i, offset);
                    offset += size;
                }
                List<Integer> blocks = ints.shuffled(CACHE_BLOCKS);
                offset = 0;
                for (int i = 0; i < HITS[g]; i++) {
                    int size = i == 0 ? CHUNK : 1 + random.nextInt(CHUNK); // a whole block and partial ones
                    hitBlocks.set(g * MAX_UNITS + i, blocks.get(i));
                    hitSizes.set(g * MAX_UNITS + i, size);
                    hitOffsets.set(g * MAX_UNITS + i, offset);
                    offset += size;
                }
            }
        }

        int total(I32Array sizes, int g, int count) {
            int sum = 0;
            for (int i = 0; i < count; i++) sum += sizes.get(g * MAX_UNITS + i);
            return sum;
        }
    }

    private static void assertSame(I32Array expected, I32Array actual, String what) {
        for (long i = 0; i < expected.length(); i++) {
            if (expected.get(i) != actual.get(i)) {
                assertEquals(expected.get(i), actual.get(i), what + " differs from the twin at int " + i);
            }
        }
    }
}
