package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.WeightMatrix;

/**
 * The linear kernels {@link LinearShape} picks, on the accel emulator against a float64 loop over the same weights and
 * against the CPU's {@link Matmul}, on fresh random inputs with a poisoned output: row counts either side of the
 * switch to {@link TiledLinear} and of its eight-row groups (the last group's missing rows), output counts that are
 * not a multiple of either kernel's block, and widths that leave lanes without a piece in the last step. Sizes are
 * small because the emulator runs a virtual thread per GPU thread and every shuffle is a rendezvous of 32.
 */
class LinearTest {
    /**
     * Allowed error relative to {@code Σ|x_i·w_i|}: F32 sums of a few hundred products in any order stay within a
     * few 1e-7 of it; a wrong element or row errs by far more.
     */
    private static final double RELATIVE = 1e-5;

    @ParameterizedTest(name = "{0} weights, {1} rows, in {2}, out {3}, bias {4}")
    @CsvSource({"bf16, 1, 264, 13, false", "bf16, 3, 520, 9, true", "f16, 4, 72, 7, false", "bf16, 5, 264, 33, true",
            "f16, 8, 264, 37, false", "f32, 15, 72, 33, true", "bf16, 16, 136, 5, false", "f16, 17, 72, 35, true",
            "f32, 34, 40, 9, false", "bf16, 64, 16, 3, true", "bf16, 5, 128, 33, true", "bf16, 16, 192, 40, false",
            "bf16, 17, 64, 9, true", "bf16, 34, 128, 70, false"})
    void theChosenKernelMatchesAFloat64Loop(String type, int rows, int in, int out, boolean withBias) {
        LinearShape shape = new LinearShape(rows, in, out);
        ElementType weights = ElementType.valueOf(type.toUpperCase());
        checkAgainstFloat64(shape.kernel(weights), shape.grid(weights), type, rows, in, out, withBias);
    }

    /**
     * Every way of splitting a block's warps sums alike: along the inputs only (the grids LinearShape picks), and with
     * row and output tiles, including tiles wholly past the last row or output.
     */
    @ParameterizedTest(name = "{0} weights, {1} rows, in {2}, out {3}, bias {4}, split {5}x{6}x{7}")
    @CsvSource({"bf16, 9, 264, 33, true, 4, 1, 1", "f16, 17, 136, 37, false, 2, 2, 1", "f32, 34, 72, 70, true, 1, 2, 2",
            "bf16, 5, 264, 100, false, 2, 1, 4"})
    void everySplitMatchesAFloat64Loop(String type, int rows, int in, int out, boolean withBias, int inputWarps, int rowTiles,
            int outputTiles) {
        LinearShape shape = new LinearShape(rows, in, out);
        ElementType weights = ElementType.valueOf(type.toUpperCase());
        checkAgainstFloat64(shape.kernel(weights), shape.tiledGrid(new TiledLinear.Split(inputWarps, rowTiles, outputTiles)), type,
                rows, in, out, withBias);
    }

    /** The streaming kernel still serves more than its four rows in passes: LinearGpuCheck times it against the tiled one. */
    @Test
    void theStreamingKernelServesRowsPastOnePass() {
        LinearShape shape = new LinearShape(6, 264, 5);
        checkAgainstFloat64(KernelMethod.of(StreamingLinear.class, "half"), shape.streamingGrid(), "bf16", 6, 264, 5, true);
    }

    @Test
    void upToFourRowsStreamAndMoreAreTiled() {
        assertEquals(StreamingLinear.class, new LinearShape(4, 64, 64).kernel(ElementType.F16).owner());
        assertEquals(TiledLinear.class, new LinearShape(5, 64, 64).kernel(ElementType.F16).owner());
        assertEquals("half", new LinearShape(5, 64, 64).kernel(ElementType.F16).name());
        // 3 output blocks of 32 × 5 row groups of 8, too few to fill the SMs: eight warps a block along the inputs
        assertEquals(Grid.of(15, 256), new LinearShape(34, 64, 65).grid(ElementType.F16));
        // 448 × 2: enough for four warps a block
        assertEquals(Grid.of(896, 128), new LinearShape(16, 4096, 14336).grid(ElementType.F16));
        // 2 output blocks of 64 × 3 row groups of 16: one warp along the inputs (x) by two row tiles (y) by two output tiles (z)
        assertEquals(new Grid(6, 1, 1, 32, 2, 2), new LinearShape(34, 64, 65).tiledGrid(new TiledLinear.Split(1, 2, 2)));
    }

