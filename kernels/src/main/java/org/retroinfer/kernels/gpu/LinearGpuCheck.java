package org.retroinfer.kernels.gpu;

import java.lang.foreign.Arena;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.WeightMatrix;

/**
 * {@link Linear} on a real GPU: BF16 weights against the CPU's {@link Matmul} on random inputs with a poisoned output,
 * then the median time at Llama 3 8B's decode shapes (4096 → 4096, 4096 → 14336, 14336 → 4096, 4096 → 128256) for
 * several row counts, as GB/s of weights read beside a device-to-device copy of the same bytes (bytes read plus
 * written, the yardstick). Exits 1 if a check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.LinearGpuCheck [ROWS...]} (default 1 4 8 16).
 */
public final class LinearGpuCheck {
    private static final KernelMethod BF16 = KernelMethod.of(Linear.class, "bf16");

    private LinearGpuCheck() {}

    public static void main(String[] args) {
        long seed = System.nanoTime();
        int[] rowCounts = args.length > 0 ? java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray() : new int[] {1, 4, 8, 16};
        try (Gpu gpu = Gpu.open(CudaDriver.system(), 0, false)) {
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            Random random = new Random(seed);
            boolean ok = check(gpu, random, 5, 4096, 1000) & check(gpu, random, 16, 14336, 4096) & check(gpu, random, 1, 4096, 14336);
            GpuTiming.warmUp(gpu);
            int[][] shapes = {{4096, 4096}, {4096, 14336}, {14336, 4096}, {4096, 128256}};
            for (int[] s : shapes) {
                for (int rows : rowCounts) {
                    time(gpu, rows, s[0], s[1]);
                }
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    private static boolean check(Gpu gpu, Random random, int rows, int in, int out) {
        CudaStream stream = gpu.defaultStream();
        try (Arena arena = Arena.ofShared(); DeviceBuffer dw = gpu.allocate(2L * in * out); DeviceBuffer dx = gpu.allocate(4L * rows * in);
             DeviceBuffer dy = gpu.allocate(4L * rows * out)) {
            BF16Array w = BF16Array.allocate(arena, (long) in * out);
            for (long i = 0; i < w.length(); i++) w.set(i, (float) (random.nextGaussian() / Math.sqrt(in)));
            F32Array x = F32Array.allocate(arena, (long) rows * in);
            for (long i = 0; i < x.length(); i++) x.set(i, (float) random.nextGaussian());
            gpu.copy(w, dw.asBF16(), stream);
            gpu.copy(x, dx.asF32(), stream);
            gpu.fill(dy.asF32(), (byte) 0xFF, stream);
            gpu.launch(BF16, new LinearShape(rows, in, out).grid(), stream, dx.asF32(), dw.asBF16(), dy.asF32(), dy.asF32(), rows, in,
                    out, 0);
            F32Array y = F32Array.allocate(arena, (long) rows * out);
            gpu.copy(dy.asF32(), y, stream);
            stream.synchronize();
            float[] expected = new float[rows * out];
            Matmul.multiply(new WeightMatrix(DType.BF16, out, in, w.segment()), x.toArray(), expected, rows);
            double worst = 0;
            for (int i = 0; i < expected.length; i++) {
                double error = Math.abs(y.get(i) - expected[i]) / Math.max(1, Math.abs(expected[i]));
                worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
            }
            boolean ok = worst <= 1e-5;
            System.out.printf("check Linear.bf16 %d rows %d -> %d against the CPU Matmul: worst relative error %.2e %s%n", rows, in, out,
                    worst, ok ? "OK" : "FAILED");
            return ok;
        }
    }

    private static void time(Gpu gpu, int rows, int in, int out) {
        CudaStream stream = gpu.defaultStream();
        long weights = (long) in * out;
        try (DeviceBuffer dw = gpu.allocate(2 * weights); DeviceBuffer copy = gpu.allocate(2 * weights);
             DeviceBuffer dx = gpu.allocate(4L * rows * in); DeviceBuffer dy = gpu.allocate(4L * rows * out)) {
            gpu.fill(dw.asBF16(), (byte) 0x3C, stream);
            gpu.fill(dx.asF32(), (byte) 0x3C, stream);
            LinearShape shape = new LinearShape(rows, in, out);
            double linear = GpuTiming.medianMillis(gpu, stream, () -> gpu.launch(BF16, shape.grid(), stream, dx.asF32(), dw.asBF16(),
                    dy.asF32(), dy.asF32(), rows, in, out, 0));
            double copyMs = GpuTiming.medianMillis(gpu, stream, () -> gpu.copy(dw.asBF16(), copy.asBF16(), stream));
            double bytes = 2.0 * weights;
            double linearGbs = bytes / linear / 1e6, copyGbs = 2 * bytes / copyMs / 1e6;
            System.out.printf("time Linear.bf16 %d rows %d -> %d: %.3f ms = %.0f GB/s of weights, %.1f TFLOPS; D2D copy %.0f GB/s"
                            + " (read + written); %.1f%% of the copy%n", rows, in, out, linear, linearGbs,
                    2.0 * rows * weights / linear / 1e9, copyGbs, 100 * linearGbs / copyGbs);
        }
    }
}
