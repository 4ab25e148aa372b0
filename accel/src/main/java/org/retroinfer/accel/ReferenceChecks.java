package org.retroinfer.accel;

import java.lang.foreign.Arena;
import java.util.Random;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.examples.ElementwiseKernels;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.plan.ExecutionPlan;
import org.retroinfer.accel.plan.TaskGraph;
import org.retroinfer.accel.plan.TransferMode;

/** The GPU checks beyond the example kernels: the copy roofline, cuBLAS, CUDA graphs, the JIT error path. */
final class ReferenceChecks {
    private ReferenceChecks() {}

    /** cuMemcpyDtoDAsync between two buffers of {@code bytes}: the bandwidth yardstick (read + write bytes). */
    static Json.Obj deviceCopy(Gpu gpu, long bytes, int reps) {
        try (DeviceBuffer a = gpu.allocate(bytes); DeviceBuffer b = gpu.allocate(bytes)) {
            CudaStream s = gpu.defaultStream();
            gpu.fill(a.asI8(), (byte) 1, s);
            double ms = GpuTimer.medianMillis(gpu, s, 2, reps,
                    () -> gpu.driver().copyDeviceToDevice(b.region().deviceAddress(), a.region().deviceAddress(), bytes, s.handle()));
            return Json.object().put("name", "cuMemcpyDtoDAsync").put("bytes", 2 * bytes).put("ms", ms)
                    .put("gbps", 2.0 * bytes / ms / 1e6);
        }
    }

    /** A module with a deliberate error must fail with the driver's JIT log in the exception. */
    static Json.Obj brokenPtx(Gpu gpu) {
        String ptx = ".version 7.8\n.target " + gpu.info().target().smName()
                + "\n.address_size 64\n.visible .entry broken() { add.f32 %f1, %f2, 1.0; ret; }\n";
        try {
            gpu.driver().loadModule(ptx);
            return Json.object().put("ok", false).put("detail", "the driver accepted broken PTX");
        } catch (CudaException e) {
            boolean ok = e.getMessage().contains("JIT error log");
            return Json.object().put("ok", ok).put("detail", e.getMessage());
        }
    }

    /**
     * cuBLAS GEMM in bfloat16 (n × n × n, float accumulation), checked on sampled entries against a float64
     * reference; the figure of merit is TFLOP/s.
     */
    static Json.Obj gemm(Gpu gpu, Cublas blas, int n, int reps, long seed) {
        Random r = new Random(seed);
        long elements = (long) n * n;
        try (Arena arena = Arena.ofShared(); DeviceBuffer da = gpu.allocate(2 * elements); DeviceBuffer db = gpu.allocate(2 * elements);
             DeviceBuffer dc = gpu.allocate(4 * elements)) {
            BF16Array a = BF16Array.allocate(arena, elements);
            BF16Array b = BF16Array.allocate(arena, elements);
            for (long i = 0; i < elements; i++) {
                a.set(i, r.nextFloat() * 2 - 1);
                b.set(i, r.nextFloat() * 2 - 1);
            }
            CudaStream s = gpu.defaultStream();
            gpu.copy(a, da.asBF16(), s);
            gpu.copy(b, db.asBF16(), s);
            Runnable work = () -> blas.gemm(s, false, false, n, n, n, 1f, da.asBF16(), n, db.asBF16(), n, 0f, dc.asF32(), n);
            work.run();
            F32Array c = F32Array.allocate(arena, elements);
            gpu.copy(dc.asF32(), c, s);
            s.synchronize();
            double worst = 0;
            for (int sample = 0; sample < 64; sample++) {
                int i = r.nextInt(n);
                int j = r.nextInt(n);
                double ref = 0;
                for (int p = 0; p < n; p++) {
                    ref += (double) a.get((long) p * n + i) * b.get((long) j * n + p);
                }
                worst = Math.max(worst, Math.abs(ref - c.get((long) j * n + i)) / Math.sqrt(n));
            }
            double ms = GpuTimer.medianMillis(gpu, s, 2, reps, work);
            boolean ok = worst < 1e-3;
            return Json.object().put("name", "cublasGemmEx.bf16." + n).put("ok", ok)
                    .put("detail", "64 sampled entries, max error / sqrt(n) = " + String.format("%.3g", worst)).put("ms", ms)
                    .put("tflops", 2.0 * n * n * n / ms / 1e9);
        }
    }

