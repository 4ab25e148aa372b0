package org.retroinfer.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;
import org.retroinfer.kernels.WeightMatrix;

/**
 * Benchmark inputs: matrices of plausible finite values (normal weights, or random quant bytes
 * under small F16 scales). A large matrix repeats a block of {@value #PATTERN_ROWS} random rows;
 * it is far larger than the caches, so the repetition cannot help the kernels.
 */
final class RandomWeights {
    static final int PATTERN_ROWS = 64;

    private RandomWeights() {}

    static WeightMatrix matrix(Arena arena, DType type, int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long rowBytes = type.byteSize(cols);
        MemorySegment data = arena.allocate(rowBytes * rows, 4096);
        int patternRows = Math.min(rows, PATTERN_ROWS);
        MemorySegment pattern = data.asSlice(0, rowBytes * patternRows);
        fill(type, pattern, (long) patternRows * cols, random);
        for (long row = patternRows; row < rows; row += patternRows) {
            long count = Math.min(patternRows, rows - row);
            MemorySegment.copy(pattern, 0, data, row * rowBytes, count * rowBytes);
        }
        return new WeightMatrix(type, rows, cols, data);
    }

    /** Fills {@code values} values of {@code type} (whole blocks) at the start of {@code data}. */
    static void fill(DType type, MemorySegment data, long values, SplittableRandom random) {
        switch (type) {
            case F32 -> {
                for (long i = 0; i < values; i++) {
                    data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) gaussian(random));
                }
            }
            case F16, BF16 -> {
                for (long i = 0; i < values; i++) {
                    data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Half.fromFloat(type, (float) gaussian(random)));
                }
            }
            case Q8_0, Q4_0 -> {
                long bytes = type.byteSize(values);
                for (long i = 0; i < bytes; i++) {
                    data.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
                }
                for (long block = 0; block < bytes; block += type.blockBytes()) {
                    data.set(ValueLayout.JAVA_SHORT_UNALIGNED, block,
                            Float.floatToFloat16((float) (random.nextDouble() * 0.02)));
                }
            }
        }
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller, enough for plausible magnitudes
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
