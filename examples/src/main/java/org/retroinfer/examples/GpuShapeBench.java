package org.retroinfer.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.device.HostMemory;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.kvstore.gpu.DeviceKvCache;
import org.retroinfer.kvstore.gpu.GpuKvCache;
import org.retroinfer.kvstore.gpu.GpuRetroKvCache;
import org.retroinfer.kvstore.gpu.GpuRetroPlacement;
import org.retroinfer.kvstore.gpu.RetroLayerProfile;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.wave.StoreFormat;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.gpu.GpuTransformer;
import org.retroinfer.model.gpu.StepProfile;
import java.util.Map;
import org.retroinfer.model.gpu.GpuWeights;

/**
 * {@code bench --shape NAME --device gpu [--attention full|retro]}: decode throughput of a real model's shape with
 * random BF16 weights made on the GPU. Each sequence's context is filled with random keys and values
 * ({@link GpuKvCache#fillRandom}) instead of prefilled: with random weights and tokens a prefill computes nothing a
 * decode step's speed depends on, and a 128K-token prefill takes 86 s on an H100 ({@link GpuShapePrefill} times it). With retro
 * the filled context is indexed as a prompt is, a few KV heads at a time ({@link GpuRetroKvCache#fillRandom}: k-means
 * on the GPU, keys and values to the tiers in cluster order), so the retro cache has no dense prefill slot and a
 * 1M-token context needs no dense copy of itself anywhere. The batch is the largest that fits, unless --batch says
 * otherwise: full attention's KV in the GPU's free memory (after the weights, less a reserve); retro's meta index,
 * steady zone and block cache there too, and its cluster-ordered keys and values in both tiers
 * ({@link GpuRetroPlacement#place}): as many layers' stores in GPU memory as fit, the rest in the host's available
 * memory (less a reserve), pinned. The cache is filled once per context; the warm-up and timed passes then decode on from where the last one
 * stopped. Decoding is greedy, each row's token chosen on the device as greedy generation chooses it. With
 * {@code --micro-batches M} the batch is decoded as M parts at once ({@link MicroBatches}: a cache, a transformer, a
 * stream and a host thread each, the weights shared), so that one part's PCIe reads overlap another's compute; the
 * profiled pass then runs the first part alone.
 */
final class GpuShapeBench {
    /**
     * Device memory kept free for the workspace, the attention's or the k-means' scratch and the driver (the prefill
     * bench keeps the same).
     */
    static final long RESERVE_BYTES = 2L << 30;
    /** The most rows a step may have: the largest batch the bench picks. */
    private static final int MAX_ROWS = 256;

    /**
     * One context's results; {@code phaseMillisPerStep}: device time per decode step by phase, from one more pass with
     * an event between phases (eager, so it adds up to a little more than the timed passes' steps);
     * {@code retroMillisPerLayer}: with retro, where one layer's attention goes in that pass; {@code hitRatio}: with
     * retro, the retrieved clusters found in the GPU block cache over the timed passes.
     */
    record Point(int context, int batch, int generated, List<Double> decodeTokensPerSecond, List<Double> millisPerStep,
                 long kvBytesPerSequence, long gpuBytesPerSequence, long hostBytesPerSequence, int deviceStoreLayers,
                 long deviceBytesInUse, long deviceBytesAtPeak, long deviceFreeBytesAfter,
                 double allocateSeconds, double fillSeconds, Double hitRatio, double hostMillisPerStep,
                 Map<StepProfile.Phase, Double> phaseMillisPerStep,
                 Map<RetroLayerProfile.Phase, Double> retroMillisPerLayer) {}

    /** {@code branches}: whether retro's decode layers estimate (and update the LRU) beside the gather. */
    record Report(String shape, String attention, String kvType, String gpuKv, String hostKv, String valueSums, String centroids,
                  String lookups,
                  boolean branches,
                  String device,
                  String date,
                  long weightBytes,
                  String contextFill, boolean cudaGraphs, int microBatches, Integer gpuMemoryGiB, long seed, List<Point> points) {}

    private GpuShapeBench() {}

