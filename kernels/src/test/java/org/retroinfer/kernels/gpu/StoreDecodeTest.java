package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.SCALE;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.TOLERANCE;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.poisoned;
import static org.retroinfer.kernels.gpu.SplitKvDecodeTest.worst;
import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;
import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.kernels.DType;

/**
 * {@link StoreDecode}'s partials, merged, on the emulator against {@link StoreDecodeTwin} (float64, no splits). Every store
 * vector no unit covers and every steady vector past a zone's length is NaN (a 16-bit NaN, or a NaN scale), so a read
 * of one poisons the output; outputs are NaN before the launches. Units are whole blocks and partial ones; group 1's
 * run over many splits, group 2 has no steady zone and group 3 nothing at all.
 */
class StoreDecodeTest {
    private static final int STEADY_STRIDE = 40, LIST_STRIDE = 600, MAX_UNITS = 50;
    private static final int EXEC_STRIDE = STEADY_STRIDE + CHUNK * MAX_UNITS;
    private static final int[] STEADY = {37, 8, 0, 0}, UNITS = {5, 45, 3, 0};
    private static final int GROUPS = STEADY.length;

    @ParameterizedTest(name = "{0}, group {1}, {2} splits")
    @CsvSource({"partialsBf16, 4, 3", "partialsF16, 1, 5", "partialsInt8Bf16, 4, 2", "partialsInt8F16, 8, 3",
            "partialsInt4Bf16, 4, 3", "partialsInt4F16, 3, 4"})
    void storeReadInPlaceAttendsAsItsGatheredExecutionBuffer(String kernel, int group, int splits) {
        try (Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("store decode " + kernel + " group " + group + " splits " + splits);
            DType storage = kernel.endsWith("F16") ? DType.F16 : DType.BF16;
            StoreCase c = new StoreCase(arena, random, storage, kernel.contains("Int4") ? 4 : kernel.contains("Int8") ? 8 : 16);
            DecodeAttentionShape shape = new DecodeAttentionShape(GROUPS, 1, group, EXEC_STRIDE, splits);
            F32Array q = F32Array.allocate(arena, shape.queryElements());
            for (long i = 0; i < q.length(); i++) q.set(i, (float) random.nextGaussian());

            F32Array partialOut = poisoned(arena, shape.partialRows() * HEAD_DIM);
            F32Array partialLse = poisoned(arena, shape.partialRows());
            Emulator emulator = new Emulator();
            emulator.launch(StoreDecode.class, kernel, shape.partialsGrid(), q, c.steadyK, c.steadyV, I32Array.of(arena, STEADY),
                    STEADY_STRIDE, c.listK, c.listV, c.scalesK, c.scalesV, LIST_STRIDE, c.starts, c.sizes,
                    I32Array.of(arena, UNITS), MAX_UNITS, partialOut, partialLse, splits, SCALE, group);
            F32Array out = poisoned(arena, shape.queryElements());
            F32Array lse = poisoned(arena, (long) GROUPS * group);
            emulator.launch(SplitKvMerge.class, "merge", shape.mergeGrid(), partialOut, partialLse, out, lse, splits, group);

            SplitKvDecodeTwin.Output twin = c.twin(arena, group, q);
            double error = Math.max(worst(out, twin.out(), kernel + " out"), worst(lse, twin.lse(), kernel + " lse"));
            for (int h = 0; h < group; h++) {
                assertEquals(Float.NEGATIVE_INFINITY, lse.get(3L * group + h), "group 3 attends nothing");
            }
            System.out.printf("  worst error against the twin: %.2e (tolerance %.0e)%n", error, TOLERANCE);
        }
    }

    /** One case's stores and units: 16-bit K/V ({@code bits} 16) or INT8/INT4 levels with their scales. */
    private static final class StoreCase {
        final DType storage;
        final int bits;
        final I32Array steadyK, steadyV, listK, listV, starts, sizes;
        final I32Array scalesK, scalesV;

