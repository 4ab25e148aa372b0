package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.LoadedKernel;
import org.retroinfer.accel.cuda.PinnedBuffer;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * Runs {@link CentroidScoring} and {@link ClusterTopK} on a real GPU: first against {@link ClusterScoringTwin} on
 * random inputs (poisoned outputs, NaN past each row's count, a fifth of the clusters empty), with BF16, F32 and
 * INT8 centroids ({@link Int8Centroids}), then timed at Llama 3 8B's shape (8 KV heads, groups of 4, 16 keys per cluster, the spec's
 * 1.8% and 23.2% zones) next to a device-to-device copy of the centroids, whose bandwidth counts the bytes
 * read plus the bytes written (as {@link DecodeAttentionGpuCheck}'s): scoring only reads its centroids, so
 * it can reach the copy's figure. Timed on uniform centroids, random ones, and random ones with the row counts in
 * mapped host memory (what that costs). Exits 1 if the check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.ClusterRankingGpuCheck [BATCH CONTEXT SPLITS]...} (default
 * {@code 4 131072 0 16 32768 0}); SPLITS 0 takes {@link ClusterScoringShape#splitsFor}'s choice for the GPU
 * (one wave of resident scoring blocks).
 */
public final class ClusterRankingGpuCheck {
    /** GPU exp is {@code ex2.approx}, a few ulp; a wrong split or combine errs by 1e-2 or more. */
    private static final double TOLERANCE = 1e-4;
    private static final float SCALE = (float) (1 / Math.sqrt(HEAD_DIM));
    private static final KernelMethod LOGITS_BF16 = KernelMethod.of(CentroidScoring.class, "logitsHalf");
    private static final KernelMethod LOGITS_F32 = KernelMethod.of(CentroidScoring.class, "logitsF32");
    private static final KernelMethod LOGITS_INT8 = KernelMethod.of(CentroidScoring.class, "logitsInt8");

    private ClusterRankingGpuCheck() {}

    /** How the centroids are kept, and the bytes of one element (INT8's scales aside). */
    private enum Format {
        BF16(2), F32(4), INT8(1);

        final int elementBytes;

        Format(int elementBytes) {
            this.elementBytes = elementBytes;
        }
    }

    public static void main(String[] args) {
        long seed = System.nanoTime();
        try (Gpu gpu = Gpu.open()) {
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            boolean ok = true;
            for (Format format : Format.values()) {
                ok &= check(gpu, new Random(seed), new ClusterScoringShape(2, 8, 4, 8192, 12, 148, 1901),
                        new int[] {8192, 5000, 1, 0, 700, 8191, 33, 4097, 8000, 12, 64, 2048, 3000, 8192, 100, 511}, format)
                        & check(gpu, new Random(seed + 1), new ClusterScoringShape(1, 2, 8, 600, 3, 11, 139), new int[] {600, 77}, format)
                        & check(gpu, new Random(seed + 2), new ClusterScoringShape(1, 4, 1, 300, 2, 6, 70), new int[] {300, 299, 2, 150}, format)
                        // a 1M-token context's rows, over 33 selection blocks each
                        & check(gpu, new Random(seed + 3), new ClusterScoringShape(1, 8, 4, 65600, 16, 1181, 15219),
                                new int[] {65600, 65000, 40000, 9000, 65599, 2049, 2048, 30000}, format);
            }
            String[] shapes = args.length > 0 ? args : new String[] {"4", "131072", "0", "16", "32768", "0"};
            GpuTiming.warmUp(gpu);
            for (int i = 0; i + 2 < shapes.length; i += 3) {
                for (Format format : Format.values()) {
                    time(gpu, Integer.parseInt(shapes[i]), Integer.parseInt(shapes[i + 1]), Integer.parseInt(shapes[i + 2]), format);
                }
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    /**
     * Scores within {@link #TOLERANCE} of the twin, and zones equal as sets to the twin's selection from the
     * GPU's own F32 scores (the ranking rule is compared, not the float rounding).
     */
    private static boolean check(Gpu gpu, Random random, ClusterScoringShape shape, int[] counts, Format format) {
        try (Arena arena = Arena.ofShared(); Buffers b = new Buffers(gpu, shape, format)) {
            F32Array q = F32Array.allocate(arena, shape.queryElements());
            for (long i = 0; i < shape.queryElements(); i++) q.set(i, (float) random.nextGaussian());
            BF16Array bf16 = format == Format.BF16 ? BF16Array.allocate(arena, shape.centroidElements()) : null;
            F32Array f32Centroids = format == Format.F32 ? F32Array.allocate(arena, shape.centroidElements()) : null;
            I32Array levels = format == Format.INT8 ? I32Array.allocate(arena, shape.centroidElements() / 4) : null;
            I32Array levelScales = format == Format.INT8 ? I32Array.allocate(arena, shape.clusterElements()) : null;
            float[] centroid = new float[HEAD_DIM];
            F32Array sizes = F32Array.allocate(arena, shape.clusterElements());
            int[] budgets = new int[2 * shape.rows()];
            for (int row = 0; row < shape.rows(); row++) {
                for (int c = 0; c < shape.capacity(); c++) {
                    for (int d = 0; d < HEAD_DIM; d++) {
                        float value = c < counts[row] ? (float) random.nextGaussian() : Float.NaN;
                        switch (format) {
                            case F32 -> f32Centroids.set(shape.centroidOffset(row, c) + d, value);
                            case BF16 -> bf16.set(shape.centroidOffset(row, c) + d, value);
                            case INT8 -> centroid[d] = value;
                        }
                    }
                    if (format == Format.INT8) { // random levels and a NaN scale past the count
                        long v = shape.clusterOffset(row, c);
                        Int8Centroids.store(centroid, 0, levels, levelScales, v);
                        if (c >= counts[row]) {
                            for (int w = 0; w < HEAD_DIM / 4; w++) levels.set(Int8Centroids.word(v, w / 2) + w % 2, random.nextInt());
                        }
                    }
                    sizes.set(shape.clusterOffset(row, c), c >= counts[row] ? Float.NaN : random.nextInt(5) == 0 ? 0 : 16);
                }
                budgets[2 * row] = Math.min(shape.maxRetrieval(), Math.max(1, Math.round(counts[row] * 0.018f)));
                budgets[2 * row + 1] = Math.min(shape.maxEstimation(), Math.round(counts[row] * 0.232f));
            }
            I32Array countArray = I32Array.of(arena, counts);
            I32Array budgetArray = I32Array.of(arena, budgets);
            CudaStream stream = gpu.defaultStream();
            gpu.copy(q, b.q, stream);
            switch (format) {
                case F32 -> gpu.copy(f32Centroids, b.centroids.asF32(), stream);
                case BF16 -> gpu.copy(bf16, b.centroids.asBF16(), stream);
                case INT8 -> {
                    gpu.copy(levels, b.centroids.asI32(), stream);
                    gpu.copy(levelScales, b.levelScales.asI32(), stream);
                }
            }
            gpu.copy(sizes, b.sizes, stream);
            gpu.copy(countArray, b.counts, stream);
            gpu.copy(budgetArray, b.budgets, stream);
            // twice: the selection must leave its work area as it found it, for the next launch (a graph's replay)
            boolean ok = true;
            for (int run = 1; run <= 2; run++) {
                for (F32Array output : new F32Array[] {b.logits, b.partialMax, b.partialSum, b.headMax, b.headSum, b.scores}) {
                    gpu.fill(output, (byte) 0xFF, stream); // NaN
                }
                for (I32Array output : new I32Array[] {b.retrieval, b.estimation, b.zoneSizes}) {
                    gpu.fill(output, (byte) 0xFF, stream); // −1
                }
                b.launch(gpu, stream, b.counts);
                F32Array scores = F32Array.allocate(arena, shape.clusterElements());
                I32Array retrieval = I32Array.allocate(arena, shape.retrievalElements());
                I32Array estimation = I32Array.allocate(arena, shape.estimationElements());
                I32Array zoneSizes = I32Array.allocate(arena, 2L * shape.rows());
                gpu.copy(b.scores, scores, stream);
                gpu.copy(b.retrieval, retrieval, stream);
                gpu.copy(b.estimation, estimation, stream);
                gpu.copy(b.zoneSizes, zoneSizes, stream);
                stream.synchronize();
                java.util.function.LongToDoubleFunction read = switch (format) {
                    case F32 -> f32Centroids::get;
                    case BF16 -> bf16::get;
                    case INT8 -> e -> Int8Centroids.value(levels, levelScales, e / HEAD_DIM, (int) (e % HEAD_DIM));
                };
                // INT8 centroids are scored with the queries rounded to INT8 as well
                ClusterScoringTwin.Scores twin = format == Format.INT8
                        ? ClusterScoringTwin.score(shape, ClusterScoringTwin.int8Queries(shape, q, SCALE, arena), read, countArray, 1f)
                        : ClusterScoringTwin.score(shape, q, read, countArray, SCALE);
                double worst = 0;
                for (int row = 0; row < shape.rows(); row++) {
                    for (int c = 0; c < counts[row]; c++) {
                        double error = Math.abs(scores.get(shape.clusterOffset(row, c)) - twin.scores()[(int) shape.clusterOffset(row, c)]);
                        worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
                    }
                }
                ClusterScoringTwin.Zones zones = ClusterScoringTwin.select(shape, scores, sizes, countArray, budgetArray);
                int wrongZones = 0;
                for (int row = 0; row < shape.rows(); row++) {
                    boolean same = zoneSizes.get(2L * row) == zones.retrieval()[row].length
                            && zoneSizes.get(2L * row + 1) == zones.estimation()[row].length
                            && Arrays.equals(zones.retrieval()[row], sorted(retrieval, row, shape.maxRetrieval(), zones.retrieval()[row].length))
                            && Arrays.equals(zones.estimation()[row], sorted(estimation, row, shape.maxEstimation(), zones.estimation()[row].length));
                    wrongZones += same ? 0 : 1;
                }
                boolean good = worst <= TOLERANCE && wrongZones == 0;
                ok &= good;
                System.out.printf("check %s centroids %s counts %s, run %d: worst score error %.2e (tolerance %.0e), %d rows with wrong zones %s%n",
                        format, shape, Arrays.toString(counts), run, worst, TOLERANCE, wrongZones, good ? "OK" : "FAILED");
            }
            return ok;
        }
    }

    private static int[] sorted(I32Array ids, int row, int stride, int size) {
        int[] out = new int[size];
        for (int i = 0; i < size; i++) out[i] = ids.get((long) row * stride + i);
        Arrays.sort(out);
        return out;
    }

    /**
     * Median GPU time of scoring and of scoring + selection at Llama 3 8B's shape (replayed from a CUDA graph, so that the
     * host's launches are not timed), scoring as GB/s of centroids read, beside a device copy of the centroids.
     */
    private static void time(Gpu gpu, int batch, int context, int requestedSplits, Format format) {
        int clusters = context / 16;
        int perSm = residentBlocksPerSm(gpu, format);
        // 0: the split count ClusterScoringShape.splitsFor picks for this GPU
        int splits = requestedSplits > 0 ? requestedSplits
                : ClusterScoringShape.splitsFor(batch * 8, 4, clusters, perSm * gpu.info().multiprocessors());
        int retrievalBudget = Math.max(1, Math.round(clusters * 0.018f));
        int estimationBudget = Math.round(clusters * 0.232f);
        ClusterScoringShape shape = new ClusterScoringShape(batch, 8, 4, clusters, splits, retrievalBudget, estimationBudget);
        // INT8 centroids read their scales too
        long centroidBytes = format.elementBytes * shape.centroidElements() + (format == Format.INT8 ? 4 * shape.clusterElements() : 0);
        try (Arena arena = Arena.ofShared(); Buffers b = new Buffers(gpu, shape, format);
                DeviceBuffer copy = gpu.allocate(format.elementBytes * shape.centroidElements());
                PinnedBuffer mappedCounts = gpu.allocatePinned(4L * shape.rows())) {
            CudaStream stream = gpu.defaultStream();
            Random random = new Random(1);
            F32Array q = F32Array.allocate(arena, shape.queryElements());
            for (long i = 0; i < shape.queryElements(); i++) q.set(i, (float) random.nextGaussian());
            gpu.copy(q, b.q, stream);
            // 0x3C3C3C3C: BF16 ≈ 0.0115 and F32 ≈ 0.0115 (INT8: levels 60, scales ≈ 0.0115), finite, so timing runs the real path
            gpu.fill(b.centroids.asI32(), (byte) 0x3C, stream);
            gpu.fill(b.levelScales.asI32(), (byte) 0x3C, stream);
            gpu.fill(b.sizes, (byte) 0x41, stream); // F32 0x41414141 ≈ 12.1: every cluster non-empty
            int[] counts = new int[shape.rows()];
            Arrays.fill(counts, clusters);
            int[] budgets = new int[2 * shape.rows()];
            for (int row = 0; row < shape.rows(); row++) {
                budgets[2 * row] = retrievalBudget;
                budgets[2 * row + 1] = estimationBudget;
            }
            gpu.copy(I32Array.of(arena, counts), b.counts, stream);
            gpu.copy(I32Array.of(arena, budgets), b.budgets, stream);
            // Timed on centroids of one repeated value, on random ones (as an index holds), and on random ones with the row
            // counts in mapped host memory, as GpuRetroKvCache kept them until the bench's scoring was found to take 92-95
            // us at 128K x 10 under ncu where this check's took 59.7 us (docs/results/gpu-retro/h200/s7-call-7, s8-call-3)
            mappedCounts.asI32().copyFrom(counts);
            double copyMs = GpuTiming.medianMillis(gpu, stream, () -> gpu.copy(b.centroids.asI32(), copy.asI32(), stream));
            double bytes = centroidBytes;
            // The copy reads and writes the centroids' bytes (INT8's levels, not their scales): its bandwidth counts both
            // (issue 7's yardstick)
            double copyGbs = 2.0 * copy.byteSize() / copyMs / 1e6;
            for (String values : new String[] {"uniform", "random", "random, mapped counts"}) {
                if (values.equals("random")) fillRandom(gpu, arena, stream, b, random);
                I32Array rowCounts = values.endsWith("mapped counts") ? I32Array.view(mappedCounts.mapped()) : b.counts;
                // replayed from a graph: launched one by one, the 16-bit kernel timed how fast Java launches it (0.149 ms
                // at 10 x 128K against 59.7 us of kernel under ncu, docs/results/gpu-retro/h200/s7-call-7)
                double scoring = GpuTiming.graphMillis(gpu, stream, () -> b.launchScoring(gpu, stream, rowCounts));
                double both = GpuTiming.graphMillis(gpu, stream, () -> b.launch(gpu, stream, rowCounts));
                double scoringGbs = bytes / scoring / 1e6;
                System.out.printf("time batch %d context %d (%d clusters per row, %d + %d selected) %s %s centroids, splits %d"
                        + " (%d scoring blocks per SM): scoring %.3f ms = %.0f GB/s of centroids; D2D copy %.0f GB/s (read + written);"
                        + " scoring at %.1f%% of the copy; scoring + selection %.3f ms%n", batch, context, clusters, retrievalBudget,
                        estimationBudget, values, format, splits, perSm, scoring, scoringGbs, copyGbs,
                        100 * scoringGbs / copyGbs, both);
            }
        }
    }

    /** Standard normal centroids, written a row at a time through one host row. */
    private static void fillRandom(Gpu gpu, Arena arena, CudaStream stream, Buffers b, Random random) {
        int capacity = b.shape.capacity();
        long row = (long) capacity * HEAD_DIM;
        F32Array f32Row = b.format == Format.F32 ? F32Array.allocate(arena, row) : null;
        BF16Array bf16Row = b.format == Format.BF16 ? BF16Array.allocate(arena, row) : null;
        I32Array levelRow = b.format == Format.INT8 ? I32Array.allocate(arena, row / 4) : null;
        I32Array scaleRow = b.format == Format.INT8 ? I32Array.allocate(arena, capacity) : null;
        float[] centroid = new float[HEAD_DIM];
        for (long r = 0; r < b.shape.rows(); r++) {
            for (int c = 0; c < capacity; c++) {
                for (int d = 0; d < HEAD_DIM; d++) {
                    float value = (float) random.nextGaussian();
                    long i = (long) c * HEAD_DIM + d;
                    switch (b.format) {
                        case F32 -> f32Row.set(i, value);
                        case BF16 -> bf16Row.set(i, value);
                        case INT8 -> centroid[d] = value;
                    }
                }
                if (b.format == Format.INT8) Int8Centroids.store(centroid, 0, levelRow, scaleRow, c);
            }
            switch (b.format) {
                case F32 -> gpu.copy(f32Row, b.centroids.asF32().slice(r * row, row), stream);
                case BF16 -> gpu.copy(bf16Row, b.centroids.asBF16().slice(r * row, row), stream);
                case INT8 -> {
                    gpu.copy(levelRow, b.centroids.asI32().slice(r * row / 4, row / 4), stream);
                    gpu.copy(scaleRow, b.levelScales.asI32().slice(r * capacity, capacity), stream);
                }
            }
            stream.synchronize();
        }
    }

    /** Scoring blocks of Llama 3 8B's group of 4 that one SM runs at once. */
    private static int residentBlocksPerSm(Gpu gpu, Format format) {
        // the 16-bit kernel compiles for its centroids' element type, which only an array of that type names
        try (DeviceBuffer typed = gpu.allocate(16)) {
            LoadedKernel logits = format == Format.INT8
                    ? gpu.load(LOGITS_INT8, null, null, null, null, null, null, null, 0, 0, 0f, 4)
                    : gpu.load(format == Format.F32 ? LOGITS_F32 : LOGITS_BF16, null, format == Format.F32 ? null : typed.asBF16(),
                            null, null, null, null, 0, 0, 0f, 4);
            return gpu.maxActiveBlocksPerMultiprocessor(logits, DecodeAttentionShape.PARTIAL_THREADS);
        }
    }

    /** The device buffers of one shape, with BF16, F32 or INT8 centroids (INT8's scales in {@code levelScales}). */
    private static final class Buffers implements AutoCloseable {
        final ClusterScoringShape shape;
        final Format format;
        final F32Array q, sizes, logits, partialMax, partialSum, headMax, headSum, scores;
        final DeviceBuffer centroids, levelScales;
        final I32Array counts, budgets, retrieval, estimation, zoneSizes, work;
        private final DeviceBuffer[] owned;

        Buffers(Gpu gpu, ClusterScoringShape shape, Format format) {
            this.shape = shape;
            this.format = format;
            owned = new DeviceBuffer[] {gpu.allocate(4 * shape.queryElements()), gpu.allocate(format.elementBytes * shape.centroidElements()),
                    gpu.allocate(4 * shape.clusterElements()), gpu.allocate(4L * shape.rows()), gpu.allocate(8L * shape.rows()),
                    gpu.allocate(4 * shape.logitElements()), gpu.allocate(4 * shape.partialElements()),
                    gpu.allocate(4 * shape.partialElements()), gpu.allocate(4 * shape.headElements()),
                    gpu.allocate(4 * shape.headElements()), gpu.allocate(4 * shape.clusterElements()),
                    gpu.allocate(4 * Math.max(1, shape.retrievalElements())), gpu.allocate(4 * Math.max(1, shape.estimationElements())),
                    gpu.allocate(8L * shape.rows()), gpu.allocate(format == Format.INT8 ? 4 * shape.clusterElements() : 16),
                    gpu.allocate(4 * shape.selectionWorkElements())};
            q = owned[0].asF32();
            centroids = owned[1];
            sizes = owned[2].asF32();
            counts = owned[3].asI32();
            budgets = owned[4].asI32();
            logits = owned[5].asF32();
            partialMax = owned[6].asF32();
            partialSum = owned[7].asF32();
            headMax = owned[8].asF32();
            headSum = owned[9].asF32();
            scores = owned[10].asF32();
            retrieval = owned[11].asI32();
            estimation = owned[12].asI32();
            zoneSizes = owned[13].asI32();
            levelScales = owned[14];
            work = owned[15].asI32();
            gpu.fill(work, (byte) 0, gpu.defaultStream()); // the selection leaves its work area as it finds it: zero
        }

        void launchScoring(Gpu gpu, CudaStream stream, I32Array counts) {
            if (format == Format.INT8) {
                gpu.launch(LOGITS_INT8, shape.scoringGrid(), stream, q, centroids.asI32(), levelScales.asI32(), counts, logits,
                        partialMax, partialSum, shape.capacity(), shape.splits(), SCALE, shape.groupSize());
            } else {
                gpu.launch(format == Format.F32 ? LOGITS_F32 : LOGITS_BF16, shape.scoringGrid(), stream, q,
                        format == Format.F32 ? centroids.asF32() : centroids.asBF16(), counts, logits, partialMax, partialSum,
                        shape.capacity(), shape.splits(), SCALE, shape.groupSize());
            }
        }

        void launch(Gpu gpu, CudaStream stream, I32Array counts) {
            launchScoring(gpu, stream, counts);
            ClusterTopK.launch((kernel, grid, arguments) -> gpu.launch(kernel, grid, stream, arguments), gpu.info().multiprocessors(), shape, logits, partialMax,
                    partialSum, counts, sizes, budgets, headMax, headSum, scores, work, retrieval, estimation, zoneSizes);
        }

        @Override
        public void close() {
            for (DeviceBuffer b : owned) b.close();
        }
    }
}