    static int run(Options o, String shapeName, ModelConfig config, List<Integer> contexts, Integer fixedBatch, int gen, int reps,
                   int warmups, AttentionMode mode, boolean graphs, boolean profilerStep, int microBatches, Path outFile, boolean json, PrintStream out,
                   PrintStream err) throws IOException {
        DType kvType = mode.kvType();
        RetroConfig retro = mode instanceof AttentionMode.Retro r ? r.config().withStorage(kvType) : null;
        Engine.Tiers tiers = Engine.tiers(o, List.of(mode));
        long seed = BenchCommand.seed(o); // refused before the GPU is opened
        try (Device device = Engine.openGpu(o); MicroBatches lanes = new MicroBatches(device, microBatches)) {
            Integer gpuMemory = o.has("gpu-memory") ? o.integer("gpu-memory", 0, 1, 1 << 20) : null;
            long heldBack = gpuMemory == null ? 0 : holdBack(o, device, gpuMemory);
            err.printf("bench: random %s weights (BF16) on %s%s...%n", shapeName, device.describe(),
                    gpuMemory == null ? "" : ", held to " + gpuMemory + " GiB");
            GpuWeights weights = GpuWeights.random(device, config, seed);
            long weightBytes = device.allocatedBytes() - heldBack;
            List<GpuTransformer> transformers = new ArrayList<>();
            for (Device d : lanes.devices()) {
                transformers.add(new GpuTransformer(config, weights, d, MAX_ROWS).withGraphs(graphs));
            }
            AttentionShape shape = config.attentionShape();
            Random random = new Random(seed);
            List<Point> points = new ArrayList<>();
            Map<Integer, String> lookupsByContext = new java.util.LinkedHashMap<>();
            for (int context : contexts) {
                // the warm-up, timed and profiled passes, and the one step in a profiler range
                long capacity = (long) context + (long) gen * (warmups + reps + 1) + (profilerStep ? 1 : 0);
                GpuRetroKvCache.Lookups lookups = retro == null ? null : tiers.lookups(retro, capacity);
                if (lookups != null) {
                    lookupsByContext.put(context, lookups.describe());
                }
                long kvPerSequence = GpuKvCache.bytesPerSequence(shape, kvType, capacity);
                long gpuFree = device.freeBytes() - RESERVE_BYTES;
                int batch;
                int deviceStoreLayers = 0;
                if (retro == null) {
                    batch = fixedBatch != null ? fixedBatch : (int) Math.min(MAX_ROWS, Math.max(0, gpuFree) / kvPerSequence);
                } else {
                    GpuRetroPlacement.Placement placement = GpuRetroPlacement.place(shape, retro, capacity, 0,
                            fixedBatch != null ? fixedBatch : MAX_ROWS, fixedBatch != null, gpuFree,
                            tiers.hostBytes(), tiers.formats(), tiers.maxDeviceLayers(),
                            lookups);
                    batch = placement == null ? 0 : placement.sequences();
                    deviceStoreLayers = placement == null ? 0 : placement.deviceStoreLayers();
                }
                if (batch < 1) {
                    throw o.error("--context " + context + ": " + (fixedBatch == null ? "one sequence does" : fixedBatch
                            + " sequences do") + " not fit: " + (device.freeBytes() >> 20) + " MiB of GPU memory free, "
                            + (HostMemory.availableBytes() >> 20) + " MiB of host memory available; ask for a shorter --context"
                            + (fixedBatch == null ? "" : " or a smaller --batch")
                            + (retro == null ? " (--attention retro keeps a context's KV in compact tiers)" : ""));
                }
                if (batch < microBatches) {
                    throw o.error("--micro-batches " + microBatches + ": only " + batch + " sequences of --context " + context
                            + " fit, fewer than one a micro-batch; ask for fewer micro-batches");
                }
                long gpuPerSequence = retro == null ? kvPerSequence
                        : GpuRetroPlacement.deviceBytesPerSequence(shape, retro, capacity, lookups, deviceStoreLayers,
                                tiers.formats());
                long hostPerSequence = retro == null ? 0
                        : (shape.layers() - deviceStoreLayers) * GpuRetroPlacement.storeBytesPerLayer(shape, capacity,
                                tiers.formats().host());
                err.printf("bench: context %d, batch %d%s, %s%s: filling%s...%n", context, batch,
                        microBatches == 1 ? "" : " in " + microBatches + " micro-batches", mode.name(),
                        retro == null ? "" : ", " + deviceStoreLayers + " of " + shape.layers() + " layers' stores on the GPU",
                        retro == null ? "" : " and indexing");
                List<DeviceKvCache> caches = new ArrayList<>();
                lanes.devices().forEach(Device::resetPeakAllocatedBytes);
                try {
                    List<Decode> decodes = new ArrayList<>();
                    long allocateNanos = 0, fillNanos = 0;
                    ProgressBar filling = ProgressBar.on(err, "fill context " + context, "sequences");
                    int filled = 0;
                    for (int m = 0; m < microBatches; m++) {
                        Device d = lanes.devices().get(m);
                        int share = batch / microBatches + (m < batch % microBatches ? 1 : 0);
                        long start = System.nanoTime();
                        DeviceKvCache cache = retro == null ? new GpuKvCache(d, shape, kvType, share, capacity, MAX_ROWS)
                                : new GpuRetroKvCache(d, shape, retro, share, capacity, MAX_ROWS, 0, deviceStoreLayers,
                                        tiers.formats(), lookups);
                        caches.add(cache);
                        allocateNanos += System.nanoTime() - start;
                        start = System.nanoTime();
                        int before = filled;
                        decodes.add(Decode.fill(cache, config, context, share, random,
                                b -> filling.update(before + b, batch)));
                        filled += share;
                        fillNanos += System.nanoTime() - start;
                    }
                    double allocateSeconds = allocateNanos / 1e9, fillSeconds = fillNanos / 1e9;
                    long inUse = lanes.allocatedBytes() - heldBack;
                    List<Double> tps = new ArrayList<>(), ms = new ArrayList<>();
                    ProgressBar progress = ProgressBar.on(err, "bench context " + context + " batch " + batch, "reps");
                    long hits = 0, accessed = 0;
                    double hostMillis = 0;
                    for (int r = -warmups; r < reps; r++) {
                        long[] before = hitCounts(caches);
                        transformers.forEach(GpuTransformer::resetIdleTime);
                        double seconds = lanes.run(m -> decodes.get(m).run(transformers.get(m), gen));
                        if (r >= 0) {
                            tps.add((double) batch * gen / seconds);
                            hostMillis += transformers.getFirst().idleMillisPerStep() / reps;
                            ms.add(1000 * seconds / gen);
                            progress.update(r + 1, reps);
                            long[] after = hitCounts(caches);
                            hits += after[0] - before[0];
                            accessed += after[1] - before[1];
                        }
                    }
                    // said before the profiled pass, so that a run cut short there still reports its throughput
                    // each pass too: a first timed pass slower than the rest says the warm-up was too short
                    err.printf(Locale.ROOT, "bench: context %d, batch %d: %.1f decode tokens/s over %d timed passes (%s)%s;"
                            + " profiling one more pass%s...%n", context, batch, BenchCommand.mean(tps), reps, passes(tps),
                            retro == null ? "" : String.format(Locale.ROOT, ", cache hit ratio %s, caches allocated in %.1f s, filled"
                                    + " in %.1f s", accessed == 0 ? "- (no layer's store on the host)"
                                    : String.format(Locale.ROOT, "%.3f", (double) hits / accessed), allocateSeconds, fillSeconds),
                            microBatches == 1 ? "" : " of the first micro-batch alone");
                    if (profilerStep && device instanceof CudaDevice cuda) {
                        // as the timed passes run it (graphs and all), for ncu --profile-from-start off
                        cuda.gpu().profilerRange(() -> lanes.run(m -> decodes.get(m).run(transformers.get(m), 1)));
                        err.printf("bench: context %d, batch %d: one step decoded inside a CUDA profiler range%n", context, batch);
                    }
                    StepProfile profile = new StepProfile();
                    RetroLayerProfile retroProfile = new RetroLayerProfile();
                    GpuTransformer first = transformers.getFirst();
                    try {
                        first.withProfile(profile);
                        if (caches.getFirst() instanceof GpuRetroKvCache r) r.withProfile(retroProfile);
                        decodes.getFirst().run(first, gen);
                    } finally {
                        first.withProfile(null);
                        if (caches.getFirst() instanceof GpuRetroKvCache r) r.withProfile(null);
                    }
                    points.add(new Point(context, batch, gen, tps, ms, kvPerSequence, gpuPerSequence, hostPerSequence,
                            deviceStoreLayers, inUse, lanes.peakAllocatedBytes() - heldBack, device.freeBytes(),
                            allocateSeconds, fillSeconds, retro == null || accessed == 0 ? null : (double) hits / accessed,
                            hostMillis, profile.millisPerStep(), retro == null ? null : retroProfile.millisPerLayer()));
                } finally {
                    for (DeviceKvCache c : caches) c.close();
                }
            }
            String gpuKv = retro == null ? null : formatName(tiers.formats().device(), kvType);
            String hostKv = retro == null ? null : formatName(tiers.formats().host(), kvType);
            String valueSums = retro == null ? null : formatName(tiers.formats().valueSums(), kvType);
            String centroids = retro == null ? null : formatName(tiers.formats().centroids(), kvType);
            String lookups = retro == null ? null : describe(lookupsByContext, tiers.askedLookups() == null);
            Report report = new Report(shapeName, mode.name(), kvType.name(), gpuKv, hostKv, valueSums, centroids, lookups,
                    retro != null && GpuRetroKvCache.branches(), device.describe(),
                    Instant.now().toString(),
                    weightBytes, "random keys and values (no prefill)" + (retro == null ? "" : ", indexed on the GPU"), graphs,
                    microBatches, gpuMemory, seed, points);
            BenchCommand.report(report, outFile, json, out, GpuShapeBench::print);
        }
        return 0;
    }