    /**
     * Any warp count sums alike, including warps whose share of the inputs is empty and, past eight, warps that hand
     * their sums to another warp's slot (all of them at sixteen, some at twelve).
     */
    @ParameterizedTest(name = "{0} rows, in {1}, out {2}, {3} warps")
    @CsvSource({"7, 320, 40, 4", "16, 64, 8, 8", "20, 128, 33, 2", "9, 1152, 40, 16", "5, 768, 33, 12", "11, 320, 8, 16"})
    void tensorCoreBlocksOfAnyWarpCountMatchAFloat64Loop(int rows, int in, int out, int warps) {
        LinearShape shape = new LinearShape(rows, in, out);
        checkAgainstFloat64(KernelMethod.of(TensorCoreLinear.class, "bf16"), shape.tensorCoreGrid(warps), "bf16", rows, in, out, true);
    }

    /**
     * Stacked layers in one launch: each part's outputs, in its own {@code [capacity][width]} matrix, are what the plain
     * kernel gives on that part's weights and bias (bit for bit: the same sums in the same order), with parts whose
     * boundaries fall inside a block's 32 outputs; the capacity's rows past the step's stay poisoned, as do the parts
     * past the last, and two parts (the last one empty) work as three.
     */
    @ParameterizedTest(name = "{0} rows of {1}, parts {2}, {3}, {4}, {5} warps")
    @CsvSource({"7, 9, 40, 8, 24, 4", "16, 16, 72, 40, 0, 16", "5, 6, 8, 8, 48, 8"})
    void stackedLayersInOneLaunchGiveWhatEachLayerGivesAlone(int rows, int capacity, int width0, int width1, int width2, int warps) {
        int in = 192, out = width0 + width1 + width2;
        int[] widths = {width0, width1, width2}, starts = {0, width0, width0 + width1};
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("stacked " + rows + " rows: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            BF16Array w = randomBf16(arena, (long) out * in, random);
            F32Array x = randomF32(arena, (long) rows * in, random), bias = randomF32(arena, out, random);
            F32Array y = F32Array.allocate(arena, (long) capacity * out + 5);
            y.fill(Float.NaN);
            Grid grid = new LinearShape(rows, in, out).tensorCoreGrid(warps);
            new Emulator().launch(LinearShape.TENSOR_CORES_STACKED, grid, x, w, bias, y, rows, in, out, 1, capacity, starts[1], starts[2]);
            for (int p = 0; p < 3; p++) {
                if (widths[p] == 0) continue;
                F32Array alone = F32Array.allocate(arena, (long) rows * widths[p]);
                new Emulator().launch(KernelMethod.of(TensorCoreLinear.class, "bf16"), new LinearShape(rows, in, widths[p]).tensorCoreGrid(warps),
                        x, w.slice((long) starts[p] * in, (long) widths[p] * in), bias.slice(starts[p], widths[p]), alone, rows, in, widths[p], 1);
                F32Array part = y.slice((long) capacity * starts[p], (long) capacity * widths[p]);
                assertArrayEquals(alone.toArray(), part.slice(0, (long) rows * widths[p]).toArray(), "part " + p);
                for (long i = (long) rows * widths[p]; i < part.length(); i++) {
                    assertTrue(Float.isNaN(part.get(i)), "part " + p + "'s rows past the step's were written at " + i);
                }
            }
            for (long i = (long) capacity * out; i < y.length(); i++) {
                assertTrue(Float.isNaN(y.get(i)), "written past the last part at " + i);
            }
        }
    }

