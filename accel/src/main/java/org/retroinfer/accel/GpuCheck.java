package org.retroinfer.accel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.retroinfer.accel.compiler.PtxDump;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.examples.ExampleCase;
import org.retroinfer.accel.examples.ExampleCatalog;

/**
 * The GPU check: every example kernel compiled from Java, run on the GPU against its Java reference and
 * timed, next to {@code cuMemcpyDtoD} (the bandwidth yardstick), cuBLAS GEMM/GEMV and an execution plan
 * run directly and as a CUDA graph. Prints one line per check and writes everything as JSON. With
 * {@code --sweep} it first times every shape of streaming copy and sum over block sizes and waves
 * ({@link BandwidthSweep}).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... org.retroinfer.accel.GpuCheck --out gpu-check.json
 *      [--sweep] [--size-mib 1024] [--reps 20] [--fast-math] [--dump-ptx DIR] [--seed N] [--gemm-n 4096] [--gemv-n 8192]
 * </pre>
 *
 * Exit status: 0 when every check passes, 1 when one fails, 2 for bad arguments or no usable GPU.
 */
public final class GpuCheck {
    private GpuCheck() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the check; returns the exit status. */
    static int run(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("gpu-check: " + e.getMessage());
            return 2;
        }
        if (o.dumpPtx() != null) {
            System.setProperty(PtxDump.PROPERTY, o.dumpPtx());
        }
        Json.Obj report = Json.object().put("date", Instant.now().toString()).put("command", "GpuCheck " + String.join(" ", args));
        int status;
        try (Gpu gpu = Gpu.open(org.retroinfer.accel.cuda.CudaDriver.system(), 0, o.fastMath())) {
            status = check(gpu, o, report);
        } catch (CudaException e) {
            System.err.println("gpu-check: " + e.getMessage());
            report.put("error", e.getMessage());
            status = 2;
        }
        try {
            Files.writeString(o.out(), report + "\n");
            System.out.println("wrote " + o.out());
        } catch (IOException e) {
            System.err.println("gpu-check: cannot write " + o.out() + ": " + e.getMessage());
            status = 2;
        }
        return status;
    }

    private static int check(Gpu gpu, Options o, Json.Obj report) {
        report.put("device", gpu.info().toString()).put("driverVersion", gpu.driver().version())
                .put("target", gpu.info().target().smName()).put("fastMath", o.fastMath()).put("sizeMiB", o.sizeMiB());
        System.out.println("device " + gpu.info() + ", driver " + gpu.driver().version() + ", PTX for "
                + gpu.info().target().smName() + (o.fastMath() ? " (fast math)" : " (Java semantics)"));
        int failures = 0;

        Json.Obj broken = ReferenceChecks.brokenPtx(gpu);
        report.put("brokenPtxRejected", broken);
        failures += line("broken PTX rejected with the JIT log", broken);

        long bytes = o.sizeMiB() << 20;
        Json.Obj dtod = ReferenceChecks.deviceCopy(gpu, bytes, o.reps());
        double yardstick = (Double) field(dtod, "gbps");
        report.put("deviceCopy", dtod);
        System.out.printf("cuMemcpyDtoDAsync %d MiB: %.1f GB/s%n", o.sizeMiB(), yardstick);

        if (o.sweep()) {
            BandwidthSweep.Outcome sweep = BandwidthSweep.run(gpu, bytes, o.reps(), o.seed(), yardstick);
            report.put("sweep", sweep.report());
            failures += sweep.failures();
            Json.Obj again = ReferenceChecks.deviceCopy(gpu, bytes, o.reps());
            report.put("deviceCopyAfterSweep", again);
            System.out.printf("cuMemcpyDtoDAsync %d MiB after the sweep: %.1f GB/s (the percentages use the first figure)%n",
                    o.sizeMiB(), (Double) field(again, "gbps"));
        }

        List<Object> kernels = Json.array();
        report.put("launchShape", LaunchShape.DEFAULT.toString());
        System.out.println("grid-stride kernels: " + LaunchShape.DEFAULT + " (blocks per wave from occupancy)");
        CaseRunner runner = new CaseRunner(gpu, bytes / 4, o.reps(), LaunchShape.DEFAULT);
        for (ExampleCase c : ExampleCatalog.all()) {
            if (o.fastMath() && c.needsJavaFloatSemantics()) {
                Json.Obj skipped = Json.object().put("name", c.name()).put("ok", true).put("skipped", true)
                        .put("detail", "skipped: fast math gives up the Java float semantics this case checks bit for bit");
                kernels.add(skipped);
                line(c.name(), skipped);
                continue;
            }
            Json.Obj r = runner.run(c, o.seed());
            if (field(r, "gbps") instanceof Double gbps) {
                r.put("percentOfDeviceCopy", 100 * gbps / yardstick);
            }
            kernels.add(r);
            failures += line(c.name(), r);
        }
        report.put("kernels", kernels);

        List<Object> blasResults = Json.array();
        try (Cublas blas = Cublas.create(gpu)) {
            blasResults.add(ReferenceChecks.gemm(gpu, blas, o.gemmN(), o.reps(), o.seed()));
            blasResults.add(ReferenceChecks.gemv(gpu, blas, o.gemvN(), o.reps(), o.seed()));
        } catch (CudaException e) {
            blasResults.add(Json.object().put("name", "cublas").put("ok", false).put("detail", e.getMessage()));
        }
        for (Object b : blasResults) {
            failures += line((String) field((Json.Obj) b, "name"), (Json.Obj) b);
        }
        report.put("cublas", blasResults);

        Json.Obj graph = ReferenceChecks.graphPlan(gpu, 64, o.reps());
        report.put("graph", graph);
        failures += line("execution plan as CUDA graph", graph);

        report.put("failures", failures);
        System.out.println(failures == 0 ? "ALL OK" : failures + " FAILED");
        return failures == 0 ? 0 : 1;
    }

    /** Prints a check's one-line summary; returns 1 if it failed. */
    private static int line(String name, Json.Obj r) {
        boolean ok = Boolean.TRUE.equals(field(r, "ok"));
        StringBuilder sb = new StringBuilder(String.format("%-40s %s", name, ok ? "OK  " : "FAIL"));
        for (String k : List.of("gbps", "percentOfDeviceCopy", "gflops", "tflops", "ms", "streamMs", "graphMs")) {
            Object v = field(r, k);
            if (v instanceof Double d) {
                sb.append(String.format("  %s=%.2f", k, d));
            }
        }
        sb.append("  ").append(field(r, "detail"));
        System.out.println(sb);
        return ok ? 0 : 1;
    }

    private static Object field(Json.Obj o, String key) {
        return o.get(key);
    }

    /** Command-line options. */
    record Options(Path out, long sizeMiB, int reps, boolean fastMath, String dumpPtx, long seed, int gemmN, int gemvN,
                   boolean sweep) {
        static Options parse(String[] args) {
            Path out = null;
            boolean sweep = false;
            long size = 1024;
            int reps = 20;
            boolean fast = false;
            String dump = null;
            long seed = System.nanoTime();
            int gemm = 4096;
            int gemv = 8192;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    case "--size-mib" -> size = Long.parseLong(value(args, ++i, a));
                    case "--reps" -> reps = Integer.parseInt(value(args, ++i, a));
                    case "--fast-math" -> fast = true;
                    case "--sweep" -> sweep = true;
                    case "--dump-ptx" -> dump = value(args, ++i, a);
                    case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
                    case "--gemm-n" -> gemm = Integer.parseInt(value(args, ++i, a));
                    case "--gemv-n" -> gemv = Integer.parseInt(value(args, ++i, a));
                    default -> throw new IllegalArgumentException("unknown option " + a
                            + "; usage: GpuCheck --out FILE [--sweep] [--size-mib N] [--reps N] [--fast-math] [--dump-ptx DIR] [--seed N]"
                            + " [--gemm-n N] [--gemv-n N]");
                }
            }
            if (out == null) {
                throw new IllegalArgumentException("--out FILE is required (where the JSON report goes)");
            }
            if (size < 16 || reps < 3) {
                throw new IllegalArgumentException("--size-mib must be at least 16 and --reps at least 3");
            }
            if (gemm < 16 || gemv < 16) {
                throw new IllegalArgumentException("--gemm-n and --gemv-n must be at least 16");
            }
            return new Options(out, size, reps, fast, dump, seed, gemm, gemv, sweep);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }
    }
}
