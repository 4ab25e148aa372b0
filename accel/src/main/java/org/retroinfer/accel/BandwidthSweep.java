package org.retroinfer.accel;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.examples.StreamingKernel;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;

/**
 * {@code GpuCheck --sweep}: every shape of streaming copy and sum ({@link StreamingKernel#sweep}) at every
 * block size and number of waves, each run checked (the copy bit for bit, the sum against float64) and timed
 * as the check times its cases, in GB/s and percent of cuMemcpyDtoD. It ends with the best shape and grid
 * per kind next to the default, so that one GPU run says what the default should be.
 */
final class BandwidthSweep {
    static final List<Integer> BLOCK_SIZES = List.of(128, 256, 512, 1024);
    static final List<Integer> WAVES = List.of(1, 2, 4, 16);

    /** The sweep's report and how many of its runs failed their check. */
    record Outcome(Json.Obj report, int failures) {}

    /** One planned run: a kernel on a grid ({@code waves} is 0 where the kernel has no grid-stride loop). */
    private record Run(StreamingKernel kernel, int blockSize, int waves, Grid grid) {
        boolean isDefault() {
            boolean defaultKernel = kernel.equals(StreamingKernel.COPY) || kernel.equals(StreamingKernel.SUM);
            return defaultKernel && blockSize == LaunchShape.DEFAULT.blockSize() && waves == LaunchShape.DEFAULT.waves();
        }

        String shape() {
            return "block " + blockSize + (waves == 0 ? ", one Float4 per thread" : ", " + waves + (waves == 1 ? " wave" : " waves"));
        }
    }

    private final Gpu gpu;
    private final int reps;
    private final double yardstick;
    private final long n;

    private BandwidthSweep(Gpu gpu, long bytes, int reps, double yardstick) {
        this.gpu = gpu;
        this.reps = reps;
        this.yardstick = yardstick;
        this.n = bytes / 4 + 3;
    }

    /** Sweeps over {@code bytes} of floats (plus a 3-float tail); percentages are of {@code yardstickGbps}. */
    static Outcome run(Gpu gpu, long bytes, int reps, long seed, double yardstickGbps) {
        return new BandwidthSweep(gpu, bytes, reps, yardstickGbps).sweep(seed);
    }

    private List<Run> plan() {
        List<Run> runs = new ArrayList<>();
        for (StreamingKernel k : StreamingKernel.sweep()) {
            for (int block : BLOCK_SIZES) {
                if (!k.gridStride()) {
                    runs.add(new Run(k, block, 0, k.grid(n, 1, block)));
                    continue;
                }
                for (int waves : WAVES) {
                    runs.add(new Run(k, block, waves, gpu.streamingGrid(gpu.load(k.kernel()), block, waves)));
                }
            }
        }
        return runs;
    }

    private Outcome sweep(long seed) {
        List<Run> runs = plan();
        int maxBlocks = runs.stream().filter(r -> r.kernel().kind() == StreamingKernel.Kind.SUM).mapToInt(r -> r.grid().gridX())
                .max().orElseThrow();
        List<Object> entries = Json.array();
        int failures = 0;
        try (Workspace w = new Workspace(gpu, n, maxBlocks, new Random(seed))) {
            for (Run run : runs) {
                Json.Obj e = Json.object().put("name", run.kernel().name()).put("kernel", run.kernel().kernel().toString())
                        .put("gridStride", run.kernel().gridStride()).put("blockSize", run.blockSize())
                        .put("waves", run.waves()).put("shape", run.shape()).put("grid", run.grid().toString())
                        .put("default", run.isDefault());
                try {
                    measure(run, e, w);
                } catch (CudaException | IllegalArgumentException ex) {
                    e.put("ok", false).put("detail", ex.toString());
                }
                failures += Boolean.TRUE.equals(e.get("ok")) ? 0 : 1;
                entries.add(e);
                System.out.println(line(run, e));
            }
        }
        Json.Obj report = Json.object().put("bytes", 4 * n).put("blockSizes", new ArrayList<Object>(BLOCK_SIZES))
                .put("waves", new ArrayList<Object>(WAVES)).put("runs", entries)
                .put("bestCopy", best(entries, StreamingKernel.Kind.COPY)).put("bestSum", best(entries, StreamingKernel.Kind.SUM));
        return new Outcome(report, failures);
    }

    /**
     * The sweep's memory: random input on the host and the device with its float64 sum, the copy's
     * destination and read-back, the sum's partials and result.
     */
    private static final class Workspace implements AutoCloseable {
        final Arena arena = Arena.ofShared();
        final DeviceBuffer src;
        final DeviceBuffer dst;
        final DeviceBuffer partials;
        final DeviceBuffer result;
        final F32Array input;
        final F32Array back;
        final F32Array total;
        final double sum;
        final double magnitude;

