package org.retroinfer.benchmarks;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.VectorSupport;
import org.retroinfer.kernels.WeightMatrix;

/**
 * Batch-1 matmul against the copy bandwidth, interleaved: each round times one copy of
 * {@value CopyBandwidthBenchmark#MIB} MiB (as {@link CopyBandwidthBenchmark}) and then one
 * multiply of every (type, shape), so that each kernel's share of the copy bandwidth is taken from
 * timings a few milliseconds apart. On a virtual machine whose memory bandwidth drifts with its
 * neighbours' load (here the copy ranged from 45 to 61 GB/s between JMH runs), separate JMH
 * forks see different bandwidths and their ratios swing; the per-round ratios do not. Reports
 * the median and the interquartile range of the per-round ratios over the timed rounds.
 *
 * <p>Each matrix is multiplied twice a round, reading its rows as four streams per thread (what
 * {@link Matmul#multiply(WeightMatrix, float[], float[], int)} does) and as one
 * ({@link Matmul.RowStreams#ONE}, the earlier order), which of the two goes first alternating
 * between rounds; the report gives their per-round speed ratio too.
 *
 * <p>Usage: {@code InterleavedMatmul OUT.md [rounds] [warm-up rounds]}.
 */
public final class InterleavedMatmul {
    private static final String[] SHAPES = {"8192x8192", "14336x4096"};
    private static final DType[] TYPES = {DType.F16, DType.BF16};
    private static final Matmul.RowStreams[] ORDERS = {Matmul.RowStreams.FOUR, Matmul.RowStreams.ONE};

    private InterleavedMatmul() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: InterleavedMatmul OUT.md [rounds (default 200)] [warm-up rounds (default 30)]");
            System.exit(2);
        }
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int warmUp = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        try (Arena arena = Arena.ofShared()) {
            long bytes = (long) CopyBandwidthBenchmark.MIB << 20;
            MemorySegment source = arena.allocate(bytes, 4096);
            MemorySegment target = arena.allocate(bytes, 4096);
            source.fill((byte) 1);
            target.fill((byte) 2);
            List<String> names = new ArrayList<>();
            List<WeightMatrix> matrices = new ArrayList<>();
            List<float[]> xs = new ArrayList<>();
            for (String shape : SHAPES) {
                for (DType type : TYPES) {
                    int rows = MatmulBenchmark.rows(shape);
                    int cols = MatmulBenchmark.cols(shape);
                    names.add(type + " " + shape);
                    matrices.add(RandomWeights.matrix(arena, type, rows, cols, 42));
                    float[] x = new float[cols];
                    for (int i = 0; i < cols; i++) {
                        x[i] = (float) Math.sin(i);
                    }
                    xs.add(x);
                }
            }
            int kernels = matrices.size();
            int orders = ORDERS.length;
            double[] copyGbs = new double[rounds];
            double[][][] gbs = new double[kernels][orders][rounds];
            double[][][] ratio = new double[kernels][orders][rounds];
            for (int round = -warmUp; round < rounds; round++) {
                long t0 = System.nanoTime();
                ComputePool.forRange(CopyBandwidthBenchmark.MIB, (start, end) -> MemorySegment.copy(source,
                        start * (1L << 20), target, start * (1L << 20), (end - start) * (1L << 20)));
                double copy = CopyBandwidthBenchmark.BYTES_MOVED / (double) (System.nanoTime() - t0);
                for (int k = 0; k < kernels; k++) {
                    WeightMatrix w = matrices.get(k);
                    float[] out = new float[(int) w.rows()];
                    for (int i = 0; i < orders; i++) {
                        int o = Math.floorMod(i + round, orders);
                        long t = System.nanoTime();
                        Matmul.multiply(w, xs.get(k), out, 1, ORDERS[o]);
                        double rate = w.data().byteSize() / (double) (System.nanoTime() - t);
                        if (round >= 0) {
                            gbs[k][o][round] = rate;
                            ratio[k][o][round] = rate / copy;
                        }
                    }
                }
                if (round >= 0) {
                    copyGbs[round] = copy;
                }
            }
            StringBuilder md = new StringBuilder();
            md.append("# Batch-1 matmul against the copy bandwidth, interleaved\n\n");
            md.append("Generated by `benchmarks/matmul-interleaved.sh` (`InterleavedMatmul`); do not edit by hand.\n\n");
            md.append("| | |\n|---|---|\n");
            md.append("| machine | ").append(System.getProperty("retroinfer.machine", "?")).append(" |\n");
            md.append("| cores | ").append(ComputePool.threads()).append(" compute threads |\n");
            md.append("| date | ").append(Instant.now()).append(" |\n");
            md.append("| JDK | ").append(Runtime.version()).append(" |\n");
            md.append("| vectors | ").append(VectorSupport.requireLive()).append(" |\n");
            md.append(String.format(Locale.ROOT, "| rounds | %d timed after %d warm-up rounds |%n", rounds, warmUp));
            md.append(String.format(Locale.ROOT, "| copy bandwidth | median %.1f GB/s, quartiles %.1f-%.1f "
                    + "(bytes read + bytes written) |%n%n", median(copyGbs), quantile(copyGbs, 0.25),
                    quantile(copyGbs, 0.75)));
            md.append("| kernel | weights | rows read as | median GB/s | median % of copy (same round) "
                    + "| quartiles of % of copy | four streams / one, same round |\n");
            md.append("|---|---|---|---:|---:|---:|---:|\n");
            for (int k = 0; k < kernels; k++) {
                double[] speedup = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    speedup[round] = gbs[k][0][round] / gbs[k][1][round];
                }
                for (int o = 0; o < orders; o++) {
                    boolean four = ORDERS[o] == Matmul.RowStreams.FOUR;
                    md.append(String.format(Locale.ROOT, "| matmul batch 1 | %s | %s | %.1f | %s%.0f%%%s | %.0f%%-%.0f%% | %s |%n",
                            names.get(k), four ? "four streams per thread" : "one stream per thread (before)",
                            median(gbs[k][o]), four ? "**" : "", 100 * median(ratio[k][o]), four ? "**" : "",
                            100 * quantile(ratio[k][o], 0.25), 100 * quantile(ratio[k][o], 0.75),
                            four ? String.format(Locale.ROOT, "%.2f (quartiles %.2f-%.2f)", median(speedup),
                                    quantile(speedup, 0.25), quantile(speedup, 0.75)) : ""));
                }
            }
            md.append("""

                    Each round copies 512 MiB between two off-heap segments (one slice per compute thread, as \
                    the JMH copy benchmark) and then multiplies each matrix twice by a vector (`Matmul.multiply`, \
                    batch 1): once reading each thread's rows as four streams (one row from each quarter of its \
                    range at a time, what `Matmul.multiply` does) and once as one stream (one row after another, \
                    `Matmul.RowStreams.ONE`, the order before), the first of the two alternating between rounds. \
                    A kernel's GB/s counts the weight bytes it reads, and its share of the copy bandwidth is \
                    taken per round against that round's copy; the last column is the per-round ratio of the \
                    two orders' speeds. The matrices are random (`RandomWeights`), 112-128 MiB each, far \
                    beyond the caches.
                    """);
            Path out = Path.of(args[0]);
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, md.toString());
            System.out.print(md);
        }
    }

    private static double median(double[] values) {
        return quantile(values, 0.5);
    }

    private static double quantile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double at = q * (sorted.length - 1);
        int lo = (int) Math.floor(at);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
    }
}
