package org.retroinfer.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.device.HostMemory;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.gpu.DeviceKvCache;
import org.retroinfer.kvstore.gpu.GpuKvCache;
import org.retroinfer.kvstore.gpu.GpuRetroKvCache;
import org.retroinfer.kvstore.gpu.GpuRetroPlacement;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.gpu.GpuTransformer;
import org.retroinfer.model.gpu.GpuWeights;
import org.retroinfer.model.gpu.StepProfile;

/**
 * {@code bench --shape NAME --device gpu --prefill}: prefill speed of a real model's shape with random BF16 weights
 * made on the GPU. Each repetition prefills one sequence of {@code context} random tokens in chunks of
 * {@code --prefill-chunk} rows, as generation does (the last chunk's last row's logits computed), then ends its prefill:
 * nothing for full attention, the index build of every layer for retro ({@link GpuRetroKvCache#endOfPrefill}: k-means
 * on the GPU and the keys and values written to the tiers in cluster order). Reports prefill tokens/s over the chunks,
 * and the index build's seconds and share of the whole (chunks + build), the spec's "under 5% of prefill". The last
 * repetition of each context runs with a {@link StepProfile} (an event between phases, chunks enqueued eagerly: at a
 * few thousand events and 16-64 launches of a chunk's layer against seconds of work, no cost worth the second pass
 * a 128K prefill would take) and reports the device seconds of each phase over the whole prefill.
 */
final class GpuShapePrefill {
    /** The longest context a warm-up prefills: enough for an index build, so that its kernels are compiled too. */
    private static final int WARM_UP_CONTEXT = 8192;

    /** One context's results over its repetitions. */
    record Point(int context, int chunk, List<Double> prefillTokensPerSecond, List<Double> prefillSeconds,
                 List<Double> indexSeconds, List<Double> indexShare, Map<StepProfile.Phase, Double> phaseSeconds) {}

    record Report(String shape, String attention, String kvType, String prefillKernel, String device, String date,
                  long weightBytes, List<Point> points) {}

    private GpuShapePrefill() {}

    static int run(Options o, String shapeName, ModelConfig config, List<Integer> contexts, int chunk, int reps, int warmups,
                   AttentionMode mode, Path outFile, boolean json, PrintStream out, PrintStream err) throws IOException {
        DType kvType = mode.kvType();
        RetroConfig retro = mode instanceof AttentionMode.Retro r ? r.config().withStorage(kvType) : null;
        Engine.Tiers tiers = Engine.tiers(o, List.of(mode));
        try (Device device = Engine.openGpu(o)) {
            err.printf("bench: random %s weights (BF16) on %s...%n", shapeName, device.describe());
            GpuWeights weights = GpuWeights.random(device, config, 1);
            long weightBytes = device.allocatedBytes();
            GpuTransformer transformer = new GpuTransformer(config, weights, device, chunk);
            AttentionShape shape = config.attentionShape();
            Random random = new Random(1);
            int warmUpContext = Math.min(WARM_UP_CONTEXT, contexts.stream().mapToInt(Integer::intValue).max().orElseThrow());
            for (int w = 0; w < warmups; w++) {
                measure(o, device, transformer, config, shape, kvType, retro, tiers, warmUpContext, chunk, random, null);
            }
            List<Point> points = new ArrayList<>();
            for (int context : contexts) {
                List<Double> tps = new ArrayList<>(), seconds = new ArrayList<>(), index = new ArrayList<>(),
                        share = new ArrayList<>();
                StepProfile profile = new StepProfile();
                for (int r = 0; r < reps; r++) {
                    ProgressBar progress = ProgressBar.on(err, "prefill " + context + " (" + (r + 1) + " of " + reps + ")",
                            "tokens");
                    transformer.withProfile(r == reps - 1 ? profile : null);
                    double[] m;
                    try {
                        m = measure(o, device, transformer, config, shape, kvType, retro, tiers, context, chunk, random, progress);
                    } finally {
                        transformer.withProfile(null);
                    }
                    tps.add(context / m[0]);
                    seconds.add(m[0]);
                    index.add(m[1]);
                    share.add(m[1] / (m[0] + m[1]));
                    err.printf(Locale.ROOT, "bench: prefill %d: %.1f s (%.0f tokens/s), index build %.2f s%n", context, m[0],
                            context / m[0], m[1]);
                }
                Map<StepProfile.Phase, Double> phaseSeconds = new EnumMap<>(StepProfile.Phase.class);
                profile.millisPerStep().forEach((phase, ms) -> phaseSeconds.put(phase, ms * profile.steps() / 1000));
                points.add(new Point(context, chunk, tps, seconds, index, share, phaseSeconds));
            }
            Report report = new Report(shapeName, mode.name(), kvType.name(), GpuKvCache.prefillKernel(kvType),
                    device.describe(), Instant.now().toString(), weightBytes, points);
            BenchCommand.report(report, outFile, json, out, GpuShapePrefill::print);
        }
        return 0;
    }