    /**
     * {@code --gpu-memory G}: allocates all but {@code gib} GiB of the GPU's free memory, for as long as the device is
     * open, so that batches are sized and run as on a card of that much; the bytes held back.
     */
    private static long holdBack(Options o, Device device, int gib) {
        long free = device.freeBytes(), keep = (long) gib << 30;
        if (keep > free) {
            throw o.error("--gpu-memory " + gib + ": the GPU has only " + (free >> 30) + " GiB free; ask for at most that");
        }
        long ints = (free - keep) / Integer.BYTES;
        if (ints > 0) {
            device.allocate(org.retroinfer.accel.kernel.ElementType.I32, ints);
        }
        return ints * Integer.BYTES;
    }

    /** Where the lookups ran: one place, or each context's; "(auto)" where {@code --lookups} left the choice to the bench. */
    private static String describe(Map<Integer, String> byContext, boolean auto) {
        java.util.Set<String> places = new java.util.HashSet<>(byContext.values());
        String text = places.size() == 1 ? places.iterator().next() : byContext.entrySet().stream()
                .map(e -> e.getValue() + " at " + e.getKey()).collect(java.util.stream.Collectors.joining(", "));
        return auto ? text + " (auto)" : text;
    }

    /** Cluster hits and lookups so far over the RetroInfer caches among {@code caches} (zeros for dense ones). */
    private static long[] hitCounts(List<DeviceKvCache> caches) {
        long[] sum = new long[2];
        for (DeviceKvCache c : caches) {
            if (c instanceof GpuRetroKvCache r) {
                long[] counts = r.hitCounts();
                sum[0] += counts[0];
                sum[1] += counts[1];
            }
        }
        return sum;
    }

