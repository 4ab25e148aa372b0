package org.retroinfer.kernels.gpu;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.WeightMatrix;

/**
 * The linear kernels on a real GPU. First {@link StreamingLinear}, {@link TiledLinear} and {@link TensorCoreLinear}
 * against the CPU's {@link Matmul} on random inputs with a poisoned output (every weight type, with and without bias, row
 * counts with a partial last row group, several of the tiled kernel's block splits and both tensor-core block sizes).
 * Then, side by side in one run, the three kernels' device time (captured in a CUDA graph, as a decode step runs them:
 * launched one by one from Java, short kernels time the host instead; {@link GpuTiming#graphMillis}) at Llama 3 8B's
 * decode shapes (4096 → 4096, 4096 → 14336, 14336 → 4096, 4096 → 128256, and 4096 → 1024 for k and
 * v) with BF16 weights, as GB/s of weights (the matrix's bytes over the time, however often the kernel reads it) and
 * TFLOPS, beside a device-to-device copy of the same bytes (read plus written, the yardstick of docs/results/gpu-decoder);
 * {@code *} marks the kernel {@link LinearShape} picks. The tiled kernel is also timed with other block splits
 * ({@link TiledLinear.Split}: warps along the inputs × row tiles × output tiles), to tune {@link LinearShape#tiledGrid()},
 * and {@link BlasLinear} (cuBLAS on the inputs' two bfloat16 parts) beside them where {@link LinearShape#blas} would
 * pick it, and the shapes' times add up to an estimate of a decode step's linear layers at each row count. Exits 1 if a
 * check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.LinearGpuCheck [ROWS...]} (default 1 4 8 15 16 32 34 64).
 *
 * <p>{@code java org.retroinfer.kernels.gpu.LinearGpuCheck prefill [ROWS...]} (default 64 128 256 512 2048): prompt
 * chunks instead: {@link TensorCoreGemm} against the CPU, then it, {@link TensorCoreLinear} and {@link BlasLinear} side
 * by side at Llama 3 8B's shapes and each row count, as TFLOPS, with the time of a prefill chunk's linear layers (LM
 * head aside).
 */
public final class LinearGpuCheck {
    private static final int[] DEFAULT_ROWS = {1, 4, 8, 15, 16, 32, 34, 64};
    /** q and o, gate and up, down, the LM head, and k and v (for the step estimate). */
    private static final int[][] LLAMA_3_8B = {{4096, 4096}, {4096, 14336}, {14336, 4096}, {4096, 128256}, {4096, 1024}};
    /** How often each shape of {@link #LLAMA_3_8B} runs in a step: per layer (32 layers) q, o; gate, up; down; once; k, v. */
    private static final int[] PER_STEP = {2 * 32, 2 * 32, 32, 1, 2 * 32};
    /** Block splits of the tiled kernel timed beside the one picked (inputs × row tiles × output tiles), to tune it. */
    private static final TiledLinear.Split[] SPLITS = {TiledLinear.Split.NARROW, TiledLinear.Split.WIDE, new TiledLinear.Split(2, 2, 1),
            new TiledLinear.Split(4, 2, 1), new TiledLinear.Split(2, 1, 2), new TiledLinear.Split(1, 2, 2), new TiledLinear.Split(2, 2, 2)};

    /** The scratch the bench's transformers give {@link BlasLinear}: 256 rows of the widest layer (the LM head in slices). */
    private static final int BLAS_ROWS = 256, BLAS_COLUMNS = 14336;

    /** Runs one linear layer on the device buffers: x (rows × in, F32), w, bias, y (rows × out, F32). */
    private interface Launch {
        void run(DeviceBuffer x, TypedArray w, DeviceBuffer bias, DeviceBuffer y);
    }

