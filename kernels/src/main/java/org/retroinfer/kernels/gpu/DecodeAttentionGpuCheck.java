package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.LoadedKernel;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * Runs {@link SplitKvDecode} on a real GPU: first against its float64 twin on random inputs (poisoned
 * outputs, NaN past each sequence's end), plain and as RetroInfer's estimation + exact zone sequence, then timed at Llama 3 8B's decode shape (8 KV heads, groups of
 * 4, d = 128, BF16) next to a device-to-device copy of the same bytes, whose bandwidth counts the bytes read
 * plus the bytes written. Exits 1 if the check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.DecodeAttentionGpuCheck [--fast-math] [BATCH CONTEXT SPLITS]...} (default
 * {@code 4 32768 16}); SPLITS 0 takes {@link DecodeAttentionShape#splitsFor}'s choice for the GPU; {@code --fast-math}
 * compiles with {@link org.retroinfer.accel.compiler.CompileOptions#fastMath}.
 */
public final class DecodeAttentionGpuCheck {
    /** GPU exp/log are {@code ex2/lg2.approx}, a few ulp; a wrong split or weight errs by 1e-2 or more. */
    private static final double TOLERANCE = 1e-4;
    private static final float SCALE = (float) (1 / Math.sqrt(HEAD_DIM));
    private static final KernelMethod PARTIALS = KernelMethod.of(SplitKvDecode.class, "partials");
    private static final KernelMethod MERGE = KernelMethod.of(SplitKvMerge.class, "merge");
    private static final KernelMethod WEIGHTED_PARTIALS = KernelMethod.of(SplitKvDecode.class, "partialsWeighted");
    private static final KernelMethod MERGE_WITH_PREVIOUS = KernelMethod.of(SplitKvMerge.class, "mergeWithPrevious");

    private DecodeAttentionGpuCheck() {}

    public static void main(String[] args) {
        long seed = System.nanoTime();
        boolean fastMath = args.length > 0 && args[0].equals("--fast-math");
        if (fastMath) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        try (Gpu gpu = Gpu.open(CudaDriver.system(), 0, fastMath)) {
            System.out.println("device: " + gpu.info() + (fastMath ? ", fast math" : ", Java float semantics") + ", seed " + seed);
            boolean ok = check(gpu, new Random(seed), new DecodeAttentionShape(3, 8, 4, 1100, 9), new int[] {1100, 517, 3})
                    & check(gpu, new Random(seed + 1), new DecodeAttentionShape(2, 2, 8, 300, 5), new int[] {300, 77})
                    & check(gpu, new Random(seed + 2), new DecodeAttentionShape(1, 4, 1, 200, 3), new int[] {129})
                    & checkZones(gpu, new Random(seed + 3), new DecodeAttentionShape(2, 8, 4, 1100, 6), new int[] {1100, 300},
                            new DecodeAttentionShape(2, 8, 4, 200, 2), new int[] {200, 33});
            String[] shapes = args.length > 0 ? args : new String[] {"4", "32768", "16"};
            GpuTiming.warmUp(gpu);
            for (int i = 0; i + 2 < shapes.length; i += 3) {
                time(gpu, Integer.parseInt(shapes[i]), Integer.parseInt(shapes[i + 1]), Integer.parseInt(shapes[i + 2]));
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    private static boolean check(Gpu gpu, Random random, DecodeAttentionShape shape, int[] lengths) {
        try (Arena arena = Arena.ofShared(); Buffers b = new Buffers(gpu, shape)) {
            F32Array q = F32Array.allocate(arena, shape.queryElements());
            BF16Array k = BF16Array.allocate(arena, shape.kvElements());
            BF16Array v = BF16Array.allocate(arena, shape.kvElements());
            for (long i = 0; i < shape.queryElements(); i++) q.set(i, (float) random.nextGaussian());
            fill(shape, lengths, k, random);
            fill(shape, lengths, v, random);
            I32Array lengthArray = I32Array.of(arena, lengths);
            CudaStream stream = gpu.defaultStream();
            gpu.copy(q, b.q, stream);
            gpu.copy(k, b.k, stream);
            gpu.copy(v, b.v, stream);
            gpu.copy(lengthArray, b.lengths, stream);
            for (F32Array output : new F32Array[] {b.partialOut, b.partialLse, b.out, b.outLse}) {
                gpu.fill(output, (byte) 0xFF, stream); // NaN
            }
            b.launch(gpu, stream);
            F32Array out = F32Array.allocate(arena, shape.queryElements());
            F32Array outLse = F32Array.allocate(arena, (long) shape.batch() * shape.queryHeads());
            gpu.copy(b.out, out, stream);
            gpu.copy(b.outLse, outLse, stream);
            stream.synchronize();
            SplitKvDecodeTwin.Output twin = SplitKvDecodeTwin.merge(shape, SplitKvDecodeTwin.partials(shape, q, k, v, lengthArray, SCALE));
            double worst = Math.max(worst(out, twin.out()), worst(outLse, twin.lse()));
            boolean ok = worst <= TOLERANCE;
            System.out.printf("check %s lengths %s: worst error %.2e (tolerance %.0e) %s%n", shape, Arrays.toString(lengths), worst,
                    TOLERANCE, ok ? "OK" : "FAILED");
            return ok;
        }
    }

    /**
     * RetroInfer's sequence (spec §2.4): the weighted kernel and merge over the estimation zone (centroids,
     * value sums, cluster sizes) give (out_E, lse_E); the plain kernel over the exact zone, merged with that
     * previous partial, gives the attention output, checked against the twin.
     */
    private static boolean checkZones(Gpu gpu, Random random, DecodeAttentionShape exact, int[] lengths,
            DecodeAttentionShape estimation, int[] clusters) {
        try (Arena arena = Arena.ofShared(); Buffers x = new Buffers(gpu, exact); Buffers e = new Buffers(gpu, estimation);
                DeviceBuffer sizeBuffer = gpu.allocate(4 * estimation.weightElements())) {
            F32Array q = F32Array.allocate(arena, exact.queryElements());
            for (long i = 0; i < exact.queryElements(); i++) q.set(i, (float) random.nextGaussian());
            BF16Array k = BF16Array.allocate(arena, exact.kvElements());
            BF16Array v = BF16Array.allocate(arena, exact.kvElements());
            BF16Array centroids = BF16Array.allocate(arena, estimation.kvElements());
            BF16Array valueSums = BF16Array.allocate(arena, estimation.kvElements());
            fill(exact, lengths, k, random);
            fill(exact, lengths, v, random);
            fill(estimation, clusters, centroids, random);
            fill(estimation, clusters, valueSums, random);
            F32Array sizes = F32Array.allocate(arena, estimation.weightElements());
            for (int s = 0; s < estimation.batch(); s++) {
                for (int h = 0; h < estimation.kvHeads(); h++) {
                    for (long t = 0; t < estimation.capacity(); t++) {
                        sizes.set(estimation.weightOffset(s, h, t), t < clusters[s] ? 1 + random.nextInt(64) : Float.NaN);
                    }
                }
            }
            I32Array lengthArray = I32Array.of(arena, lengths);
            I32Array clusterArray = I32Array.of(arena, clusters);
            CudaStream stream = gpu.defaultStream();
            F32Array deviceSizes = sizeBuffer.asF32();
            gpu.copy(q, x.q, stream);
            gpu.copy(q, e.q, stream);
            gpu.copy(k, x.k, stream);
            gpu.copy(v, x.v, stream);
            gpu.copy(centroids, e.k, stream);
            gpu.copy(valueSums, e.v, stream);
            gpu.copy(sizes, deviceSizes, stream);
            gpu.copy(lengthArray, x.lengths, stream);
            gpu.copy(clusterArray, e.lengths, stream);
            for (F32Array output : new F32Array[] {x.partialOut, x.partialLse, x.out, x.outLse, e.partialOut, e.partialLse, e.out, e.outLse}) {
                gpu.fill(output, (byte) 0xFF, stream); // NaN
            }
            gpu.launch(WEIGHTED_PARTIALS, estimation.partialsGrid(), stream, e.q, e.k, e.v, deviceSizes, e.lengths, e.partialOut,
                    e.partialLse, estimation.kvHeads(), estimation.capacity(), estimation.splits(), SCALE, estimation.groupSize());
            gpu.launch(MERGE, estimation.mergeGrid(), stream, e.partialOut, e.partialLse, e.out, e.outLse, estimation.splits(),
                    estimation.groupSize());
            gpu.launch(PARTIALS, exact.partialsGrid(), stream, x.q, x.k, x.v, x.lengths, x.partialOut, x.partialLse, exact.kvHeads(),
                    exact.capacity(), exact.splits(), SCALE, exact.groupSize());
            gpu.launch(MERGE_WITH_PREVIOUS, exact.mergeGrid(), stream, x.partialOut, x.partialLse, e.out, e.outLse, x.out, x.outLse,
                    exact.splits(), exact.groupSize());
            F32Array out = F32Array.allocate(arena, exact.queryElements());
            F32Array outLse = F32Array.allocate(arena, (long) exact.batch() * exact.queryHeads());
            gpu.copy(x.out, out, stream);
            gpu.copy(x.outLse, outLse, stream);
            stream.synchronize();
            SplitKvDecodeTwin.Output previous = SplitKvDecodeTwin.merge(estimation,
                    SplitKvDecodeTwin.weightedPartials(estimation, q, centroids, valueSums, sizes, clusterArray, SCALE));
            SplitKvDecodeTwin.Output twin = SplitKvDecodeTwin.merge(exact,
                    SplitKvDecodeTwin.partials(exact, q, k, v, lengthArray, SCALE), previous);
            double worst = Math.max(worst(out, twin.out()), worst(outLse, twin.lse()));
            boolean ok = worst <= TOLERANCE;
            System.out.printf("check estimation %s clusters %s + exact %s lengths %s: worst error %.2e (tolerance %.0e) %s%n",
                    estimation, Arrays.toString(clusters), exact, Arrays.toString(lengths), worst, TOLERANCE, ok ? "OK" : "FAILED");
            return ok;
        }
    }

    /** Random values in each sequence's first {@code length} slots, NaN in the rest. */
    private static void fill(DecodeAttentionShape shape, int[] lengths, BF16Array cache, Random random) {
        for (int s = 0; s < shape.batch(); s++) {
            for (int h = 0; h < shape.kvHeads(); h++) {
                for (long t = 0; t < shape.capacity(); t++) {
                    for (int d = 0; d < HEAD_DIM; d++) {
                        cache.set(shape.kvOffset(s, h, t) + d, t < lengths[s] ? (float) random.nextGaussian() : Float.NaN);
                    }
                }
            }
        }
    }

    /** NaN counts as an infinite error. */
    private static double worst(F32Array actual, double[] expected) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(actual.get(i) - expected[i]);
            worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
        }
        return worst;
    }

    /** Median GPU time of both kernels at Llama 3 8B's shape, as GB/s of K/V read, beside a device copy. */
    private static void time(Gpu gpu, int batch, int context, int requestedSplits) {
        // 0: the split count DecodeAttentionShape.splitsFor picks for this GPU
        int splits = requestedSplits > 0 ? requestedSplits
                : DecodeAttentionShape.splitsFor(batch, 8, 4, context, residentBlocks(gpu));
        DecodeAttentionShape shape = new DecodeAttentionShape(batch, 8, 4, context, splits);
        try (Arena arena = Arena.ofShared(); Buffers b = new Buffers(gpu, shape); DeviceBuffer copy = gpu.allocate(2 * shape.kvElements())) {
            CudaStream stream = gpu.defaultStream();
            gpu.fill(b.q, (byte) 0x3C, stream);
            gpu.fill(b.k, (byte) 0x3C, stream); // BF16 0x3C3C ≈ 0.0115: finite, so timing runs the real path
            gpu.fill(b.v, (byte) 0x3C, stream);
            int[] lengths = new int[batch];
            Arrays.fill(lengths, context);
            gpu.copy(I32Array.of(arena, lengths), b.lengths, stream);
            double attention = GpuTiming.medianMillis(gpu, stream, () -> b.launch(gpu, stream));
            double copyMs = GpuTiming.medianMillis(gpu, stream, () -> gpu.copy(b.k, copy.asBF16(), stream));
            double kvBytes = 2.0 * 2 * shape.kvElements();
            // The copy moves K's bytes; twice its time moves the K/V's. Its bandwidth counts bytes read plus
            // bytes written, as issue 7's yardstick (3.0 TB/s on an H100): a kernel that only reads can reach it.
            double copyGbs = 2 * kvBytes / (2 * copyMs) / 1e6;
            double attentionGbs = kvBytes / attention / 1e6;
            System.out.printf("time batch %d context %d splits %d: attention %.3f ms = %.0f GB/s of K/V; D2D copy %.0f GB/s"
                    + " (read + written); attention at %.1f%% of the copy%n", batch, context, splits, attention, attentionGbs,
                    copyGbs, 100 * attentionGbs / copyGbs);
        }
    }

    /** Partials blocks of Llama 3 8B's group of 4 that the GPU runs at once. */
    private static int residentBlocks(Gpu gpu) {
        try (Arena arena = Arena.ofConfined()) {
            BF16Array kv = BF16Array.allocate(arena, 8); // only its element type matters: the launch compiles for BF16 K/V
            LoadedKernel partials = gpu.load(PARTIALS, null, kv, kv, null, null, null, 0, 0L, 0, 0f, 4);
            return gpu.maxActiveBlocksPerMultiprocessor(partials, DecodeAttentionShape.PARTIAL_THREADS) * gpu.info().multiprocessors();
        }
    }

    /** The device buffers of one shape. */
    private static final class Buffers implements AutoCloseable {
        final DecodeAttentionShape shape;
        final F32Array q, partialOut, partialLse, out, outLse;
        final BF16Array k, v;
        final I32Array lengths;
        private final DeviceBuffer[] owned;

        Buffers(Gpu gpu, DecodeAttentionShape shape) {
            this.shape = shape;
            owned = new DeviceBuffer[] {gpu.allocate(4 * shape.queryElements()), gpu.allocate(2 * shape.kvElements()),
                    gpu.allocate(2 * shape.kvElements()), gpu.allocate(4L * shape.batch()), gpu.allocate(4 * shape.partialRows() * HEAD_DIM),
                    gpu.allocate(4 * shape.partialRows()), gpu.allocate(4 * shape.queryElements()),
                    gpu.allocate(4L * shape.batch() * shape.queryHeads())};
            q = owned[0].asF32();
            k = owned[1].asBF16();
            v = owned[2].asBF16();
            lengths = owned[3].asI32();
            partialOut = owned[4].asF32();
            partialLse = owned[5].asF32();
            out = owned[6].asF32();
            outLse = owned[7].asF32();
        }

        void launch(Gpu gpu, CudaStream stream) {
            gpu.launch(PARTIALS, shape.partialsGrid(), stream, q, k, v, lengths, partialOut, partialLse, shape.kvHeads(),
                    shape.capacity(), shape.splits(), SCALE, shape.groupSize());
            gpu.launch(MERGE, shape.mergeGrid(), stream, partialOut, partialLse, out, outLse, shape.splits(), shape.groupSize());
        }

        @Override
        public void close() {
            for (DeviceBuffer b : owned) b.close();
        }
    }
}