    /** cuBLAS SGEMV (memory bound): GB/s of the matrix read, checked against float64 on every row. */
    static Json.Obj gemv(Gpu gpu, Cublas blas, int n, int reps, long seed) {
        Random r = new Random(seed);
        long elements = (long) n * n;
        try (Arena arena = Arena.ofShared(); DeviceBuffer da = gpu.allocate(4 * elements); DeviceBuffer dx = gpu.allocate(4L * n);
             DeviceBuffer dy = gpu.allocate(4L * n)) {
            F32Array a = F32Array.allocate(arena, elements);
            F32Array x = F32Array.allocate(arena, n);
            for (long i = 0; i < elements; i++) {
                a.set(i, r.nextFloat() - 0.5f);
            }
            for (int i = 0; i < n; i++) {
                x.set(i, r.nextFloat() - 0.5f);
            }
            CudaStream s = gpu.defaultStream();
            gpu.copy(a, da.asF32(), s);
            gpu.copy(x, dx.asF32(), s);
            Runnable work = () -> blas.gemv(s, false, n, n, 1f, da.asF32(), n, dx.asF32(), 0f, dy.asF32());
            work.run();
            F32Array y = F32Array.allocate(arena, n);
            gpu.copy(dy.asF32(), y, s);
            s.synchronize();
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double ref = 0;
                for (int j = 0; j < n; j++) {
                    ref += (double) a.get((long) j * n + i) * x.get(j);
                }
                worst = Math.max(worst, Math.abs(ref - y.get(i)));
            }
            double ms = GpuTimer.medianMillis(gpu, s, 2, reps, work);
            return Json.object().put("name", "cublasSgemv." + n).put("ok", worst < 1e-3)
                    .put("detail", "max abs error " + String.format("%.3g", worst)).put("ms", ms)
                    .put("gbps", 4.0 * elements / ms / 1e6);
        }
    }

    /**
     * An execution plan of {@code tasks} small saxpy launches, run directly and as a CUDA graph: both must
     * give the reference result; the report compares the time per execution.
     */
    static Json.Obj graphPlan(Gpu gpu, int tasks, int reps) {
        int n = 1 << 16;
        try (DeviceBuffer dx = gpu.allocate(4L * n); DeviceBuffer dy = gpu.allocate(4L * n)) {
            F32Array xHost = gpu.allocatePinned(4L * n).asF32();
            F32Array yHost = gpu.allocatePinned(4L * n).asF32();
            F32Array result = gpu.allocatePinned(4L * n).asF32();
            for (int i = 0; i < n; i++) {
                xHost.set(i, i % 7);
            }
            double[] ms = new double[2];
            boolean ok = true;
            for (int mode = 0; mode < 2; mode++) {
                TaskGraph g = new TaskGraph("graph-check").transferToDevice(TransferMode.EVERY_EXECUTION, xHost, dx.asF32())
                        .transferToDevice(TransferMode.EVERY_EXECUTION, yHost, dy.asF32());
                KernelMethod saxpy = KernelMethod.of(ElementwiseKernels.class, "saxpy");
                for (int t = 0; t < tasks; t++) {
                    g.task("graph-check.saxpy" + t, saxpy, Grid.of(64, 256), 1f, dx.asF32(), dy.asF32(), (long) n);
                }
                g.transferToHost(dy.asF32(), result);
                try (ExecutionPlan plan = g.build(gpu)) {
                    if (mode == 1) {
                        plan.withCudaGraph();
                    }
                    yHost.fill(0f);
                    plan.execute();
                    for (int i = 0; i < n; i++) {
                        ok &= result.get(i) == (float) (tasks * (i % 7));
                    }
                    double[] times = new double[reps];
                    for (int i = 0; i < reps; i++) {
                        times[i] = plan.executeTimed();
                    }
                    java.util.Arrays.sort(times);
                    ms[mode] = times[reps / 2];
                }
            }
            return Json.object().put("name", "plan." + tasks + "-saxpy").put("ok", ok).put("streamMs", ms[0]).put("graphMs", ms[1])
                    .put("detail", tasks + " launches per execution; results " + (ok ? "match" : "DIFFER")
                            + " the reference in both modes");
        }
    }
}