    private LinearGpuCheck() {}

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("prefill")) {
            prefill(Arrays.stream(args).skip(1).mapToInt(Integer::parseInt).toArray());
            return;
        }
        if (args.length > 0 && args[0].equals("warps")) {
            warps(Arrays.stream(args).skip(1).mapToInt(Integer::parseInt).toArray());
            return;
        }
        long seed = System.nanoTime();
        int[] rowCounts = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).toArray() : DEFAULT_ROWS;
        try (CudaDevice device = new CudaDevice(Gpu.open(CudaDriver.system(), 0, false))) {
            Gpu gpu = device.gpu();
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            Random random = new Random(seed);
            KernelMethod streaming = kernel(StreamingLinear.class, ElementType.BF16), tiled = kernel(TiledLinear.class, ElementType.BF16);
            KernelMethod tensorCores = kernel(TensorCoreLinear.class, ElementType.BF16);
            boolean ok = check(gpu, random, streaming, LinearShape::streamingGrid, ElementType.BF16, 5, 4096, 1000, false)
                    & check(gpu, random, streaming, LinearShape::streamingGrid, ElementType.BF16, 4, 14336, 4096, true)
                    & check(gpu, random, streaming, LinearShape::streamingGrid, ElementType.BF16, 1, 4096, 14336, false)
                    & check(gpu, random, tiled, LinearShape::tiledGrid, ElementType.BF16, 8, 4096, 1000, true)
                    & check(gpu, random, tiled, LinearShape::tiledGrid, ElementType.BF16, 15, 14336, 4096, false)
                    & check(gpu, random, tiled, LinearShape::tiledGrid, ElementType.BF16, 34, 4096, 14336, true)
                    & check(gpu, random, tiled, LinearShape::tiledGrid, ElementType.BF16, 64, 4096, 1000, false)
                    & check(gpu, random, kernel(TiledLinear.class, ElementType.F16), LinearShape::tiledGrid, ElementType.F16, 17, 4096, 1000, true)
                    & check(gpu, random, kernel(TiledLinear.class, ElementType.F32), LinearShape::tiledGrid, ElementType.F32, 33, 4096, 1000, false)
                    & check(gpu, random, tiled, s -> s.tiledGrid(new TiledLinear.Split(2, 2, 2)), ElementType.BF16, 34, 4096, 14336, false)
                    & check(gpu, random, tiled, s -> s.tiledGrid(new TiledLinear.Split(1, 2, 2)), ElementType.BF16, 17, 14336, 4096, true)
                    & check(gpu, random, tensorCores, LinearShape::tensorCoreGrid, ElementType.BF16, 5, 4096, 1000, true)
                    & check(gpu, random, tensorCores, LinearShape::tensorCoreGrid, ElementType.BF16, 16, 14336, 4096, false)
                    & check(gpu, random, tensorCores, LinearShape::tensorCoreGrid, ElementType.BF16, 34, 4096, 14336, true)
                    & check(gpu, random, tensorCores, LinearShape::tensorCoreGrid, ElementType.BF16, 64, 4096, 1000, false)
                    & check(gpu, random, tensorCores, s -> s.tensorCoreGrid(4), ElementType.BF16, 15, 4096, 4096, true)
                    & check(gpu, random, tensorCores, s -> s.tensorCoreGrid(8), ElementType.BF16, 33, 14336, 1024, false)
                    & checkBlas(device, random, 17, 4096, 1000, true, BLAS_COLUMNS)
                    & checkBlas(device, random, 45, 4096, 14336, false, BLAS_COLUMNS)
                    & checkBlas(device, random, 33, 14336, 4096, true, BLAS_COLUMNS)
                    & checkBlas(device, random, 45, 4096, 20000, false, 4096);
            GpuTiming.warmUp(gpu);
            System.out.println("time, BF16 weights: streaming = StreamingLinear (4 rows a pass), tiled = TiledLinear (4 outputs x 8"
                    + " rows a thread; splits: warps along the inputs x row tiles x output tiles a block), tensor = TensorCoreLinear"
                    + " (mma.sync, 16 rows x 32 outputs a block; 4 or 8 warps along the inputs); * the one LinearShape picks");
            double[][][] times = new double[LLAMA_3_8B.length][][];
            for (int s = 0; s < LLAMA_3_8B.length; s++) {
                times[s] = time(device, rowCounts, LLAMA_3_8B[s][0], LLAMA_3_8B[s][1]);
            }
            System.out.println("a Llama 3 8B decode step's linear layers (32 x (q, k, v, o, gate, up, down) + LM head):");
            for (int r = 0; r < rowCounts.length; r++) {
                double streamingStep = 0, pickedStep = 0, tiledStep = 0, kernelStep = 0;
                for (int s = 0; s < LLAMA_3_8B.length; s++) {
                    streamingStep += PER_STEP[s] * times[s][r][0];
                    pickedStep += PER_STEP[s] * times[s][r][1];
                    tiledStep += PER_STEP[s] * times[s][r][2];
                    kernelStep += PER_STEP[s] * times[s][r][3];
                }
                System.out.printf("  %2d rows: streaming only %6.2f ms, tiled only %6.2f ms, as LinearShape picks %6.2f ms (the"
                        + " project's kernels only %6.2f ms)%n", rowCounts[r], streamingStep, tiledStep, pickedStep, kernelStep);
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    private static void prefill(int[] rowCounts) {
        int[] rows = rowCounts.length > 0 ? rowCounts : new int[] {64, 128, 256, 512, 2048};
        long seed = System.nanoTime();
        try (CudaDevice device = new CudaDevice(Gpu.open(CudaDriver.system(), 0, false))) {
            Gpu gpu = device.gpu();
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            Random random = new Random(seed);
            KernelMethod gemm = KernelMethod.of(TensorCoreGemm.class, "bf16");
            KernelMethod tensorCores = kernel(TensorCoreLinear.class, ElementType.BF16);
            boolean ok = check(gpu, random, gemm, s -> TensorCoreGemm.grid(s.rows(), s.out()), ElementType.BF16, 200, 4096, 1000, true)
                    & check(gpu, random, gemm, s -> TensorCoreGemm.grid(s.rows(), s.out()), ElementType.BF16, 131, 14336, 4096, false);
            GpuTiming.warmUp(gpu);
            CudaStream stream = gpu.defaultStream();
            int most = Arrays.stream(rows).max().orElseThrow();
            double[] gemmChunk = new double[rows.length], tensorChunk = new double[rows.length], pickedChunk = new double[rows.length];
            double[] blasChunk = new double[rows.length];
            System.out.println("time, BF16 weights: gemm = TensorCoreGemm (32 rows x 32 outputs a warp), tensor = TensorCoreLinear"
                    + " (16 x 32, the grid LinearShape gives it), cublas = BlasLinear (both bfloat16 parts in one cuBLAS GEMM; TFLOPS"
                    + " of the layer, half what cuBLAS runs); * the one LinearShape picks");
            for (int s = 0; s < LLAMA_3_8B.length - 2; s++) {
                int in = LLAMA_3_8B[s][0], out = LLAMA_3_8B[s][1];
                try (DeviceBuffer dw = gpu.allocate(2L * in * out); DeviceBuffer dx = gpu.allocate(4L * most * in);
                     DeviceBuffer dy = gpu.allocate(4L * most * out)) {
                    gpu.fill(dw.asBF16(), (byte) 0x3C, stream);
                    gpu.fill(dx.asF32(), (byte) 0x3C, stream);
                    System.out.printf("%d -> %d%n", in, out);
                    BlasLinear blas = new BlasLinear(device, most, in, out);
                    for (int r = 0; r < rows.length; r++) {
                        LinearShape shape = new LinearShape(rows[r], in, out);
                        double g = millis(gpu, stream, gemm, TensorCoreGemm.grid(rows[r], out), dx, dw, dy, shape);
                        double t = millis(gpu, stream, tensorCores, shape.tensorCoreGrid(), dx, dw, dy, shape);
                        double b = blasMillis(device, blas, dx, dw, dy, shape);
                        double flops = 2.0 * rows[r] * in * out;
                        boolean picksGemm = shape.gemm(ElementType.BF16);
                        System.out.printf("  %4d rows: gemm%s %8.3f ms %6.1f TFLOPS | tensor%s %8.3f ms %6.1f TFLOPS | cublas %8.3f ms"
                                        + " %6.1f TFLOPS | gemm/tensor %.2f, cublas/gemm %.2f%n", rows[r], picksGemm ? "*" : " ", g,
                                flops / g / 1e9, picksGemm ? " " : "*", t, flops / t / 1e9, b, flops / b / 1e9, g / t, b / g);
                        blasChunk[r] += PER_STEP[s] * b;
                        gemmChunk[r] += PER_STEP[s] * g;
                        tensorChunk[r] += PER_STEP[s] * t;
                        pickedChunk[r] += PER_STEP[s] * (picksGemm ? g : t);
                    }
                }
            }
            // k and v (4096 -> 1024) too, for the chunk's total
            int[] kv = LLAMA_3_8B[LLAMA_3_8B.length - 1];
            try (DeviceBuffer dw = gpu.allocate(2L * kv[0] * kv[1]); DeviceBuffer dx = gpu.allocate(4L * most * kv[0]);
                 DeviceBuffer dy = gpu.allocate(4L * most * kv[1])) {
                gpu.fill(dw.asBF16(), (byte) 0x3C, stream);
                gpu.fill(dx.asF32(), (byte) 0x3C, stream);
                BlasLinear blas = new BlasLinear(device, most, kv[0], kv[1]);
                for (int r = 0; r < rows.length; r++) {
                    LinearShape shape = new LinearShape(rows[r], kv[0], kv[1]);
                    double g = millis(gpu, stream, gemm, TensorCoreGemm.grid(rows[r], kv[1]), dx, dw, dy, shape);
                    double t = millis(gpu, stream, tensorCores, shape.tensorCoreGrid(), dx, dw, dy, shape);
                    double b = blasMillis(device, blas, dx, dw, dy, shape);
                    System.out.printf("%d -> %d, %4d rows: gemm%s %8.3f ms | tensor%s %8.3f ms | cublas %8.3f ms%n", kv[0], kv[1], rows[r],
                            shape.gemm(ElementType.BF16) ? "*" : " ", g, shape.gemm(ElementType.BF16) ? " " : "*", t, b);
                    int perStep = PER_STEP[PER_STEP.length - 1];
                    blasChunk[r] += perStep * b;
                    gemmChunk[r] += perStep * g;
                    tensorChunk[r] += perStep * t;
                    pickedChunk[r] += perStep * (shape.gemm(ElementType.BF16) ? g : t);
                }
            }
            System.out.println("a Llama 3 8B prefill chunk's linear layers (32 x (q, k, v, o, gate, up, down)):");
            for (int r = 0; r < rows.length; r++) {
                System.out.printf("  %4d rows: gemm only %8.2f ms, tensor only %8.2f ms, as LinearShape picks %8.2f ms, cublas only"
                        + " %8.2f ms%n", rows[r], gemmChunk[r], tensorChunk[r], pickedChunk[r], blasChunk[r]);
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    /**
     * {@link TensorCoreLinear} at 4, 8 and 16 warps a block for each decode shape of Llama 3 8B, the stacked ones (q, k
     * and v: 4096 → 6144; gate and up: 4096 → 28672) among them, and a step's linear layers (LM head aside), one by one
     * and stacked, at the warps {@link LinearShape} picks, at those of the rule before it, and at each shape's fastest. Each timed launch reads another copy of the weights, the copies together four times
     * the L2, so that no launch finds its weights there, as no decode step does. First the stacked kernel and sixteen
     * warps against the CPU.
     */
    private static void warps(int[] rowCounts) {
        int[] rows = rowCounts.length > 0 ? rowCounts : new int[] {5, 8, 11, 16};
        int[][] shapes = {{4096, 4096}, {4096, 1024}, {4096, 6144}, {4096, 14336}, {4096, 28672}, {14336, 4096}};
        String[] names = {"q, o", "k, v", "q+k+v stacked", "gate, up", "gate+up stacked", "down"};
        int[] counts = {4, 8, 16};
        long seed = System.nanoTime();
        try (CudaDevice device = new CudaDevice(Gpu.open(CudaDriver.system(), 0, false))) {
            Gpu gpu = device.gpu();
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            Random random = new Random(seed);
            KernelMethod tensorCores = kernel(TensorCoreLinear.class, ElementType.BF16);
            boolean ok = check(gpu, random, tensorCores, s -> s.tensorCoreGrid(16), ElementType.BF16, 11, 4096, 4096, true)
                    & check(gpu, random, tensorCores, s -> s.tensorCoreGrid(16), ElementType.BF16, 5, 14336, 1024, false)
                    & checkStacked(gpu, random, 11, 16, new int[] {4096, 1024, 1024}, 16)
                    & checkStacked(gpu, random, 7, 9, new int[] {14336, 14336, 0}, 4);
            GpuTiming.warmUp(gpu);
            CudaStream stream = gpu.defaultStream();
            int most = Arrays.stream(rows).max().orElseThrow();
            double[][][] ms = new double[shapes.length][rows.length][counts.length];
            for (int s = 0; s < shapes.length; s++) {
                int in = shapes[s][0], out = shapes[s][1];
                long bytes = 2L * in * out;
                int copies = (int) Math.max(2, (4L * 60 * 1024 * 1024 + bytes - 1) / bytes);
                DeviceBuffer[] ws = new DeviceBuffer[copies];
                try (DeviceBuffer dx = gpu.allocate(4L * most * in); DeviceBuffer dy = gpu.allocate(4L * most * out)) {
                    for (int c = 0; c < copies; c++) {
                        ws[c] = gpu.allocate(bytes);
                        gpu.fill(ws[c].asBF16(), (byte) 0x3C, stream);
                    }
                    gpu.fill(dx.asF32(), (byte) 0x3C, stream);
                    System.out.printf("%s, %d -> %d: %.1f MB of weights, %d copies%n", names[s], in, out, bytes / 1e6, copies);
                    for (int r = 0; r < rows.length; r++) {
                        LinearShape shape = new LinearShape(rows[r], in, out);
                        StringBuilder line = new StringBuilder(String.format("  %2d rows:", rows[r]));
                        for (int c = 0; c < counts.length; c++) {
                            Grid grid = shape.tensorCoreGrid(counts[c]);
                            int[] next = {0};
                            ms[s][r][c] = GpuTiming.graphMillis(gpu, stream, () -> gpu.launch(tensorCores, grid, stream, dx.asF32(),
                                    ws[next[0]++ % copies].asBF16(), dy.asF32(), dy.asF32(), shape.rows(), in, out, 0));
                            line.append(String.format(" | %2d warps (%d blocks) %.4f ms %5.0f GB/s", counts[c], grid.gridX(), ms[s][r][c],
                                    bytes / ms[s][r][c] / 1e6));
                        }
                        line.append(String.format(" | LinearShape's grid: %d threads", shape.tensorCoreGrid().blockX()));
                        System.out.println(line);
                    }
                } finally {
                    for (DeviceBuffer b : ws) {
                        if (b != null) b.close();
                    }
                }
            }
            System.out.println("a Llama 3 8B decode step's linear layers, LM head aside (ms; 32 layers), each shape at the warps"
                    + " LinearShape picks, at 8 warps where it has at most 132 blocks and 4 otherwise (the rule before), and at its fastest:");
            // per layer: q and o, k and v, gate and up twice each when one by one; q, o, the two stacks and down once each
            int[] separate = {2, 2, 0, 2, 0, 1}, stacked = {1, 0, 1, 0, 1, 1};
            for (int r = 0; r < rows.length; r++) {
                double[][] step = new double[3][2];
                for (int s = 0; s < shapes.length; s++) {
                    LinearShape shape = new LinearShape(rows[r], shapes[s][0], shapes[s][1]);
                    int picked = Arrays.binarySearch(counts, shape.tensorCoreGrid().blockX() / 32);
                    int before = shape.tensorCoreGrid(4).gridX() <= 132 ? 1 : 0;
                    double[] times = {ms[s][r][picked], ms[s][r][before], Arrays.stream(ms[s][r]).min().orElseThrow()};
                    for (int k = 0; k < 3; k++) {
                        step[k][0] += 32 * separate[s] * times[k];
                        step[k][1] += 32 * stacked[s] * times[k];
                    }
                }
                System.out.printf("  %2d rows: LinearShape's warps: one by one %.2f, stacked %.2f | the rule before: one by one %.2f,"
                        + " stacked %.2f | fastest: one by one %.2f, stacked %.2f%n", rows[r], step[0][0], step[0][1], step[1][0],
                        step[1][1], step[2][0], step[2][1]);
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    /**
     * {@link TensorCoreLinear#bf16Stacked} on the GPU: each part ({@code widths}; a last width of 0 makes two parts) of a
     * workspace of {@code capacity} rows against the CPU's Matmul of that part's weights and bias.
     */
    private static boolean checkStacked(Gpu gpu, Random random, int rows, int capacity, int[] widths, int warps) {
        CudaStream stream = gpu.defaultStream();
        int in = 4096, out = Arrays.stream(widths).sum();
        int[] starts = {0, widths[0], widths[0] + widths[1]};
        long n = (long) in * out;
        try (Arena arena = Arena.ofShared(); DeviceBuffer dw = gpu.allocate(2 * n); DeviceBuffer dx = gpu.allocate(4L * rows * in);
             DeviceBuffer dy = gpu.allocate(4L * capacity * out); DeviceBuffer db = gpu.allocate(4L * out)) {
            BF16Array w = BF16Array.allocate(arena, n);
            for (long i = 0; i < n; i++) w.set(i, (float) (random.nextGaussian() / Math.sqrt(in)));
            F32Array x = F32Array.allocate(arena, (long) rows * in), bias = F32Array.allocate(arena, out);
            for (long i = 0; i < x.length(); i++) x.set(i, (float) random.nextGaussian());
            for (int o = 0; o < out; o++) bias.set(o, (float) random.nextGaussian());
            gpu.copy(w, dw.asBF16(), stream);
            gpu.copy(x, dx.asF32(), stream);
            gpu.copy(bias, db.asF32(), stream);
            gpu.fill(dy.asF32(), (byte) 0xFF, stream);
            gpu.launch(LinearShape.TENSOR_CORES_STACKED, new LinearShape(rows, in, out).tensorCoreGrid(warps), stream, dx.asF32(), dw.asBF16(),
                    db.asF32(), dy.asF32(), rows, in, out, 1, capacity, starts[1], starts[2]);
            F32Array y = F32Array.allocate(arena, (long) capacity * out);
            gpu.copy(dy.asF32(), y, stream);
            stream.synchronize();
            double worst = 0;
            for (int p = 0; p < 3; p++) {
                if (widths[p] == 0) continue;
                float[] expected = new float[rows * widths[p]];
                Matmul.multiply(new WeightMatrix(DType.BF16, widths[p], in, w.segment().asSlice(2L * starts[p] * in, 2L * widths[p] * in)),
                        x.toArray(), expected, rows);
                for (int i = 0; i < expected.length; i++) {
                    double want = expected[i] + bias.get(starts[p] + i % widths[p]);
                    double error = Math.abs(y.get((long) capacity * starts[p] + i) - want) / Math.max(1, Math.abs(want));
                    worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
                }
            }
            boolean ok = worst <= 5e-5;
            System.out.printf("check TensorCoreLinear.bf16Stacked %d rows (of %d) %d -> %s + bias, %d warps, against the CPU Matmul: worst"
                    + " relative error %.2e %s%n", rows, capacity, in, Arrays.toString(widths), warps, worst, ok ? "OK" : "FAILED");
            return ok;
        }
    }

    /** One launch of {@code kernel} on the grid {@code grid} gives for the shape, against the CPU. */
    private static boolean check(Gpu gpu, Random random, KernelMethod kernel, Function<LinearShape, Grid> grid, ElementType type, int rows,
            int in, int out, boolean withBias) {
        CudaStream stream = gpu.defaultStream();
        Grid launch = grid.apply(new LinearShape(rows, in, out));
        // F32 sums in any order stay within ~2e-6 of the outputs' scale; tensor cores sum with less precision
        // (0.9-1.9e-5 measured on an H100, see TensorCoreLinear), so that kernel is allowed 5e-5
        double allowed = kernel.owner() == TensorCoreLinear.class || kernel.owner() == TensorCoreGemm.class ? 5e-5 : 1e-5;
        return check(gpu, stream, random, kernel.owner().getSimpleName() + "." + kernel.name(), " on " + launch, allowed, type, rows, in,
                out, withBias, (dx, w, db, dy) -> gpu.launch(kernel, launch, stream, dx.asF32(), w, db.asF32(), dy.asF32(), rows, in,
                        out, withBias ? 1 : 0));
    }

    /**
     * {@link BlasLinear} on {@code device}'s stream, against the CPU; allowed the tensor-core kernels' error. Its scratch
     * holds {@link #BLAS_ROWS} rows of {@code columns} outputs, so wider layers go in slices.
     */
    private static boolean checkBlas(CudaDevice device, Random random, int rows, int in, int out, boolean withBias, int columns) {
        BlasLinear blas = new BlasLinear(device, BLAS_ROWS, in, columns);
        int slices = (out + columns - 1) / columns;
        String label = "BlasLinear (cuBLAS, " + slices + " GEMM" + (slices > 1 ? "s" : "") + ")";
        return check(device.gpu(), device.stream(), random, label, "", 5e-5, ElementType.BF16, rows, in, out, withBias,
                (dx, w, db, dy) -> blas.run(dx.asF32(), (BF16Array) w, withBias ? db.asF32() : null, dy.asF32(), rows, in, out));
    }

    private static boolean check(Gpu gpu, CudaStream stream, Random random, String label, String where, double allowed, ElementType type,
            int rows, int in, int out, boolean withBias, Launch run) {
        long n = (long) in * out;
        try (Arena arena = Arena.ofShared(); DeviceBuffer dw = gpu.allocate(type.bytes() * n); DeviceBuffer dx = gpu.allocate(4L * rows * in);
             DeviceBuffer dy = gpu.allocate(4L * rows * out); DeviceBuffer db = gpu.allocate(4L * out)) {
            TypedArray w = switch (type) {
                case BF16 -> BF16Array.allocate(arena, n);
                case F16 -> F16Array.allocate(arena, n);
                default -> F32Array.allocate(arena, n);
            };
            for (long i = 0; i < n; i++) {
                float value = (float) (random.nextGaussian() / Math.sqrt(in));
                if (w instanceof HalfPrecisionArray h) h.set(i, value);
                else ((F32Array) w).set(i, value);
            }
            F32Array x = F32Array.allocate(arena, (long) rows * in);
            for (long i = 0; i < x.length(); i++) x.set(i, (float) random.nextGaussian());
            F32Array bias = F32Array.allocate(arena, out);
            for (int o = 0; o < out; o++) bias.set(o, (float) random.nextGaussian());
            TypedArray deviceWeights = switch (type) {
                case BF16 -> dw.asBF16();
                case F16 -> dw.asF16();
                default -> dw.asF32();
            };
            gpu.copy(w, deviceWeights, stream);
            gpu.copy(x, dx.asF32(), stream);
            gpu.copy(bias, db.asF32(), stream);
            gpu.fill(dy.asF32(), (byte) 0xFF, stream);
            run.run(dx, deviceWeights, db, dy);
            F32Array y = F32Array.allocate(arena, (long) rows * out);
            gpu.copy(dy.asF32(), y, stream);
            stream.synchronize();
            float[] expected = new float[rows * out];
            Matmul.multiply(new WeightMatrix(DType.valueOf(type.name()), out, in, w.segment()), x.toArray(), expected, rows);
            double worst = 0;
            for (int i = 0; i < expected.length; i++) {
                double want = expected[i] + (withBias ? bias.get(i % out) : 0);
                double error = Math.abs(y.get(i) - want) / Math.max(1, Math.abs(want));
                worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
            }
            boolean ok = worst <= allowed;
            System.out.printf("check %s %d rows %d -> %d%s%s against the CPU Matmul: worst relative error %.2e %s%n", label, rows, in,
                    out, withBias ? " + bias" : "", where, worst, ok ? "OK" : "FAILED");
            return ok;
        }
    }

    /** {@code owner}'s kernel for weights of {@code type}: its one 16-bit kernel serves F16 and BF16 alike. */
    private static KernelMethod kernel(Class<?> owner, ElementType type) {
        return KernelMethod.of(owner, type == ElementType.F32 ? "f32" : owner == TensorCoreLinear.class ? "bf16" : "half");
    }

    /**
     * Both kernels at every row count for one shape, the matrix and buffers allocated once for the largest; per row
     * count the streaming kernel's time and the time of the kernel {@link LinearShape} picks.
     */
    private static double[][] time(CudaDevice device, int[] rowCounts, int in, int out) {
        Gpu gpu = device.gpu();
        CudaStream stream = device.stream();
        BlasLinear blas = new BlasLinear(device, BLAS_ROWS, in, BLAS_COLUMNS);
        long weights = (long) in * out;
        int most = Arrays.stream(rowCounts).max().orElseThrow();
        try (DeviceBuffer dw = gpu.allocate(2 * weights); DeviceBuffer copy = gpu.allocate(2 * weights);
             DeviceBuffer dx = gpu.allocate(4L * most * in); DeviceBuffer dy = gpu.allocate(4L * most * out)) {
            gpu.fill(dw.asBF16(), (byte) 0x3C, stream);
            gpu.fill(dx.asF32(), (byte) 0x3C, stream);
            double bytes = 2.0 * weights;
            double copyMs = GpuTiming.graphMillis(gpu, stream, () -> gpu.copy(dw.asBF16(), copy.asBF16(), stream));
            double[][] times = new double[rowCounts.length][];
            System.out.printf("%d -> %d: %.1f MB of weights, D2D copy %.3f ms = %.0f GB/s (read + written)%n", in, out, bytes / 1e6,
                    copyMs, 2 * bytes / copyMs / 1e6);
            for (int r = 0; r < rowCounts.length; r++) {
                int rows = rowCounts[r];
                LinearShape shape = new LinearShape(rows, in, out);
                Grid tiledGrid = shape.tiledGrid();
                double streaming = millis(gpu, stream, kernel(StreamingLinear.class, ElementType.BF16), shape.streamingGrid(), dx, dw, dy, shape);
                double tiled = millis(gpu, stream, kernel(TiledLinear.class, ElementType.BF16), tiledGrid, dx, dw, dy, shape);
                KernelMethod tensorCores = kernel(TensorCoreLinear.class, ElementType.BF16);
                double tensor = millis(gpu, stream, tensorCores, shape.tensorCoreGrid(), dx, dw, dy, shape);
                double tensor4 = millis(gpu, stream, tensorCores, shape.tensorCoreGrid(4), dx, dw, dy, shape);
                double tensor8 = millis(gpu, stream, tensorCores, shape.tensorCoreGrid(8), dx, dw, dy, shape);
                double flops = 2.0 * rows * weights;
                StringBuilder splits = new StringBuilder();
                for (TiledLinear.Split split : SPLITS) {
                    double ms = millis(gpu, stream, kernel(TiledLinear.class, ElementType.BF16), shape.tiledGrid(split), dx, dw, dy, shape);
                    splits.append(String.format(" %s %.3f", split, ms));
                }
                double cublas = blasMillis(device, blas, dx, dw, dy, shape);
                boolean picksBlas = shape.blas(ElementType.BF16), picksTensor = !picksBlas && shape.tensorCores(ElementType.BF16);
                System.out.printf("  %2d rows: streaming%s %7.3f ms %5.0f GB/s %5.1f TFLOPS | tiled %7.3f ms %5.0f GB/s %5.1f TFLOPS"
                                + " | tensor%s %7.3f ms %5.0f GB/s %5.1f TFLOPS (%d blocks of %d; 4 warps %.3f, 8 warps %.3f)"
                                + " | cublas%s %7.3f ms %5.0f GB/s | tensor/streaming %.2f, tensor/tiled %.2f, cublas/tensor %.2f"
                                + " | tiled splits (ms):%s%n", rows, picksTensor || picksBlas ? " " : "*",
                        streaming, bytes / streaming / 1e6, flops / streaming / 1e9, tiled, bytes / tiled / 1e6, flops / tiled / 1e9,
                        picksTensor ? "*" : " ", tensor, bytes / tensor / 1e6, flops / tensor / 1e9, shape.tensorCoreGrid().gridX(),
                        shape.tensorCoreGrid().blockX(), tensor4, tensor8, picksBlas ? "*" : " ", cublas, bytes / cublas / 1e6,
                        tensor / streaming, tensor / tiled, cublas / tensor, splits);
                double kernels = shape.tensorCores(ElementType.BF16) ? tensor : streaming;
                times[r] = new double[] {streaming, picksBlas ? cublas : kernels, tiled, kernels};
            }
            return times;
        }
    }

    /** {@link BlasLinear} on the device's stream, timed as {@link #millis} times a kernel. */
    private static double blasMillis(CudaDevice device, BlasLinear blas, DeviceBuffer dx, DeviceBuffer dw, DeviceBuffer dy,
            LinearShape shape) {
        return GpuTiming.graphMillis(device.gpu(), device.stream(), () -> blas.run(dx.asF32(), dw.asBF16(), null, dy.asF32(),
                shape.rows(), shape.in(), shape.out()));
    }

    private static double millis(Gpu gpu, CudaStream stream, KernelMethod kernel, Grid grid, DeviceBuffer dx, DeviceBuffer dw,
            DeviceBuffer dy, LinearShape shape) {
        return GpuTiming.graphMillis(gpu, stream, () -> gpu.launch(kernel, grid, stream, dx.asF32(), dw.asBF16(), dy.asF32(),
                dy.asF32(), shape.rows(), shape.in(), shape.out(), 0));
    }
}