    /** A batch of filled sequences and their next tokens, decoded on pass after pass. */
    private static final class Decode {
        final DeviceKvCache cache;
        final ModelConfig config;
        final int[] tokens, rows;
        final BatchLayout layout;
        final Random random;
        long position;

        private Decode(DeviceKvCache cache, ModelConfig config, int[] sequences, long position, Random random) {
            this.cache = cache;
            this.config = config;
            this.layout = BatchLayout.oneRowEach(sequences);
            this.tokens = new int[sequences.length];
            this.rows = new int[sequences.length];
            for (int b = 0; b < sequences.length; b++) {
                tokens[b] = random.nextInt(config.vocabSize());
                rows[b] = b;
            }
            this.position = position;
            this.random = random;
        }

        /**
         * Opens {@code batch} sequences of {@code context} random positions (indexed, for a RetroInfer cache), telling
         * {@code filled} how many are done after each.
         */
        static Decode fill(DeviceKvCache cache, ModelConfig config, int context, int batch, Random random,
                java.util.function.IntConsumer filled) {
            int[] sequences = new int[batch];
            for (int b = 0; b < batch; b++) {
                sequences[b] = cache.openSequence();
                switch (cache) {
                    case GpuKvCache dense -> dense.fillRandom(sequences[b], context, random.nextLong());
                    case GpuRetroKvCache retro -> retro.fillRandom(sequences[b], context, random.nextLong());
                    default -> throw new IllegalArgumentException("no random fill for " + cache.getClass().getSimpleName());
                }
                filled.accept(b + 1);
            }
            cache.device().synchronize();
            return new Decode(cache, config, sequences, context, random);
        }