        Workspace(Gpu gpu, long n, int maxBlocks, Random r) {
            src = gpu.allocate(4 * n);
            dst = gpu.allocate(4 * n);
            partials = gpu.allocate(4L * maxBlocks);
            result = gpu.allocate(4);
            input = F32Array.allocate(arena, n);
            back = F32Array.allocate(arena, n);
            total = F32Array.allocate(arena, 1);
            double s = 0;
            double m = 0;
            for (long i = 0; i < n; i++) {
                float v = r.nextFloat() - 0.5f;
                input.set(i, v);
                s += v;
                m += Math.abs(v);
            }
            sum = s;
            magnitude = m;
            gpu.copy(input, src.asF32(), gpu.defaultStream());
        }

        @Override
        public void close() {
            result.close();
            partials.close();
            dst.close();
            src.close();
            arena.close();
        }
    }

    /** Checks one run's result against the reference, then times it; fills {@code e}. */
    private void measure(Run run, Json.Obj e, Workspace w) {
        CudaStream s = gpu.defaultStream();
        Runnable work;
        long bytes;
        if (run.kernel().kind() == StreamingKernel.Kind.COPY) {
            gpu.fill(w.dst.asF32(), (byte) 0xFF, s);
            work = () -> gpu.launch(run.kernel().kernel(), run.grid(), s, w.src.asF32(), w.dst.asF32(), n);
            work.run();
            gpu.copy(w.dst.asF32(), w.back, s);
            s.synchronize();
            long differ = w.input.segment().mismatch(w.back.segment());
            long wrong = differ < 0 ? -1 : differ / 4;
            e.put("ok", wrong < 0).put("detail", wrong < 0 ? n + " floats copied exactly"
                    : "float " + wrong + ": expected " + w.input.get(wrong) + ", got " + w.back.get(wrong));
            bytes = 8 * n;
        } else {
            int blocks = run.grid().gridX();
            gpu.fill(w.partials.asF32(), (byte) 0xFF, s);
            gpu.fill(w.result.asF32(), (byte) 0xFF, s);
            work = () -> {
                gpu.launch(run.kernel().kernel(), run.grid(), s, w.src.asF32(), w.partials.asF32(), n);
                gpu.launch(StreamingKernel.FINAL_SUM, Grid.of(1, 1024), s, w.partials.asF32(), w.result.asF32(), blocks);
            };
            work.run();
            gpu.copy(w.result.asF32(), w.total, s);
            s.synchronize();
            float got = w.total.get(0);
            double err = Math.abs(got - w.sum);
            e.put("ok", err <= 1e-5 * w.magnitude + 1e-6).put("detail", "sum " + got + " vs float64 " + w.sum + " (error "
                    + String.format("%.3g", err) + ")");
            bytes = 4 * n;
        }
        double ms = GpuTimer.medianMillis(gpu, s, 2, reps, work);
        double gbps = bytes / ms / 1e6;
        e.put("registers", gpu.load(run.kernel().kernel()).registers()).put("ms", ms).put("bytes", bytes).put("gbps", gbps)
                .put("percentOfDeviceCopy", 100 * gbps / yardstick);
    }

    private static String line(Run run, Json.Obj e) {
        boolean ok = Boolean.TRUE.equals(e.get("ok"));
        String figures = e.get("gbps") instanceof Double gbps
                ? String.format("regs %2d  grid %7d  %7.1f GB/s  %5.1f%%", (Integer) e.get("registers"), run.grid().gridX(), gbps,
                        (Double) e.get("percentOfDeviceCopy"))
                : "";
        return String.format("sweep %-24s %-34s %s  %s%s", run.kernel().name(), run.shape(), figures, ok ? "OK" : "FAIL " + e.get("detail"),
                run.isDefault() ? "  (default)" : "");
    }

    /** The fastest correct run of {@code kind}, printed next to the default's figure. */
    private Json.Obj best(List<Object> entries, StreamingKernel.Kind kind) {
        String prefix = kind == StreamingKernel.Kind.COPY ? "copy." : "sum.";
        List<Json.Obj> ofKind = entries.stream().map(o -> (Json.Obj) o)
                .filter(o -> ((String) o.get("name")).startsWith(prefix) && Boolean.TRUE.equals(o.get("ok")))
                .sorted(Comparator.comparingDouble((Json.Obj o) -> (Double) o.get("gbps")).reversed()).toList();
        if (ofKind.isEmpty()) {
            System.out.println("sweep best " + prefix + "*: no correct run");
            return Json.object().put("name", null);
        }
        Json.Obj best = ofKind.getFirst();
        String defaultFigure = ofKind.stream().filter(o -> Boolean.TRUE.equals(o.get("default"))).findFirst()
                .map(o -> String.format("%.1f%%", (Double) o.get("percentOfDeviceCopy"))).orElse("not measured");
        System.out.printf("sweep best %s: %s, %s: %.1f GB/s = %.1f%% of cuMemcpyDtoD (the default, %s at %s: %s)%n",
                kind.name().toLowerCase(), best.get("name"), best.get("shape"), (Double) best.get("gbps"),
                (Double) best.get("percentOfDeviceCopy"), kind == StreamingKernel.Kind.COPY ? StreamingKernel.COPY.name()
                        : StreamingKernel.SUM.name(), LaunchShape.DEFAULT, defaultFigure);
        return best;
    }
}