        StoreCase(Arena arena, Random random, DType storage, int bits) {
            this.storage = storage;
            this.bits = bits;
            IntArrays ints = new IntArrays(arena, random);
            steadyK = halves(arena, (long) GROUPS * STEADY_STRIDE);
            steadyV = halves(arena, (long) GROUPS * STEADY_STRIDE);
            for (int g = 0; g < GROUPS; g++) {
                for (int t = 0; t < STEADY[g]; t++) {
                    gaussian(steadyK, (long) g * STEADY_STRIDE + t, random);
                    gaussian(steadyV, (long) g * STEADY_STRIDE + t, random);
                }
            }
            int perVector = bits == 16 ? INTS : bits == 8 ? Int8Vectors.INTS : Int4Vectors.INTS;
            int scales = bits == 16 ? 0 : bits == 8 ? 1 : Int4Vectors.GROUPS;
            int scaleInts = bits == 4 ? Int4Vectors.SCALE_INTS : scales;
            long vectors = (long) GROUPS * LIST_STRIDE;
            listK = bits == 16 ? halves(arena, vectors) : ints.random(vectors * perVector);
            listV = bits == 16 ? halves(arena, vectors) : ints.random(vectors * perVector);
            // NaN as an F32 and as both BF16 halves: a scale read where none was written poisons the output
            scalesK = ints.filled(Math.max(1, vectors * scaleInts), 0x7FC07FC0);
            scalesV = ints.filled(Math.max(1, vectors * scaleInts), 0x7FC07FC0);
            starts = ints.filled((long) GROUPS * MAX_UNITS, 0xDEADBEEF);
            sizes = ints.filled((long) GROUPS * MAX_UNITS, 0xDEADBEEF);
            for (int g = 0; g < GROUPS; g++) {
                for (int i = 0; i < UNITS[g]; i++) {
                    int size = i % 3 == 0 ? CHUNK : 1 + random.nextInt(CHUNK);
                    int start = random.nextInt(LIST_STRIDE - CHUNK);
                    long u = (long) g * MAX_UNITS + i;
                    starts.set(u, start);
                    sizes.set(u, size);
                    for (int r = 0; r < size; r++) {
                        long vector = (long) g * LIST_STRIDE + start + r;
                        if (bits == 16) {
                            gaussian(listK, vector, random);
                            gaussian(listV, vector, random);
                        } else {
                            // levels up to 127 or 7 times a scale near 2 / levels: values of order one
                            float unit = 2f / (bits == 8 ? Int8Vectors.LEVELS : Int4Vectors.LEVELS);
                            float[] k = new float[scales], v = new float[scales];
                            for (int s = 0; s < scales; s++) {
                                k[s] = Int4Vectors.toBf16(unit * (0.5f + random.nextFloat()));
                                v[s] = Int4Vectors.toBf16(unit * (0.5f + random.nextFloat()));
                            }
                            if (bits == 8) {
                                scalesK.set(vector, Float.floatToRawIntBits(k[0]));
                                scalesV.set(vector, Float.floatToRawIntBits(v[0]));
                            } else {
                                Int4Vectors.storeScales(k, scalesK, vector);
                                Int4Vectors.storeScales(v, scalesV, vector);
                            }
                        }
                    }
                }
            }
        }

        /** {@link StoreDecodeTwin} over this case. */
        SplitKvDecodeTwin.Output twin(Arena arena, int group, F32Array q) {
            StoreDecodeTwin.Format format = bits == 16 ? StoreDecodeTwin.Format.HALF
                    : bits == 8 ? StoreDecodeTwin.Format.INT8 : StoreDecodeTwin.Format.INT4;
            return StoreDecodeTwin.attend(GROUPS, group, q, SCALE, view(steadyK), view(steadyV), I32Array.of(arena, STEADY),
                    STEADY_STRIDE, format, view(listK), view(listV), listK, listV, scalesK, scalesV, LIST_STRIDE, starts, sizes,
                    I32Array.of(arena, UNITS), MAX_UNITS);
        }

        /** {@code vectors} 16-bit vectors, NaN. */
        private I32Array halves(Arena arena, long vectors) {
            I32Array a = I32Array.allocate(arena, vectors * INTS);
            HalfPrecisionArray h = view(a);
            for (long i = 0; i < h.length(); i++) h.set(i, Float.NaN);
            return a;
        }

        private void gaussian(I32Array ints, long vector, Random random) {
            HalfPrecisionArray h = view(ints);
            for (int d = 0; d < HEAD_DIM; d++) h.set(vector * HEAD_DIM + d, (float) random.nextGaussian());
        }

        private HalfPrecisionArray view(I32Array ints) {
            return storage == DType.BF16 ? BF16Array.view(ints.region()) : F16Array.view(ints.region());
        }
    }
}
