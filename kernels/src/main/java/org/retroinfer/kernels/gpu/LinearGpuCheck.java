package org.retroinfer.kernels.gpu;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
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
 * The linear kernels on a real GPU. First {@link StreamingLinear} and {@link TiledLinear} against the CPU's
 * {@link Matmul} on random inputs with a poisoned output (every weight type, with and without bias, row counts with a
 * partial last row group). Then, side by side in one run, both kernels' median time at Llama 3 8B's decode shapes
 * (4096 → 4096, 4096 → 14336, 14336 → 4096, 4096 → 128256) with BF16 weights, as GB/s of weights read (bytes of the
 * matrix over the time, however often the kernel reads it) and TFLOPS, beside a device-to-device copy of the same bytes
 * (read plus written, the yardstick of docs/results/gpu-decoder); {@code *} marks the kernel {@link LinearShape} picks.
 * Exits 1 if a check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.LinearGpuCheck [ROWS...]} (default 1 4 8 15 16 32 34 64).
 */
public final class LinearGpuCheck {
    private static final int[] DEFAULT_ROWS = {1, 4, 8, 15, 16, 32, 34, 64};
    private static final int[][] LLAMA_3_8B = {{4096, 4096}, {4096, 14336}, {14336, 4096}, {4096, 128256}};

    private LinearGpuCheck() {}

    public static void main(String[] args) {
        long seed = System.nanoTime();
        int[] rowCounts = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).toArray() : DEFAULT_ROWS;
        try (Gpu gpu = Gpu.open(CudaDriver.system(), 0, false)) {
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            Random random = new Random(seed);
            boolean ok = check(gpu, random, false, ElementType.BF16, 5, 4096, 1000, false)
                    & check(gpu, random, false, ElementType.BF16, 4, 14336, 4096, true)
                    & check(gpu, random, false, ElementType.BF16, 1, 4096, 14336, false)
                    & check(gpu, random, true, ElementType.BF16, 8, 4096, 1000, true)
                    & check(gpu, random, true, ElementType.BF16, 15, 14336, 4096, false)
                    & check(gpu, random, true, ElementType.BF16, 34, 4096, 14336, true)
                    & check(gpu, random, true, ElementType.BF16, 64, 4096, 1000, false)
                    & check(gpu, random, true, ElementType.F16, 17, 4096, 1000, true)
                    & check(gpu, random, true, ElementType.F32, 33, 4096, 1000, false);
            GpuTiming.warmUp(gpu);
            System.out.println("time, BF16 weights: streaming = StreamingLinear (4 rows a pass), tiled = TiledLinear (8 rows a"
                    + " row group); * the one LinearShape picks");
            for (int[] s : LLAMA_3_8B) {
                time(gpu, rowCounts, s[0], s[1]);
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    private static boolean check(Gpu gpu, Random random, boolean tiled, ElementType type, int rows, int in, int out, boolean withBias) {
        CudaStream stream = gpu.defaultStream();
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
            LinearShape shape = new LinearShape(rows, in, out);
            KernelMethod kernel = kernel(tiled, type);
            gpu.launch(kernel, tiled ? shape.tiledGrid() : shape.streamingGrid(), stream, dx.asF32(), deviceWeights, db.asF32(),
                    dy.asF32(), rows, in, out, withBias ? 1 : 0);
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
            boolean ok = worst <= 1e-5;
            System.out.printf("check %s.%s %d rows %d -> %d%s against the CPU Matmul: worst relative error %.2e %s%n",
                    kernel.owner().getSimpleName(), kernel.name(), rows, in, out, withBias ? " + bias" : "", worst, ok ? "OK" : "FAILED");
            return ok;
        }
    }

    private static KernelMethod kernel(boolean tiled, ElementType type) {
        return KernelMethod.of(tiled ? TiledLinear.class : StreamingLinear.class, type.name().toLowerCase());
    }

    /** Both kernels at every row count for one shape, the matrix and buffers allocated once for the largest. */
    private static void time(Gpu gpu, int[] rowCounts, int in, int out) {
        CudaStream stream = gpu.defaultStream();
        long weights = (long) in * out;
        int most = Arrays.stream(rowCounts).max().orElseThrow();
        try (DeviceBuffer dw = gpu.allocate(2 * weights); DeviceBuffer copy = gpu.allocate(2 * weights);
             DeviceBuffer dx = gpu.allocate(4L * most * in); DeviceBuffer dy = gpu.allocate(4L * most * out)) {
            gpu.fill(dw.asBF16(), (byte) 0x3C, stream);
            gpu.fill(dx.asF32(), (byte) 0x3C, stream);
            double bytes = 2.0 * weights;
            double copyMs = GpuTiming.medianMillis(gpu, stream, () -> gpu.copy(dw.asBF16(), copy.asBF16(), stream));
            System.out.printf("%d -> %d: %.1f MB of weights, D2D copy %.3f ms = %.0f GB/s (read + written)%n", in, out, bytes / 1e6,
                    copyMs, 2 * bytes / copyMs / 1e6);
            for (int rows : rowCounts) {
                LinearShape shape = new LinearShape(rows, in, out);
                double streaming = millis(gpu, stream, kernel(false, ElementType.BF16), shape.streamingGrid(), dx, dw, dy, shape);
                double tiled = millis(gpu, stream, kernel(true, ElementType.BF16), shape.tiledGrid(), dx, dw, dy, shape);
                double flops = 2.0 * rows * weights;
                System.out.printf("  %2d rows: streaming%s %7.3f ms %5.0f GB/s %5.1f TFLOPS | tiled%s %7.3f ms %5.0f GB/s %5.1f TFLOPS"
                                + " | tiled/streaming %.2f%n", rows, shape.tiled() ? " " : "*", streaming, bytes / streaming / 1e6,
                        flops / streaming / 1e9, shape.tiled() ? "*" : " ", tiled, bytes / tiled / 1e6, flops / tiled / 1e9,
                        tiled / streaming);
            }
        }
    }

    private static double millis(Gpu gpu, CudaStream stream, KernelMethod kernel, Grid grid, DeviceBuffer dx, DeviceBuffer dw,
            DeviceBuffer dy, LinearShape shape) {
        return GpuTiming.medianMillis(gpu, stream, () -> gpu.launch(kernel, grid, stream, dx.asF32(), dw.asBF16(), dy.asF32(),
                dy.asF32(), shape.rows(), shape.in(), shape.out(), 0));
    }
}