    /**
     * Seconds of one prefill of {@code context} random tokens through a fresh one-sequence cache, {@code [chunks, end
     * of prefill]}.
     */
    private static double[] measure(Options o, Device device, GpuTransformer transformer, ModelConfig config,
            AttentionShape shape, DType kvType, RetroConfig retro, Engine.Tiers tiers, int context, int chunk, Random random,
            ProgressBar progress) {
        long capacity = context + 1L;
        try (DeviceKvCache cache = open(o, device, shape, kvType, retro, tiers, capacity, chunk, context)) {
            int sequence = cache.openSequence();
            float[] logits = new float[config.vocabSize()];
            device.synchronize();
            long start = System.nanoTime();
            for (int first = 0; first < context; first += chunk) {
                int count = Math.min(chunk, context - first);
                int[] tokens = random.ints(count, 0, config.vocabSize()).toArray();
                long[] positions = new long[count];
                for (int i = 0; i < count; i++) positions[i] = first + i;
                boolean last = first + count == context;
                transformer.forward(BatchLayout.single(sequence, count), tokens, positions, cache,
                        last ? new int[] {count - 1} : new int[0], logits);
                if (progress != null) progress.update(first + count, context);
            }
            long chunks = System.nanoTime();
            cache.endOfPrefill(sequence);
            device.synchronize();
            return new double[] {(chunks - start) / 1e9, (System.nanoTime() - chunks) / 1e9};
        }
    }

    /** A cache of one sequence of {@code capacity} positions, refused by name where it does not fit. */
    private static DeviceKvCache open(Options o, Device device, AttentionShape shape, DType kvType, RetroConfig retro,
            Engine.Tiers tiers, long capacity, int chunk, int context) {
        long gpuFree = device.freeBytes() - GpuShapeBench.RESERVE_BYTES;
        if (retro == null) {
            if (GpuKvCache.bytesPerSequence(shape, kvType, capacity) > gpuFree) {
                throw o.error("--context " + context + ": one sequence does not fit: " + (device.freeBytes() >> 20)
                        + " MiB of GPU memory free");
            }
            return new GpuKvCache(device, shape, kvType, 1, capacity, chunk);
        }
        GpuRetroKvCache.Lookups lookups = tiers.lookups(retro, capacity);
        GpuRetroPlacement.Placement placement = GpuRetroPlacement.place(shape, retro, capacity, 1, 1, true, gpuFree,
                tiers.hostBytes(), tiers.formats(), tiers.maxDeviceLayers(),
                lookups);
        if (placement == null) {
            throw o.error("--context " + context + ": one sequence and its dense prefill slot do not fit: "
                    + (device.freeBytes() >> 20) + " MiB of GPU memory free, " + (HostMemory.availableBytes() >> 20)
                    + " MiB of host memory available");
        }
        return new GpuRetroKvCache(device, shape, retro, 1, capacity, chunk, 1, placement.deviceStoreLayers(),
                tiers.formats(), lookups);
    }

    private static void print(Report r, PrintStream out) {
        out.printf("shape %s, attention %s, KV %s, prefill kernel %s, %s%n", r.shape(), r.attention(), r.kvType(),
                r.prefillKernel(), r.device());
        out.println("| context | chunk | prefill tok/s | prefill s | index build s | index share |");
        out.println("|---:|---:|---:|---:|---:|---:|");
        for (Point p : r.points()) {
            out.printf(Locale.ROOT, "| %d | %d | %.1f ± %.1f | %.2f | %.3f | %.2f%% |%n", p.context(), p.chunk(),
                    BenchCommand.mean(p.prefillTokensPerSecond()), BenchCommand.sd(p.prefillTokensPerSecond()),
                    BenchCommand.mean(p.prefillSeconds()), BenchCommand.mean(p.indexSeconds()),
                    100 * BenchCommand.mean(p.indexShare()));
        }
        for (Point p : r.points()) {
            out.printf(Locale.ROOT, "prefill %d, device seconds by phase (last repetition):", p.context());
            p.phaseSeconds().forEach((phase, seconds) -> out.printf(Locale.ROOT, " %s %.2f", phase, seconds));
            out.println();
        }
    }
}
