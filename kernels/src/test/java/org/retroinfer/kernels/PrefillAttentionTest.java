package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PrefillAttentionTest {
    private static final int[] GROUPS = {1, 4, 8, 2, 3};
    private static final int[] HEAD_DIMS = {128, 64, 1, 7, 40, 131};

    /** {@code tokens} random key (or value) vectors stored as {@code type}, and the same as doubles. */
    private record Run(MemorySegment data, double[][] vectors) {
        static Run random(Arena arena, Random random, DType type, int tokens, int headDim) {
            MemorySegment data = arena.allocate(Math.max(2, 2L * tokens * headDim), 64);
            double[][] vectors = new double[tokens][headDim];
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < headDim; i++) {
                    short bits = Half.fromFloat(type, (float) random.nextGaussian());
                    data.setAtIndex(ValueLayout.JAVA_SHORT, (long) t * headDim + i, bits);
                    vectors[t][i] = type == DType.F16 ? TestWeights.f16(bits) : Float.intBitsToFloat((bits & 0xFFFF) << 16);
                }
            }
            return new Run(data, vectors);
        }
    }

    /**
     * Float64 softmax attention of query {@code q[qOff ..]} over the first {@code visible} keys of
     * {@code keys} (every earlier run fully, then a prefix of the causal run).
     */
    private static double[] reference(float[] q, int qOff, int headDim, double scale, Run[] keys, Run[] values,
                                      int[] visible) {
        double max = Double.NEGATIVE_INFINITY;
        int total = 0;
        for (int v : visible) {
            total += v;
        }
        double[] s = new double[total];
        for (int r = 0, n = 0; r < keys.length; r++) {
            for (int t = 0; t < visible[r]; t++, n++) {
                double dot = 0;
                for (int i = 0; i < headDim; i++) {
                    dot += q[qOff + i] * keys[r].vectors[t][i];
                }
                s[n] = dot * scale;
                max = Math.max(max, s[n]);
            }
        }
        double sum = 0;
        for (int n = 0; n < total; n++) {
            s[n] = Math.exp(s[n] - max);
            sum += s[n];
        }
        double[] out = new double[headDim];
        for (int r = 0, n = 0; r < keys.length; r++) {
            for (int t = 0; t < visible[r]; t++, n++) {
                for (int i = 0; i < headDim; i++) {
                    out[i] += s[n] / sum * values[r].vectors[t][i];
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void blocksOfCausalRowsAfterUnmaskedRunsMatchFloat64Attention(DType type) {
        Random random = TestWeights.random("prefill attention " + type);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 30; trial++) {
                int group = GROUPS[trial % GROUPS.length];
                int headDim = HEAD_DIMS[random.nextInt(HEAD_DIMS.length)];
                int rows = 1 + random.nextInt(PrefillAttention.MAX_SUB_BLOCKS * PrefillAttention.rowsPerSubBlock(group) + 3);
                // Runs every row sees (cluster or steady-zone runs), then one causal run (the prompt)
                // at positions [0, length) whose last `rows` positions are the block's rows, split
                // into pages of a size that is not a multiple of the tile.
                int unmaskedRuns = random.nextInt(3);
                int before = random.nextInt(150);
                int length = before + rows + random.nextInt(3);
                int page = 1 + random.nextInt(80);
                int[] sizes = new int[unmaskedRuns + 1];
                for (int r = 0; r < unmaskedRuns; r++) {
                    sizes[r] = random.nextInt(70);
                }
                sizes[unmaskedRuns] = length;
                Run[] keys = new Run[sizes.length];
                Run[] values = new Run[sizes.length];
                for (int r = 0; r < sizes.length; r++) {
                    keys[r] = Run.random(arena, random, type, sizes[r], headDim);
                    values[r] = Run.random(arena, random, type, sizes[r], headDim);
                }
                // The block's rows sit at positions [visible − 1, visible − 1 + rows).
                long visible = before + 1;
                int rowStride = group * headDim * (1 + random.nextInt(3)) + random.nextInt(5);
                int qOff = random.nextInt(7);
                float[] q = TestWeights.gaussian(random, qOff + rows * rowStride);
                float scale = (float) (1 / Math.sqrt(headDim));

                PrefillAttention block = PrefillAttention.forThread();
                block.begin(q, qOff, rowStride, rows, group, headDim, scale);
                for (int r = 0; r < unmaskedRuns; r++) {
                    block.add(keys[r].data, 0, values[r].data, 0, type, sizes[r]);
                }
                long bytesPerVector = 2L * headDim;
                for (int first = 0; first < length; first += page) {
                    int n = Math.min(page, length - first);
                    block.add(keys[unmaskedRuns].data, first * bytesPerVector, values[unmaskedRuns].data,
                            first * bytesPerVector, type, n, first, visible);
                }
                float[] out = TestWeights.poisoned(qOff + rows * rowStride);
                block.finish(out, qOff, rowStride);

                for (int row = 0; row < rows; row++) {
                    int[] seen = sizes.clone();
                    seen[unmaskedRuns] = (int) visible + row;
                    for (int h = 0; h < group; h++) {
                        int off = qOff + row * rowStride + h * headDim;
                        double[] expected = reference(q, off, headDim, scale, keys, values, seen);
                        for (int i = 0; i < headDim; i++) {
                            assertEquals(expected[i], out[off + i], 1e-5 * (1 + Math.abs(expected[i])),
                                    type + " group " + group + " headDim " + headDim + " rows " + rows + " page " + page
                                            + " runs " + java.util.Arrays.toString(sizes) + ": row " + row + " head " + h
                                            + " dimension " + i);
                        }
                    }
                    for (int i = qOff + row * rowStride + group * headDim; i < qOff + (row + 1) * rowStride; i++) {
                        assertTrue(Float.isNaN(out[i]), "finish wrote outside the block's query vectors at " + i);
                    }
                }
            }
        }
    }

    @Test
    void keysNoRowSeesAreNotRead() {
        Random random = TestWeights.random("prefill horizon");
        int headDim = 64, group = 4, rows = 5;
        try (Arena arena = Arena.ofConfined()) {
            Run keys = Run.random(arena, random, DType.F16, 100, headDim);
            Run values = Run.random(arena, random, DType.F16, 100, headDim);
            // The last row sits at position 39 and sees [0, 40); everything after is NaN.
            for (long i = 40L * headDim; i < 100L * headDim; i++) {
                keys.data.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) 0x7E00);
                values.data.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) 0x7E00);
            }
            float[] q = TestWeights.gaussian(random, rows * group * headDim);
            PrefillAttention block = PrefillAttention.forThread();
            block.begin(q, 0, group * headDim, rows, group, headDim, 0.125f);
            block.add(keys.data, 0, values.data, 0, DType.F16, 100, 0, 36);
            float[] out = TestWeights.poisoned(q.length);
            block.finish(out, 0, group * headDim);
            for (float x : out) {
                assertTrue(Float.isFinite(x), "a key beyond the last row's position reached the output");
            }
        }
    }

    @Test
    void keysMustBeSixteenBit() {
        PrefillAttention block = PrefillAttention.forThread();
        block.begin(new float[16], 0, 16, 1, 1, 16, 0.25f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> block.add(MemorySegment.NULL, 0, MemorySegment.NULL, 0, DType.F32, 1));
        assertTrue(e.getMessage().contains("F16 or BF16"));
    }
}