    @Test
    void bf16WeightsPastFourRowsGoToTensorCoresWhereTheInputsFillWholeChunks() {
        assertEquals(TensorCoreLinear.class, new LinearShape(5, 4096, 1024).kernel(ElementType.BF16).owner());
        assertEquals(StreamingLinear.class, new LinearShape(4, 4096, 1024).kernel(ElementType.BF16).owner());
        assertEquals(TiledLinear.class, new LinearShape(5, 4096, 1024).kernel(ElementType.F16).owner());
        assertEquals(TiledLinear.class, new LinearShape(5, 4128, 1024).kernel(ElementType.BF16).owner());
        // about 16 warps an SM: 448 output blocks of 32 × one row group take four warps a block, 192 eight, and 128 (no
        // more than the SMs) sixteen; 34 rows are three row groups of 16, 384 blocks of four warps
        assertEquals(Grid.of(448, 128), new LinearShape(16, 4096, 14336).grid(ElementType.BF16));
        assertEquals(Grid.of(192, 256), new LinearShape(11, 4096, 6144).grid(ElementType.BF16));
        assertEquals(Grid.of(128, 512), new LinearShape(16, 14336, 4096).grid(ElementType.BF16));
        assertEquals(Grid.of(32, 512), new LinearShape(5, 4096, 1024).grid(ElementType.BF16));
        assertEquals(Grid.of(384, 128), new LinearShape(34, 14336, 4096).grid(ElementType.BF16));
    }

    /**
     * The warps a tensor-core block gets halve where the blocks double past about 16 warps an SM: 132 blocks (one an SM)
     * take 16, 133 take 8, 264 take 8, 265 take 4, and no grid takes fewer than 4; stacked launches go where the
     * tensor-core kernel would, not to the prompt chunks' GEMM.
     */
    @Test
    void tensorCoreBlocksGetTheWarpsThatGiveEachSmAboutSixteen() {
        assertEquals(512, new LinearShape(16, 4096, 132 * 32).tensorCoreGrid().blockX());
        assertEquals(256, new LinearShape(16, 4096, 133 * 32).tensorCoreGrid().blockX());
        assertEquals(256, new LinearShape(16, 4096, 264 * 32).tensorCoreGrid().blockX());
        assertEquals(128, new LinearShape(16, 4096, 265 * 32).tensorCoreGrid().blockX());
        assertEquals(128, new LinearShape(16, 4096, 128256).tensorCoreGrid().blockX());
        assertTrue(new LinearShape(11, 4096, 6144).stacks(ElementType.BF16));
        assertTrue(new LinearShape(45, 4096, 6144).stacks(ElementType.BF16), "past one row group, where cuBLAS is not taken");
        assertFalse(new LinearShape(LinearShape.GEMM_ROWS, 4096, 28672).stacks(ElementType.BF16));
        assertFalse(new LinearShape(4, 4096, 6144).stacks(ElementType.BF16));
        assertFalse(new LinearShape(11, 4096, 6144).stacks(ElementType.F16));
    }

    /**
     * The prompt-chunk kernel: row and output counts that leave the last row tile, output tile and block partial
     * (rows 70 = two blocks of 32 and 6; outputs 150 = a block of 128 and 22, of which the last warp's tile has 6), the
     * grid LinearShape would pick at that size, with and without bias.
     */
    @ParameterizedTest(name = "{0} rows, in {1}, out {2}, bias {3}")
    @CsvSource({"70, 128, 150, true", "64, 64, 128, false", "9, 192, 40, true"})
    void gemmBlocksMatchAFloat64Loop(int rows, int in, int out, boolean withBias) {
        checkAgainstFloat64(KernelMethod.of(TensorCoreGemm.class, "bf16"), TensorCoreGemm.grid(rows, out), "bf16", rows, in, out,
                withBias);
    }

    @Test
    void promptChunksOfBf16WeightsGoToTheGemmWhereItsBlocksFillTheSms() {
        assertEquals(TensorCoreGemm.class, new LinearShape(2048, 4096, 4096).kernel(ElementType.BF16).owner());
        assertEquals(Grid.of(64 * 32, 128), new LinearShape(2048, 4096, 4096).grid(ElementType.BF16));
        assertEquals(TensorCoreGemm.class, new LinearShape(LinearShape.GEMM_ROWS, 4096, 14336).kernel(ElementType.BF16).owner());
        // below the row threshold, or too few blocks (16 row groups × 8 output blocks), or F16 weights: not the GEMM
        assertEquals(TensorCoreLinear.class, new LinearShape(LinearShape.GEMM_ROWS - 1, 4096, 14336).kernel(ElementType.BF16).owner());
        assertEquals(TensorCoreLinear.class, new LinearShape(LinearShape.GEMM_ROWS, 4096, 1024).kernel(ElementType.BF16).owner());
        assertEquals(TiledLinear.class, new LinearShape(2048, 4096, 4096).kernel(ElementType.F16).owner());
    }

