package org.retroinfer.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.retroinfer.accel.device.Device;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.gpu.GpuKvCache;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.gpu.GpuTransformer;
import org.retroinfer.model.gpu.StepProfile;
import java.util.Map;
import org.retroinfer.model.gpu.GpuWeights;

/**
 * {@code bench --shape NAME --device gpu}: decode throughput of a real model's shape with random BF16 weights made on
 * the GPU. Each sequence's context is filled with random keys and values ({@link GpuKvCache#fillRandom}) instead of
 * prefilled: with random weights and tokens a prefill computes nothing a decode step's speed depends on, and at
 * 128K tokens the GPU path's CUDA-core prefill would take minutes. The batch is the largest whose KV fits the
 * GPU's free memory (after the weights, less a reserve), unless --batch says otherwise. Decoding is greedy over
 * the logits of every row, which come back to the host each step as in real serving.
 */
final class GpuShapeBench {
    /** Device memory kept free for the workspace, the attention's scratch and the driver. */
    private static final long RESERVE_BYTES = 2L << 30;
    /** The most rows a step may have: the largest batch the bench picks. */
    private static final int MAX_ROWS = 256;

    /**
     * One context's results; {@code phaseMillisPerStep}: device time per decode step by phase, from one more run with
     * an event between phases (eager, so it adds up to a little more than the timed runs' steps).
     */
    record Point(int context, int batch, int generated, List<Double> decodeTokensPerSecond, List<Double> millisPerStep,
                 long kvBytesPerSequence, long deviceBytesInUse, Map<StepProfile.Phase, Double> phaseMillisPerStep) {}

    record Report(String shape, String attention, String kvType, String device, String date, long weightBytes,
                  String contextFill, boolean cudaGraphs, List<Point> points) {}

    private GpuShapeBench() {}

    static int run(Options o, String shapeName, ModelConfig config, List<Integer> contexts, Integer fixedBatch, int gen, int reps,
                   int warmups, DType kvType, boolean graphs, Path outFile, boolean json, PrintStream out, PrintStream err) throws IOException {
        try (Device device = Engine.openGpu(o)) {
            err.printf("bench: random %s weights (BF16) on %s...%n", shapeName, device.describe());
            GpuWeights weights = GpuWeights.random(device, config, 1);
            long weightBytes = device.allocatedBytes();
            GpuTransformer transformer = new GpuTransformer(config, weights, device, MAX_ROWS).withGraphs(graphs);
            AttentionShape shape = config.attentionShape();
            Random random = new Random(1);
            List<Point> points = new ArrayList<>();
            for (int context : contexts) {
                long capacity = (long) context + gen;
                long perSequence = GpuKvCache.bytesPerSequence(shape, kvType, capacity);
                int batch = fixedBatch != null ? fixedBatch
                        : (int) Math.min(MAX_ROWS, Math.max(0, device.freeBytes() - RESERVE_BYTES) / perSequence);
                if (batch < 1) {
                    throw o.error("--context " + context + ": one sequence's KV (" + (perSequence >> 20) + " MiB) does not fit the"
                            + " GPU's free memory (" + (device.freeBytes() >> 20) + " MiB)");
                }
                List<Double> tps = new ArrayList<>(), ms = new ArrayList<>();
                long inUse = 0;
                ProgressBar progress = ProgressBar.on(err, "bench context " + context + " batch " + batch, "reps");
                for (int r = -warmups; r < reps; r++) {
                    try (GpuKvCache cache = new GpuKvCache(device, shape, kvType, batch, capacity, MAX_ROWS)) {
                        double seconds = decode(transformer, cache, config, context, batch, gen, random);
                        inUse = Math.max(inUse, device.allocatedBytes());
                        if (r >= 0) {
                            tps.add((double) batch * gen / seconds);
                            ms.add(1000 * seconds / gen);
                            progress.update(r + 1, reps);
                        }
                    }
                }
                StepProfile profile = new StepProfile();
                try (GpuKvCache cache = new GpuKvCache(device, shape, kvType, batch, capacity, MAX_ROWS)) {
                    transformer.withProfile(profile);
                    decode(transformer, cache, config, context, batch, gen, random);
                } finally {
                    transformer.withProfile(null);
                }
                points.add(new Point(context, batch, gen, tps, ms, perSequence, inUse, profile.millisPerStep()));
            }
            Report report = new Report(shapeName, "full", kvType.name(), device.describe(), Instant.now().toString(), weightBytes,
                    "random keys and values (no prefill)", graphs, points);
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            if (outFile != null) {
                mapper.writeValue(outFile.toFile(), report);
            }
            if (json) {
                out.println(mapper.writeValueAsString(report));
            } else {
                print(report, out);
            }
        }
        return 0;
    }

    /** Seconds to decode {@code gen} greedy tokens for each of {@code batch} sequences of {@code context} tokens. */
    private static double decode(GpuTransformer transformer, GpuKvCache cache, ModelConfig config, int context, int batch, int gen,
                                 Random random) {
        int[] sequences = new int[batch];
        int[] tokens = new int[batch];
        int[] rows = new int[batch];
        for (int b = 0; b < batch; b++) {
            sequences[b] = cache.openSequence();
            cache.fillRandom(sequences[b], context, random.nextLong());
            tokens[b] = random.nextInt(config.vocabSize());
            rows[b] = b;
        }
        int vocab = config.vocabSize();
        float[] logits = new float[batch * vocab];
        BatchLayout layout = BatchLayout.oneRowEach(sequences);
        transformer.device().synchronize();
        long start = System.nanoTime();
        for (int step = 0; step < gen; step++) {
            long[] positions = new long[batch];
            java.util.Arrays.fill(positions, context + step);
            transformer.forward(layout, tokens, positions, cache, rows, logits);
            for (int b = 0; b < batch; b++) {
                tokens[b] = argmax(logits, b * vocab, vocab);
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static int argmax(float[] x, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[from + i] > x[from + best]) best = i;
        }
        return best;
    }

    private static void print(Report r, PrintStream out) {
        out.printf(Locale.ROOT, "shape: %s, random BF16 weights (%.1f GiB); attention %s, KV %s; context: %s; CUDA graphs %s; %s%n%n",
                r.shape(), r.weightBytes() / 1073741824.0, r.attention(), r.kvType(), r.contextFill(), r.cudaGraphs() ? "on" : "off",
                r.device());
        out.println("| context | batch | decode tokens/s | ms per step | KV GiB per sequence | GPU GiB in use |");
        out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
        for (Point p : r.points()) {
            out.printf(Locale.ROOT, "| %d | %d | %.1f ± %.1f | %.2f ± %.2f | %.2f | %.1f |%n", p.context(), p.batch(),
                    BenchCommand.mean(p.decodeTokensPerSecond()), BenchCommand.sd(p.decodeTokensPerSecond()),
                    BenchCommand.mean(p.millisPerStep()), BenchCommand.sd(p.millisPerStep()),
                    p.kvBytesPerSequence() / 1073741824.0, p.deviceBytesInUse() / 1073741824.0);
        }
        printPhases(r, out);
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

}
