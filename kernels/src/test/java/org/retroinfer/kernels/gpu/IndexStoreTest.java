package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

/** {@link IndexStore}'s kernels on the emulator against plain loops, into poisoned outputs. */
class IndexStoreTest {
    private static final int SOURCE_VECTORS = 40;

    @Test
    void gatherVectorsCopiesEachIndexedVectorWhole() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(11);
            int vectors = 37, ints = VectorChunks.INTS;
            I32Array source = I32Array.allocate(arena, (long) vectors * ints);
            for (long i = 0; i < source.length(); i++) source.set(i, random.nextInt());
            int[] order = random.ints(0, vectors).distinct().limit(vectors).toArray();
            I32Array index = I32Array.of(arena, order);
            I32Array target = I32Array.allocate(arena, (long) (vectors + 1) * ints);
            target.fill(0xDEAD);
            new Emulator().launch(IndexStore.class, "gatherVectors", IndexStore.vectorGrid(vectors), source, index, vectors, target);
            for (int i = 0; i < vectors; i++) {
                for (int j = 0; j < ints; j++) {
                    assertEquals(source.get((long) order[i] * ints + j), target.get((long) i * ints + j), "vector " + i + " int " + j);
                }
            }
            for (int j = 0; j < ints; j++) assertEquals(0xDEAD, target.get((long) vectors * ints + j), "past the end");
        }
    }

    @Test
    void gatherQuantizedBf16MatchesTheTwinBitForBit() {
        try (Arena arena = Arena.ofShared()) {
            BF16Array source = BF16Array.allocate(arena, (long) SOURCE_VECTORS * HEAD_DIM);
            checkQuantizedGather(arena, source, "gatherQuantized");
        }
    }

    @Test
    void gatherQuantizedF16MatchesTheTwinBitForBit() {
        try (Arena arena = Arena.ofShared()) {
            F16Array source = F16Array.allocate(arena, (long) SOURCE_VECTORS * HEAD_DIM);
            checkQuantizedGather(arena, source, "gatherQuantized");
        }
    }

    @Test
    void gatherQuantizedInt4Bf16MatchesTheTwinBitForBit() {
        try (Arena arena = Arena.ofShared()) {
            BF16Array source = BF16Array.allocate(arena, (long) SOURCE_VECTORS * HEAD_DIM);
            checkQuantizedGather(arena, source, "gatherQuantizedInt4");
        }
    }

    @Test
    void gatherQuantizedInt4F16MatchesTheTwinBitForBit() {
        try (Arena arena = Arena.ofShared()) {
            F16Array source = F16Array.allocate(arena, (long) SOURCE_VECTORS * HEAD_DIM);
            checkQuantizedGather(arena, source, "gatherQuantizedInt4");
        }
    }

    /**
     * 25 vectors (an odd count: the last warp's second half-warp has none) gathered from 40 random ones, among them
     * a vector of zeros, one with a single large outlier and one whose levels are all halfway cases (absmax 127, or 7
     * in each INT4 group, and half-integers: the scales are exactly 1), quantised to INT8 ({@code gatherQuantized}) or
     * INT4 ({@code gatherQuantizedInt4}) on {@link IndexStore#vectorGrid} and on one warp (grid-stride), into
     * a poisoned target one vector longer than needed.
     */
    private static void checkQuantizedGather(Arena arena, HalfPrecisionArray source, String kernel) {
        boolean int4 = kernel.endsWith("Int4");
        int ints = int4 ? Int4Vectors.INTS : Int8Vectors.INTS, scaleInts = int4 ? Int4Vectors.SCALE_INTS : 1;
        int levels = int4 ? Int4Vectors.LEVELS : Int8Vectors.LEVELS;
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int v = 0; v < SOURCE_VECTORS; v++) {
            double magnitude = Math.pow(10, random.nextInt(5) - 3);
            for (int j = 0; j < HEAD_DIM; j++) source.set((long) v * HEAD_DIM + j, (float) (random.nextGaussian() * magnitude));
        }
        int zeros = 3, outlier = 17, halfway = 29;
        for (int j = 0; j < HEAD_DIM; j++) {
            source.set((long) zeros * HEAD_DIM + j, 0);
            source.set((long) halfway * HEAD_DIM + j, j % 32 == 5 ? -levels : random.nextInt(2 * levels - 1) - (levels - 1) + 0.5f);
        }
        source.set((long) outlier * HEAD_DIM + 77, 300);
        int count = 25;
        int[] order = random.ints(0, SOURCE_VECTORS).distinct().limit(count - 3).toArray();
        int[] chosen = new int[count];
        System.arraycopy(order, 0, chosen, 3, count - 3);
        chosen[0] = halfway;
        chosen[1] = zeros;
        chosen[count - 1] = outlier;
        I32Array index = I32Array.of(arena, chosen);
        I32Array twin = I32Array.allocate(arena, (long) (count + 1) * ints);
        I32Array twinScales = I32Array.allocate(arena, (long) (count + 1) * scaleInts);
        twin.fill(0xDEAD);
        twinScales.fill(0xDEAD);
        for (int i = 0; i < count; i++) {
            if (int4) {
                Int4Vectors.quantise(source, chosen[i], twin, twinScales, i);
            } else {
                Int8Vectors.quantise(source, chosen[i], twin, twinScales, i);
            }
        }
        for (Grid grid : new Grid[] {IndexStore.vectorGrid(count), Grid.of(1, KernelContext.WARP_SIZE)}) {
            I32Array target = I32Array.allocate(arena, (long) (count + 1) * ints);
            I32Array scales = I32Array.allocate(arena, (long) (count + 1) * scaleInts);
            target.fill(0xDEAD);
            scales.fill(0xDEAD);
            new Emulator().launch(IndexStore.class, kernel, grid, source, index, count, target, scales);
            String where = kernel + " on " + grid + ", seed " + seed;
            for (int i = 0; i <= count; i++) {
                for (int s = 0; s < scaleInts; s++) {
                    long at = (long) i * scaleInts + s;
                    assertEquals(twinScales.get(at), scales.get(at), "scale int " + s + " of vector " + i + ", " + where);
                }
                for (int k = 0; k < ints; k++) {
                    long at = (long) i * ints + k;
                    assertEquals(twin.get(at), target.get(at), "vector " + i + " int " + k + ", " + where);
                }
            }
        }
        for (int s = 0; s < scaleInts; s++) assertEquals(0, twinScales.get(scaleInts + s), "a vector of zeros has scale 0");
        // element 77 is in INT4 group 2
        float outlierScale = int4 ? Int4Vectors.toBf16(300f / levels) : 300f / levels;
        assertEquals(outlierScale, scale(twinScales, count - 1, 77, int4), "the outlier sets the scale");
        assertEquals(levels, int4 ? Int4Vectors.get(twin, count - 1, 77) : Int8Vectors.get(twin, count - 1, 77));
        for (int j = 0; j < HEAD_DIM; j++) assertEquals(1f, scale(twinScales, 0, j, int4), "the halfway vector's scale at " + j);
    }

    /**
     * F32 vectors (the index's value sums) quantised to INT8 as {@link Int8Vectors#quantise(float[], int, byte[])}
     * does, bit for bit: random magnitudes, a vector of zeros and one with an outlier, on {@link IndexStore#vectorGrid} and
     * on one warp, into a poisoned target one vector longer than the count.
     */
    @Test
    void toInt8QuantisesF32VectorsAsTheTwin() {
        try (Arena arena = Arena.ofShared()) {
            long seed = System.nanoTime();
            Random random = new Random(seed);
            int count = 23;
            float[] values = new float[count * HEAD_DIM];
            for (int v = 0; v < count; v++) {
                double magnitude = Math.pow(10, random.nextInt(7) - 3);
                for (int j = 0; j < HEAD_DIM; j++) values[v * HEAD_DIM + j] = (float) (random.nextGaussian() * magnitude);
            }
            java.util.Arrays.fill(values, 4 * HEAD_DIM, 5 * HEAD_DIM, 0f);
            values[9 * HEAD_DIM + 100] = -5000f;
            F32Array source = F32Array.of(arena, values);
            I32Array twin = I32Array.allocate(arena, (long) (count + 1) * Int8Vectors.INTS);
            I32Array twinScales = I32Array.allocate(arena, count + 1);
            twin.fill(0xDEAD);
            twinScales.fill(0xDEAD);
            byte[] q = new byte[HEAD_DIM];
            for (int v = 0; v < count; v++) {
                float scale = Int8Vectors.quantise(values, v, q);
                Int8Vectors.store(q, twin, v);
                twinScales.set(v, Float.floatToRawIntBits(scale));
            }
            for (Grid grid : new Grid[] {IndexStore.vectorGrid(count), Grid.of(1, KernelContext.WARP_SIZE)}) {
                I32Array target = I32Array.allocate(arena, (long) (count + 1) * Int8Vectors.INTS);
                I32Array scales = I32Array.allocate(arena, count + 1);
                target.fill(0xDEAD);
                scales.fill(0xDEAD);
                new Emulator().launch(IndexStore.class, "toInt8", grid, source, count, target, scales);
                String where = "toInt8 on " + grid + ", seed " + seed;
                for (int v = 0; v <= count; v++) {
                    assertEquals(twinScales.get(v), scales.get(v), "scale of vector " + v + ", " + where);
                    for (int k = 0; k < Int8Vectors.INTS; k++) {
                        long at = (long) v * Int8Vectors.INTS + k;
                        assertEquals(twin.get(at), target.get(at), "vector " + v + " int " + k + ", " + where);
                    }
                }
            }
            assertEquals(0, twinScales.get(4), "a vector of zeros has scale 0");
            assertEquals(5000f / Int8Vectors.LEVELS, Int8Vectors.scale(twinScales, 9), "the outlier sets the scale");
            assertEquals(-Int8Vectors.LEVELS, Int8Vectors.get(twin, 9, 100));
        }
    }

    /**
     * F32 centroids quantised into {@link Int8Centroids}' interleaved layout as its twin stores them, bit for bit, from a
     * first centroid that does not start a block, on {@link IndexStore#vectorGrid} and on one warp: the centroids before
     * and after the run keep the poison, and each centroid reads back within half a level of its values.
     */
    @Test
    void toInt8CentroidsQuantisesIntoTheInterleavedLayoutAsTheTwin() {
        try (Arena arena = Arena.ofShared()) {
            long seed = System.nanoTime();
            Random random = new Random(seed);
            int count = 13, first = 6, slots = 24;
            float[] values = new float[count * HEAD_DIM];
            for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextGaussian() * 3);
            F32Array source = F32Array.of(arena, values);
            I32Array twin = I32Array.allocate(arena, (long) slots * Int8Centroids.INTS);
            I32Array twinScales = I32Array.allocate(arena, slots);
            twin.fill(0xDEAD);
            twinScales.fill(0xDEAD);
            for (int v = 0; v < count; v++) Int8Centroids.store(values, v * HEAD_DIM, twin, twinScales, first + v);
            for (Grid grid : new Grid[] {IndexStore.vectorGrid(count), Grid.of(1, KernelContext.WARP_SIZE)}) {
                I32Array target = I32Array.allocate(arena, (long) slots * Int8Centroids.INTS);
                I32Array scales = I32Array.allocate(arena, slots);
                target.fill(0xDEAD);
                scales.fill(0xDEAD);
                new Emulator().launch(IndexStore.class, "toInt8Centroids", grid, source, count, target, scales, (long) first);
                String where = "toInt8Centroids on " + grid + ", seed " + seed;
                assertArrayEquals(twinScales.toArray(), scales.toArray(), "scales, " + where);
                assertArrayEquals(twin.toArray(), target.toArray(), "levels, " + where);
            }
            for (int v = 0; v < slots; v++) {
                boolean written = v >= first && v < first + count;
                for (int s = 0; s < HEAD_DIM / 8; s++) {
                    long at = Int8Centroids.word(v, s);
                    assertEquals(written, twin.get(at) != 0xDEAD || twin.get(at + 1) != 0xDEAD, "centroid " + v + " slice " + s);
                }
                if (written) {
                    float scale = Int8Vectors.scale(twinScales, v);
                    for (int j = 0; j < HEAD_DIM; j++) {
                        assertEquals(values[(v - first) * HEAD_DIM + j], Int8Centroids.value(twin, twinScales, v, j), scale / 2 * 1.0001,
                                "centroid " + v + " element " + j);
                    }
                }
            }
        }
    }

    private static float scale(I32Array scales, long vector, int element, boolean int4) {
        return int4 ? Int4Vectors.scale(scales, vector, element) : Int8Vectors.scale(scales, vector);
    }

    @Test
    void conversionsRoundAsTheCpuDoes() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(12);
            int n = 1000;
            F32Array in = F32Array.allocate(arena, n);
            for (int i = 0; i < n; i++) in.set(i, (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3)));
            BF16Array bf16 = BF16Array.allocate(arena, n);
            F16Array f16 = F16Array.allocate(arena, n);
            for (int i = 0; i < n; i++) {
                bf16.setBits(i, (short) 0x7FC1);
                f16.setBits(i, (short) 0x7E01);
            }
            Emulator emulator = new Emulator();
            emulator.launch(IndexStore.class, "toHalf", IndexStore.elementGrid(n), in, bf16, (long) n);
            emulator.launch(IndexStore.class, "toHalf", IndexStore.elementGrid(n), in, f16, (long) n);
            I32Array counts = I32Array.of(arena, random.ints(n, 0, 1 << 20).toArray());
            F32Array sizes = F32Array.allocate(arena, n);
            sizes.fill(Float.NaN);
            emulator.launch(IndexStore.class, "toF32", IndexStore.elementGrid(n), counts, sizes, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Half.fromFloat(DType.BF16, in.get(i)), bf16.getBits(i), "bf16 of " + in.get(i));
                assertEquals(Half.fromFloat(DType.F16, in.get(i)), f16.getBits(i), "f16 of " + in.get(i));
                assertEquals((float) counts.get(i), sizes.get(i));
            }
        }
    }
}