    /**
     * cuBLAS's path on the emulator (its GEMM a float loop there): row counts past one row group up to the most the
     * scratch holds, outputs that are and are not a multiple of 4, and outputs past the scratch's width, so that the
     * GEMM goes in slices of outputs (3 slices of 40, 40 and 20; 3 of 24, 24 and 22).
     */
    @ParameterizedTest(name = "{0} rows of scratch {1}, in {2}, out {3} (scratch {4} wide), bias {5}")
    @CsvSource({"17, 17, 64, 9, 9, true", "40, 48, 128, 33, 64, false", "23, 23, 32, 100, 40, true", "33, 40, 16, 70, 24, false"})
    void blasLinearMatchesAFloat64Loop(int rows, int maxRows, int in, int out, int maxColumns, boolean withBias) {
        try (EmulatedDevice device = new EmulatedDevice()) {
            BlasLinear blas = new BlasLinear(device, maxRows, in, maxColumns);
            checkAgainstFloat64("BlasLinear", "bf16", rows, in, out, withBias, (x, w, bias, y) -> blas.run(x, (BF16Array) w,
                    withBias ? bias : null, y, rows, in, out));
        }
    }

    /** q, k and v in one GEMM: each layer's outputs as its own GEMM gives them (bit for bit on the emulator), biases too. */
    @Test
    void stackedLayersGiveWhatEachLayerGivesAlone() {
        int rows = 19, in = 32;
        int[] outs = {24, 8, 8};
        try (EmulatedDevice device = new EmulatedDevice(); Arena arena = Arena.ofShared()) {
            Random random = new Random(Long.getLong("retroinfer.test.seed", System.nanoTime()));
            BlasLinear blas = new BlasLinear(device, rows, in, 40);
            BF16Array w = randomBf16(arena, 40L * in, random);
            F32Array x = randomF32(arena, (long) rows * in, random);
            F32Array[] ys = new F32Array[3], alone = new F32Array[3], biases = {randomF32(arena, 24, random), null,
                    randomF32(arena, 8, random)};
            for (int i = 0; i < 3; i++) {
                ys[i] = F32Array.allocate(arena, (long) rows * outs[i]);
                ys[i].fill(Float.NaN);
                alone[i] = F32Array.allocate(arena, (long) rows * outs[i]);
            }
            blas.runStacked(x, w, rows, in, ys, outs, biases);
            for (int i = 0, from = 0; i < 3; from += outs[i], i++) {
                blas.run(x, w.slice((long) from * in, (long) outs[i] * in), biases[i], alone[i], rows, in, outs[i]);
            }
            device.synchronize();
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(alone[i].toArray(), ys[i].toArray(), "layer " + i);
            }
            assertThrows(IllegalArgumentException.class, () -> blas.runStacked(x, w, rows, in, ys, new int[] {24, 8, 16},
                    biases));
        }
    }

    /** Gate and up in one GEMM with SwiGLU as the parts are summed: what the two layers and {@link SwiGlu#apply} give. */
    @Test
    void gatedLayersGiveSwiGluOfTheGateAndUpLayers() {
        int rows = 21, in = 48, width = 20;
        try (EmulatedDevice device = new EmulatedDevice(); Arena arena = Arena.ofShared()) {
            Random random = new Random(Long.getLong("retroinfer.test.seed", System.nanoTime()));
            BlasLinear blas = new BlasLinear(device, rows, in, 2 * width);
            BF16Array w = randomBf16(arena, 2L * width * in, random);
            F32Array x = randomF32(arena, (long) rows * in, random);
            F32Array gated = F32Array.allocate(arena, (long) rows * width), gate = F32Array.allocate(arena, (long) rows * width);
            F32Array up = F32Array.allocate(arena, (long) rows * width);
            gated.fill(Float.NaN);
            blas.runGated(x, w, gated, rows, in, width);
            blas.run(x, w.slice(0, (long) width * in), null, gate, rows, in, width);
            blas.run(x, w.slice((long) width * in, (long) width * in), null, up, rows, in, width);
            device.launch(KernelMethod.of(SwiGlu.class, "apply"), Grid.of(4, 64), gate, up, (long) rows * width);
            device.synchronize();
            assertArrayEquals(gate.toArray(), gated.toArray());
        }
    }

    private static BF16Array randomBf16(Arena arena, long n, Random random) {
        BF16Array a = BF16Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, (float) random.nextGaussian());
        return a;
    }

    private static F32Array randomF32(Arena arena, long n, Random random) {
        F32Array a = F32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, (float) random.nextGaussian());
        return a;
    }

    @Test
    void decodeRowsPastOneRowGroupGoToCublas() {
        assertTrue(new LinearShape(17, 4096, 14336).blas(ElementType.BF16));
        assertTrue(new LinearShape(LinearShape.GEMM_ROWS - 1, 4096, 14336).blas(ElementType.BF16));
        assertTrue(new LinearShape(45, 4096, 128256).blas(ElementType.BF16));
        // one row group, a prompt chunk (the GEMM), F16 weights, inputs not in whole chunks: not cuBLAS
        assertFalse(new LinearShape(16, 4096, 14336).blas(ElementType.BF16));
        assertFalse(new LinearShape(LinearShape.GEMM_ROWS, 4096, 14336).blas(ElementType.BF16));
        assertFalse(new LinearShape(45, 4096, 14336).blas(ElementType.F16));
        assertFalse(new LinearShape(45, 4128, 14336).blas(ElementType.BF16));
    }

    @Test
    void theLowPartHoldsWhatBfloat16RoundsAway() {
        Random random = new Random(Long.getLong("retroinfer.test.seed", System.nanoTime()));
        for (int i = 0; i < 10_000; i++) {
            float x = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(40) - 20));
            float hi = KMath.bf16ToFloat(KMath.floatToBf16(x)), lo = LinearParts.residual(x);
            assertEquals(x, hi + lo, 0f, "x = " + x);
            float both = hi + KMath.bf16ToFloat(KMath.floatToBf16(lo));
            assertTrue(Math.abs(both - x) <= Math.abs(x) * 0x1p-16f, "x = " + x + ": hi + bf16(lo) = " + both);
        }
    }

    private interface Launch {
        void run(F32Array x, TypedArray w, F32Array bias, F32Array y);
    }

    private static void checkAgainstFloat64(KernelMethod kernel, Grid grid, String type, int rows, int in, int out, boolean withBias) {
        checkAgainstFloat64(kernel.owner().getSimpleName() + "." + type, type, rows, in, out, withBias,
                (x, w, bias, y) -> new Emulator().launch(kernel, grid, x, w, bias, y, rows, in, out, withBias ? 1 : 0));
    }

    private static void checkAgainstFloat64(String label, String type, int rows, int in, int out, boolean withBias, Launch launch) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println(label + " " + rows + " rows: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            long n = (long) out * in;
            TypedArray w = switch (type) {
                case "bf16" -> BF16Array.allocate(arena, n);
                case "f16" -> F16Array.allocate(arena, n);
                default -> F32Array.allocate(arena, n);
            };
            for (long i = 0; i < n; i++) {
                float value = (float) random.nextGaussian();
                if (w instanceof HalfPrecisionArray h) h.set(i, value);
                else ((F32Array) w).set(i, value);
            }
            F32Array x = F32Array.allocate(arena, (long) rows * in);
            for (long i = 0; i < x.length(); i++) x.set(i, (float) random.nextGaussian());
            F32Array bias = F32Array.allocate(arena, out);
            for (int o = 0; o < out; o++) bias.set(o, (float) random.nextGaussian());
            F32Array y = F32Array.allocate(arena, (long) rows * out);
            y.fill(Float.NaN);
            launch.run(x, w, bias, y);

            WeightMatrix matrix = new WeightMatrix(DType.valueOf(type.toUpperCase()), out, in, w.segment());
            float[] cpu = new float[rows * out];
            Matmul.multiply(matrix, x.toArray(), cpu, rows);
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double exact = withBias ? bias.get(o) : 0, magnitude = Math.abs(exact);
                    for (int i = 0; i < in; i++) {
                        double term = (double) x.get((long) r * in + i) * matrix.get(o, i);
                        exact += term;
                        magnitude += Math.abs(term);
                    }
                    float got = y.get((long) r * out + o);
                    double cpuValue = cpu[r * out + o] + (withBias ? bias.get(o) : 0);
                    String where = "row " + r + ", output " + o;
                    assertTrue(Math.abs(got - exact) <= RELATIVE * magnitude, where + ": expected " + exact + ", got " + got);
                    assertTrue(Math.abs(got - cpuValue) <= RELATIVE * magnitude, where + ": the CPU's Matmul gives " + cpuValue
                            + ", the kernel " + got);
                }
            }
        }
    }
}