        /**
         * Seconds to decode {@code gen} more greedy tokens for every sequence, chosen on the device as greedy generation
         * chooses them ({@link GpuTransformer#forwardGreedy}).
         */
        double run(GpuTransformer transformer, int gen) {
            int batch = tokens.length;
            transformer.device().synchronize();
            long start = System.nanoTime();
            for (int step = 0; step < gen; step++, position++) {
                long[] positions = new long[batch];
                java.util.Arrays.fill(positions, position);
                transformer.forwardGreedy(layout, tokens, positions, cache, rows, tokens);
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /** A store format as the report names it: the KV type's name for the 16-bit store. */
    private static String formatName(StoreFormat format, DType kvType) {
        return format == StoreFormat.HALF ? kvType.name() : format.name();
    }

    private static void print(Report r, PrintStream out) {
        out.printf(Locale.ROOT, "shape: %s, random BF16 weights (%.1f GiB); attention %s, KV %s%s; context: %s; CUDA graphs %s;"
                + " %s; %s%n%n", r.shape(), r.weightBytes() / 1073741824.0, r.attention(), r.kvType(),
                r.hostKv() == null ? "" : " (GPU tier " + r.gpuKv() + ", host tier " + r.hostKv() + ", value sums " + r.valueSums()
                        + ", centroids " + r.centroids() + ", lookups on the "
                        + r.lookups() + (r.branches() ? ", estimation beside the gather" : ", estimation in line") + ")", r.contextFill(),
                r.cudaGraphs() ? "on" : "off",
                r.microBatches() == 1 ? "one stream" : r.microBatches() + " micro-batches on their own streams and threads",
                r.device() + (r.gpuMemoryGiB() == null ? "" : ", held to " + r.gpuMemoryGiB() + " GiB") + ", seed " + r.seed());
        out.println("| context | batch | decode tokens/s | ms per step | host ms between steps | GPU GiB per sequence"
                + " | pinned host GiB per sequence"
                + " | layers stored on the GPU | GPU GiB in use | GPU GiB at peak | GPU GiB free after | allocate s | fill s"
                + " | cache hit ratio |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (Point p : r.points()) {
            out.printf(Locale.ROOT, "| %d | %d | %.1f ± %.1f | %.2f ± %.2f | %.2f | %.2f | %.2f | %s | %.1f | %.2f | %.2f | %.1f | %.1f | %s |%n",
                    p.context(), p.batch(), BenchCommand.mean(p.decodeTokensPerSecond()), BenchCommand.sd(p.decodeTokensPerSecond()),
                    BenchCommand.mean(p.millisPerStep()), BenchCommand.sd(p.millisPerStep()), p.hostMillisPerStep(),
                    p.gpuBytesPerSequence() / 1073741824.0, p.hostBytesPerSequence() / 1073741824.0,
                    r.attention().startsWith("retro") ? String.valueOf(p.deviceStoreLayers()) : "-",
                    p.deviceBytesInUse() / 1073741824.0, p.deviceBytesAtPeak() / 1073741824.0,
                    p.deviceFreeBytesAfter() / 1073741824.0, p.allocateSeconds(), p.fillSeconds(),
                    p.hitRatio() == null ? "-" : String.format(Locale.ROOT, "%.3f", p.hitRatio()));
        }
        printPhases(r, out);
        if (r.points().stream().anyMatch(p -> p.retroMillisPerLayer() != null)) {
            out.printf(Locale.ROOT, "%nRetroInfer attention per layer (ms; device time mark to mark, and the host's lookups and LRU"
                    + " updates):%n%n");
            StringBuilder header = new StringBuilder("| context | batch |"), rule = new StringBuilder("| ---: | ---: |");
            for (RetroLayerProfile.Phase phase : RetroLayerProfile.Phase.values()) {
                header.append(' ').append(phase.name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" |");
                rule.append(" ---: |");
            }
            out.println(header);
            out.println(rule);
            for (Point p : r.points()) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %d |", p.context(), p.batch()));
                for (RetroLayerProfile.Phase phase : RetroLayerProfile.Phase.values()) {
                    row.append(String.format(Locale.ROOT, " %.3f |", p.retroMillisPerLayer().getOrDefault(phase, 0.0)));
                }
                out.println(row);
            }
        }
    }

    private static void printPhases(Report r, PrintStream out) {
        out.printf(Locale.ROOT, "%nDevice time per decode step by phase (ms; one eager run with events between phases):%n%n");
        StringBuilder header = new StringBuilder("| context | batch |"), rule = new StringBuilder("| ---: | ---: |");
        for (StepProfile.Phase phase : StepProfile.Phase.values()) {
            header.append(' ').append(phase.name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" |");
            rule.append(" ---: |");
        }
        out.println(header.append(" total |"));
        out.println(rule.append(" ---: |"));
        for (Point p : r.points()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %d |", p.context(), p.batch()));
            double total = 0;
            for (StepProfile.Phase phase : StepProfile.Phase.values()) {
                double ms = p.phaseMillisPerStep().getOrDefault(phase, 0.0);
                total += ms;
                row.append(String.format(Locale.ROOT, " %.2f |", ms));
            }
            out.println(row.append(String.format(Locale.ROOT, " %.2f |", total)));
        }
    }

    /** Each pass's tokens/s, to a tenth. */
    static String passes(List<Double> tokensPerSecond) {
        return tokensPerSecond.stream().map(t -> String.format(Locale.ROOT, "%.1f", t))
                .collect(java.util.stream.Collectors.joining(", "));
    }
}
