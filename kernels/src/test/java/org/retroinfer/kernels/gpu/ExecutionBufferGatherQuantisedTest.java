package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;
import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

/**
 * {@link ExecutionBufferGather#gatherInt8Bf16}, {@link ExecutionBufferGather#gatherInt8F16} and their INT4 forms on the
 * emulator against {@link WaveBufferCopyTwin#gatherQuantised}, on random stores and unit lists with the outputs poisoned
 * first: every int of the buffers must equal the twin's. Group 1 has more chunks than its 64 warps, so its warps take two
 * misses at once, or one miss followed by a hit; group 2's misses are each the last chunk of their warp.
 */
class ExecutionBufferGatherQuantisedTest {
    private static final int POISON = 0xDEADBEEF;
    private static final int GROUPS = 3, STEADY_STRIDE = 40, LIST_STRIDE = 1500, CACHE_BLOCKS = 40, MAX_UNITS = 160;
    private static final int EXEC_STRIDE = STEADY_STRIDE + CHUNK * MAX_UNITS;
    /** Steady lengths: not a multiple of the chunk, one chunk, empty. */
    private static final int[] STEADY = {37, 8, 0};
    /** Misses and hits per group. */
    private static final int[] MISSES = {4, 120, 7}, HITS = {3, 20, 0};

    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);
    private final Arena arena = Arena.ofAuto();
    private final IntArrays ints = new IntArrays(arena, random);

    @Test
    void gatherInt8Bf16DequantisesMissesBetweenTheSteadyZoneAndTheHits() {
        check(DType.BF16, "gatherInt8Bf16");
    }

    @Test
    void gatherInt8F16DequantisesMissesBetweenTheSteadyZoneAndTheHits() {
        check(DType.F16, "gatherInt8F16");
    }

    @Test
    void gatherInt4Bf16DequantisesMissesBetweenTheSteadyZoneAndTheHits() {
        check(DType.BF16, "gatherInt4Bf16");
    }

    @Test
    void gatherInt4F16DequantisesMissesBetweenTheSteadyZoneAndTheHits() {
        check(DType.F16, "gatherInt4F16");
    }

    private void check(DType storage, String kernel) {
        boolean int4 = kernel.startsWith("gatherInt4");
        I32Array steadyK = ints.random(GROUPS * STEADY_STRIDE * INTS), steadyV = ints.random(GROUPS * STEADY_STRIDE * INTS);
        long listInts = (long) GROUPS * LIST_STRIDE * (int4 ? Int4Vectors.INTS : Int8Vectors.INTS);
        I32Array listK = ints.random(listInts), listV = ints.random(listInts);
        I32Array scalesK = scales(int4), scalesV = scales(int4);
        long cacheInts = (long) GROUPS * CACHE_BLOCKS * CHUNK * INTS;
        I32Array cacheK = ints.random(cacheInts), cacheV = ints.random(cacheInts);
        I32Array steadyLengths = I32Array.of(arena, STEADY), missCounts = I32Array.of(arena, MISSES);
        I32Array hitCounts = I32Array.of(arena, HITS);
        I32Array missStarts = ints.filled(GROUPS * MAX_UNITS, POISON), missSizes = ints.filled(GROUPS * MAX_UNITS, POISON);
        I32Array missOffsets = ints.filled(GROUPS * MAX_UNITS, POISON), hitBlocks = ints.filled(GROUPS * MAX_UNITS, POISON);
        I32Array hitSizes = ints.filled(GROUPS * MAX_UNITS, POISON), hitOffsets = ints.filled(GROUPS * MAX_UNITS, POISON);
        for (int g = 0; g < GROUPS; g++) {
            int offset = 0;
            for (int i = 0; i < MISSES[g]; i++) {
                int size = i == 0 ? CHUNK : 1 + random.nextInt(CHUNK); // a whole block and partial ones
                missStarts.set(g * MAX_UNITS + i, random.nextInt(LIST_STRIDE - CHUNK));
                missSizes.set(g * MAX_UNITS + i, size);
                missOffsets.set(g * MAX_UNITS + i, offset);
                offset += size;
            }
            List<Integer> blocks = ints.shuffled(CACHE_BLOCKS);
            offset = 0;
            for (int i = 0; i < HITS[g]; i++) {
                int size = 1 + random.nextInt(CHUNK);
                hitBlocks.set(g * MAX_UNITS + i, blocks.get(i));
                hitSizes.set(g * MAX_UNITS + i, size);
                hitOffsets.set(g * MAX_UNITS + i, offset);
                offset += size;
            }
        }
        long execInts = (long) GROUPS * EXEC_STRIDE * INTS;
        I32Array execK = ints.filled(execInts, POISON), execV = ints.filled(execInts, POISON),
                valid = ints.filled(GROUPS, POISON);
        I32Array twinK = ints.filled(execInts, POISON), twinV = ints.filled(execInts, POISON),
                twinValid = ints.filled(GROUPS, POISON);
        new Emulator().launch(ExecutionBufferGather.class, kernel, ExecutionBufferGather.grid(GROUPS), steadyK, steadyV,
                steadyLengths, STEADY_STRIDE, listK, listV, scalesK, scalesV, LIST_STRIDE, cacheK, cacheV, CACHE_BLOCKS,
                missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts, MAX_UNITS, execK,
                execV, EXEC_STRIDE, valid, GROUPS);
        WaveBufferCopyTwin.gatherQuantised(int4, storage, GROUPS, steadyK, steadyV, steadyLengths, STEADY_STRIDE, listK, listV,
                scalesK, scalesV, LIST_STRIDE, cacheK, cacheV, CACHE_BLOCKS, missStarts, missSizes, missOffsets, missCounts,
                hitBlocks, hitSizes, hitOffsets, hitCounts, MAX_UNITS, twinK, twinV, EXEC_STRIDE, twinValid);
        assertSame(twinK, execK, kernel + " K");
        assertSame(twinV, execV, kernel + " V");
        assertSame(twinValid, valid, kernel + " valid lengths");
        // group 1's last miss: its last element is level 127 of its last list vector, dequantised and rounded
        long u = MAX_UNITS + MISSES[1] - 1;
        long row = LIST_STRIDE + missStarts.get(u) + missSizes.get(u) - 1;
        float value = int4 ? Int4Vectors.dequantise(Int4Vectors.get(listV, row, 127), Int4Vectors.scale(scalesV, row, 127))
                : Int8Vectors.dequantise(Int8Vectors.get(listV, row, 127), Int8Vectors.scale(scalesV, row));
        long at = (EXEC_STRIDE + STEADY[1] + missOffsets.get(u) + missSizes.get(u)) * INTS - 1;
        assertEquals(Half.fromFloat(storage, value), (short) (execV.get(at) >>> 16), kernel + " group 1's last miss, seed " + seed);
    }

    /**
     * Scales over six orders of magnitude, and some zero (a vector or group of zeros), in the format's words: an F32's
     * bits a vector for INT8, four BF16 group scales in two ints for INT4.
     */
    private I32Array scales(boolean int4) {
        long vectors = (long) GROUPS * LIST_STRIDE;
        I32Array s = I32Array.allocate(arena, vectors * (int4 ? Int4Vectors.SCALE_INTS : 1));
        float[] group = new float[Int4Vectors.GROUPS];
        for (long i = 0; i < vectors; i++) {
            if (int4) {
                for (int g = 0; g < group.length; g++) group[g] = Int4Vectors.toBf16(scale());
                Int4Vectors.storeScales(group, s, i);
            } else {
                s.set(i, Float.floatToRawIntBits(scale()));
            }
        }
        return s;
    }

    private float scale() {
        return random.nextInt(10) == 0 ? 0 : (float) (random.nextDouble() * Math.pow(10, random.nextInt(6) - 4));
    }

    private void assertSame(I32Array expected, I32Array actual, String what) {
        for (long i = 0; i < expected.length(); i++) {
            if (expected.get(i) != actual.get(i)) {
                assertEquals(expected.get(i), actual.get(i), what + " differs from the twin at int " + i + ", seed " + seed);
            }
        }
    }
}
