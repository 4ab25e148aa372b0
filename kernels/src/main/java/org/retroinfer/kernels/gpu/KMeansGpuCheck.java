package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaEvent;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * The GPU index build ({@link KMeansBuild}: {@link KMeansCentring}, {@link KMeansAssign}, {@link KMeansUpdate}) on a
 * real GPU at the spec's 128K shape, checked against {@link KMeansTwin} and timed.
 *
 * <p>Checks, on random keys around random directions (BF16, one head of a dense cache at a non-zero offset) and
 * random BF16 values: the mean key within float error of float64; sizes, starts and members exactly the stable
 * counting sort of the GPU's final assignment; each non-empty centroid the float64 mean of its members' original
 * keys; value sums within float error; and the assignment kernel, launched alone on the build's centred keys against
 * random unit centroids, globally and segmented, equal to the float64 argmax on a sample of keys wherever the
 * runner-up is not within F32 rounding. (Agreement of a whole run with the CPU's {@code SphericalKMeans} is tested
 * on the emulator in kvstore's {@code GpuKMeansTest}; at 128K keys and ten iterations a single near-tie can send
 * two runs apart, so here each step is checked on its own.)
 *
 * <p>Also checks that a build of the 8 heads at once ({@link KMeansBuild}'s stacked heads) gives each head exactly
 * what the build of that head alone gives (all 8 hold the same keys and values here), and that the build with the
 * assignment on tensor cores ({@link KMeansTensorAssign}) gives exactly what the build on CUDA cores gives.
 *
 * <p>Timing (medians between CUDA events), on CUDA cores and then on tensor cores: a whole build of one head and its
 * parts (centring, one segmented iteration, the global iteration, the assignment alone, the value sums), then the
 * 256 builds of Llama 3 8B (32 layers × 8 KV heads) at the same length, one head after another and a layer's 8 heads
 * at once. Exits 1 if a check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.KMeansGpuCheck [TOKENS CLUSTERS SEGMENTS ITERATIONS]} (default
 * {@code 131072 8192 16 10}, RetroConfig's defaults at a 128K prompt).
 */
public final class KMeansGpuCheck {
    private static final KernelMethod NEAREST = KernelMethod.of(KMeansAssign.class, "nearest");
    /** Means and sums of at most a few thousand F32 terms: a few 1e-7 relative; a wrong member errs by far more. */
    private static final double TOLERANCE = 1e-5;
    /** Every how-many-th key the assignment check scores on the host (all 8192 centroids each, in float64). */
    private static final int SAMPLE = 97;

    private KMeansGpuCheck() {}

    public static void main(String[] args) {
        long seed = System.nanoTime();
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 131072;
        int clusters = args.length > 1 ? Integer.parseInt(args[1]) : 8192;
        int segments = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int iterations = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        KMeansShape shape = KMeansShape.of(tokens, clusters, segments, iterations);
        // the device owns the GPU and closes it
        try (CudaDevice device = new CudaDevice(Gpu.open()); Arena arena = Arena.ofShared()) {
            Gpu gpu = device.gpu();
            System.out.println("device: " + gpu.info() + ", seed " + seed + ", " + shape);
            Random random = new Random(seed);
            int heads = 8;
            long head = shape.keyElements();
            // One layer's dense cache of 8 KV heads (one slot): the check uses head 3, the timing all 8
            BF16Array keys = device.bf16(heads * head);
            BF16Array values = device.bf16(heads * head);
            BF16Array hostKeys = clusteredKeys(arena, shape, random);
            BF16Array hostValues = BF16Array.allocate(arena, head);
            for (long i = 0; i < head; i++) hostValues.set(i, (float) random.nextGaussian());
            for (int h = 0; h < heads; h++) {
                device.upload(hostKeys.segment(), keys.slice(h * head, head));
                device.upload(hostValues.segment(), values.slice(h * head, head));
            }
            boolean ok;
            try (KMeansBuild build = new KMeansBuild(device, shape, 1, KMeansBuild.Assignment.CUDA_CORES);
                 KMeansBuild stacked = new KMeansBuild(device, shape, heads, KMeansBuild.Assignment.CUDA_CORES);
                 KMeansBuild tensor = new KMeansBuild(device, shape, 1, KMeansBuild.Assignment.TENSOR_CORES);
                 KMeansBuild tensorStacked = new KMeansBuild(device, shape, heads, KMeansBuild.Assignment.TENSOR_CORES)) {
                ok = checkBuild(device, build, hostKeys, hostValues, keys, values, 3 * head)
                        & checkAssignment(device, build, random, 1, shape.tokens(), shape.clusters())
                        & checkAssignment(device, build, random, shape.segments(), shape.perSegment(), shape.clustersPerSegment())
                        & checkStacked(device, build, stacked, keys, values, head)
                        & checkSameBuild(device, stacked, tensorStacked, keys, values, head);
                GpuTiming.warmUp(gpu);
                time(gpu, device, build, stacked, keys, values, head);
                time(gpu, device, tensor, tensorStacked, keys, values, head);
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    static boolean checkBuild(Device device, KMeansBuild build, BF16Array hostKeys, BF16Array hostValues,
            BF16Array keys, BF16Array values, long base) {
        KMeansShape shape = build.shape();
        device.fill(build.centroids(), (byte) 0xFF);
        device.fill(build.valueSums(), (byte) 0xFF);
        device.fill(build.members(), (byte) 0xFF);
        build.run(keys, values, base);
        int n = shape.tokens();
        int[] assignment = download(device, build.assignment(), n);
        int[] sizes = download(device, build.sizes(), shape.clusters());
        int[] starts = download(device, build.starts(), shape.clusters());
        int[] members = download(device, build.members(), n);
        float[] centroids = download(device, build.centroids(), shape.centroidElements());
        float[] valueSums = download(device, build.valueSums(), shape.centroidElements());
        float[] mean = download(device, build.mean(), HEAD_DIM);

        double meanError = 0;
        for (int d = 0; d < HEAD_DIM; d++) {
            double sum = 0;
            for (int t = 0; t < n; t++) sum += hostKeys.get((long) t * HEAD_DIM + d);
            meanError = Math.max(meanError, Math.abs(sum / n - mean[d]));
        }
        KMeansTwin.Runs runs = KMeansTwin.sort(assignment, n, shape.clusters());
        boolean sorted = Arrays.equals(runs.sizes(), sizes) && Arrays.equals(runs.starts(), starts)
                && Arrays.equals(runs.members(), members);
        // Centroids against the original keys' member means: the mean key the GPU subtracted cancels out
        double[] expected = KMeansTwin.means(hostKeys::get, runs, i -> Double.NaN, false);
        double centroidError = 0, valueError = 0;
        int empty = 0, largest = 0;
        for (int c = 0; c < shape.clusters(); c++) {
            largest = Math.max(largest, sizes[c]);
            if (runs.sizes()[c] == 0) {
                empty++;
                continue;
            }
            double[] sums = KMeansTwin.sums(hostValues::get, runs, c);
            for (int d = 0; d < HEAD_DIM; d++) {
                int i = c * HEAD_DIM + d;
                centroidError = Math.max(centroidError, Math.abs(expected[i] - centroids[i]) / Math.max(1, Math.abs(expected[i])));
                valueError = Math.max(valueError, Math.abs(sums[d] - valueSums[i]) / Math.max(1, Math.abs(sums[d])));
            }
        }
        boolean ok = sorted && meanError <= TOLERANCE && centroidError <= TOLERANCE && valueError <= TOLERANCE
                && !Double.isNaN(centroidError + valueError);
        System.out.printf("check build: mean error %.1e, counting sort %s, centroid error %.1e, value-sum error %.1e"
                + " (tolerance %.0e); %d empty clusters, largest %d members %s%n", meanError, sorted ? "exact" : "WRONG",
                centroidError, valueError, TOLERANCE, empty, largest, ok ? "OK" : "FAILED");
        return ok;
    }

    /**
     * {@link KMeansAssign#nearest} alone on the build's centred keys against random unit centroids, over
     * {@code segments} segments, against {@link KMeansTwin#nearest} on every {@link #SAMPLE}-th key.
     */
    static boolean checkAssignment(Device device, KMeansBuild build, Random random, int segments, int perSegment,
            int cps) {
        KMeansShape shape = build.shape();
        float[] centroids = new float[shape.clusters() * HEAD_DIM];
        for (int c = 0; c < shape.clusters(); c++) {
            double norm = 0;
            for (int d = 0; d < HEAD_DIM; d++) {
                float x = (float) random.nextGaussian();
                centroids[c * HEAD_DIM + d] = x;
                norm += x * x;
            }
            for (int d = 0; d < HEAD_DIM; d++) centroids[c * HEAD_DIM + d] /= (float) Math.sqrt(norm);
        }
        F32Array deviceCentroids = device.f32(centroids.length);
        I32Array assignment = device.i32(shape.tokens());
        try {
            device.upload(MemorySegment.ofArray(centroids), deviceCentroids);
            device.fill(assignment, (byte) 0xFF);
            device.launch(NEAREST, KMeansShape.assignGrid(segments, perSegment), build.centredKeys(), deviceCentroids, assignment,
                    shape.tokens(), shape.clusters(), perSegment, cps);
            int[] got = download(device, assignment, shape.tokens());
            float[] keys = download(device, build.centredKeys(), shape.keyElements());
            int wrong = 0, nearTies = 0, checked = 0;
            for (int t = 0; t < segments * perSegment; t += SAMPLE) {
                int first = t / perSegment * cps;
                KMeansTwin.Choice choice = KMeansTwin.nearest(i -> keys[(int) i], i -> centroids[(int) i], t, first, cps);
                double tolerance = 2 * KMeansTwin.dotTolerance(i -> keys[(int) i], i -> centroids[(int) i], t, choice.id());
                checked++;
                if (choice.margin() <= tolerance) {
                    nearTies++;
                    double gotScore = got[t] < first || got[t] >= first + cps ? Double.NEGATIVE_INFINITY
                            : KMeansTwin.nearest(i -> keys[(int) i], i -> centroids[(int) i], t, got[t], 1).best();
                    wrong += Math.abs(gotScore - choice.best()) <= tolerance ? 0 : 1;
                } else {
                    wrong += got[t] == choice.id() ? 0 : 1;
                }
            }
            int untouched = 0;
            for (int t = segments * perSegment; t < shape.tokens(); t++) untouched += got[t] == -1 ? 1 : 0;
            boolean ok = wrong == 0 && untouched == shape.tokens() - segments * perSegment;
            System.out.printf("check assignment, %d segments of %d keys × %d centroids: %d sampled keys, %d near-ties, %d wrong,"
                    + " %d of %d keys past the segments untouched %s%n", segments, perSegment, cps, checked, nearTies, wrong,
                    untouched, shape.tokens() - segments * perSegment, ok ? "OK" : "FAILED");
            return ok;
        } finally {
            device.free(deviceCentroids);
            device.free(assignment);
        }
    }

    /**
     * The build of {@code stacked.heads()} heads at once (vectors {@code head} elements apart) against the one-head
     * build of each: the same assignment, members, starts, sizes, centroids, value sums and mean, bit for bit.
     */
    static boolean checkStacked(Device device, KMeansBuild build, KMeansBuild stacked, BF16Array keys, BF16Array values,
            long head) {
        KMeansShape shape = build.shape();
        int heads = stacked.heads();
        int n = shape.tokens(), clusters = shape.clusters();
        for (TypedArray a : new TypedArray[] {stacked.assignment(), stacked.members(), stacked.sizes(), stacked.starts(),
                stacked.centroids(), stacked.valueSums(), stacked.mean()}) {
            device.fill(a, (byte) 0xFF);
        }
        stacked.run(keys, values, 0, head, heads);
        int[] assignment = download(device, stacked.assignment(), heads * n);
        int[] members = download(device, stacked.members(), heads * n);
        int[] sizes = download(device, stacked.sizes(), heads * clusters);
        int[] starts = download(device, stacked.starts(), heads * clusters);
        float[] centroids = download(device, stacked.centroids(), heads * shape.centroidElements());
        float[] valueSums = download(device, stacked.valueSums(), heads * shape.centroidElements());
        float[] mean = download(device, stacked.mean(), (long) heads * HEAD_DIM);
        int differing = 0;
        for (int h = 0; h < heads; h++) {
            build.run(keys, values, h * head);
            int c = clusters, e = (int) shape.centroidElements();
            boolean same = Arrays.equals(download(device, build.assignment(), n), Arrays.copyOfRange(assignment, h * n, h * n + n))
                    && Arrays.equals(download(device, build.members(), n), Arrays.copyOfRange(members, h * n, h * n + n))
                    && Arrays.equals(download(device, build.sizes(), c), Arrays.copyOfRange(sizes, h * c, h * c + c))
                    && Arrays.equals(download(device, build.starts(), c), Arrays.copyOfRange(starts, h * c, h * c + c))
                    && Arrays.equals(download(device, build.centroids(), e), Arrays.copyOfRange(centroids, h * e, h * e + e))
                    && Arrays.equals(download(device, build.valueSums(), e), Arrays.copyOfRange(valueSums, h * e, h * e + e))
                    && Arrays.equals(download(device, build.mean(), HEAD_DIM),
                            Arrays.copyOfRange(mean, h * HEAD_DIM, h * HEAD_DIM + HEAD_DIM));
            differing += same ? 0 : 1;
        }
        boolean ok = differing == 0;
        System.out.printf("check %d heads built at once against each built alone: %d differ %s%n", heads, differing,
                ok ? "OK" : "FAILED");
        return ok;
    }

    /**
     * The build on tensor cores against the build on CUDA cores, all {@code heads} heads at once: the same assignment,
     * members, sizes, centroids and value sums, bit for bit ({@link KMeansTensorAssign} is exact).
     */
    static boolean checkSameBuild(Device device, KMeansBuild cuda, KMeansBuild tensor, BF16Array keys, BF16Array values,
            long head) {
        int heads = cuda.heads();
        long n = (long) heads * cuda.shape().tokens(), c = (long) heads * cuda.shape().clusters();
        long e = heads * cuda.shape().centroidElements();
        cuda.run(keys, values, 0, head, heads);
        int[] assignment = download(device, cuda.assignment(), (int) n), members = download(device, cuda.members(), (int) n);
        int[] sizes = download(device, cuda.sizes(), (int) c);
        float[] centroids = download(device, cuda.centroids(), e), valueSums = download(device, cuda.valueSums(), e);
        device.fill(tensor.assignment(), (byte) 0xFF);
        tensor.run(keys, values, 0, head, heads);
        int[] tensorAssignment = download(device, tensor.assignment(), (int) n);
        int differing = 0;
        for (int i = 0; i < n; i++) differing += assignment[i] == tensorAssignment[i] ? 0 : 1;
        boolean ok = differing == 0 && Arrays.equals(members, download(device, tensor.members(), (int) n))
                && Arrays.equals(sizes, download(device, tensor.sizes(), (int) c))
                && Arrays.equals(centroids, download(device, tensor.centroids(), e))
                && Arrays.equals(valueSums, download(device, tensor.valueSums(), e));
        System.out.printf("check %d heads on tensor cores against CUDA cores: %d of %d final assignments differ; members,"
                + " sizes, centroids and value sums %s %s%n", heads, differing, n, ok ? "equal" : "DIFFER", ok ? "OK" : "FAILED");
        return ok;
    }

    private static void time(Gpu gpu, CudaDevice device, KMeansBuild build, KMeansBuild stacked, BF16Array keys,
            BF16Array values, long head) {
        KMeansShape shape = build.shape();
        int heads = stacked.heads();
        CudaStream stream = device.stream();
        double whole = GpuTiming.medianMillis(gpu, stream, () -> build.run(keys, values, 0));
        double centre = GpuTiming.medianMillis(gpu, stream, () -> build.centre(keys, 0, 0, 1));
        double segmented = GpuTiming.medianMillis(gpu, stream, () -> build.segmentedIteration(1));
        double global = GpuTiming.medianMillis(gpu, stream, () -> build.globalIteration(1));
        double segmentedAssign = GpuTiming.medianMillis(gpu, stream,
                () -> build.assign(shape.segments(), shape.perSegment(), shape.clustersPerSegment(), 1));
        double globalAssign = GpuTiming.medianMillis(gpu, stream, () -> build.assign(1, shape.tokens(), shape.clusters(), 1));
        double finish = GpuTiming.medianMillis(gpu, stream, () -> build.finish(values, 0, 0, 1));
        double products = (double) shape.tokens() * shape.clusters() * HEAD_DIM;
        System.out.printf("time one head on %s (%s): build %.2f ms = centring %.2f + %d segmented iterations of %.2f"
                + " (assignment %.2f) + global iteration %.2f (assignment %.2f, %.1f TFLOP/s) + value sums %.2f%n",
                build.assignmentKind(), shape, whole, centre,
                shape.iterations() - 1, segmented, segmentedAssign, global, globalAssign, 2 * products / globalAssign / 1e9, finish);
        // Llama 3 8B: 32 layers × 8 KV heads of the same length (layer l reuses the 8 heads)
        int layers = 32;
        double alone = once(gpu, stream, () -> {
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < heads; h++) build.run(keys, values, h * head);
            }
        });
        double together = once(gpu, stream, () -> {
            for (int l = 0; l < layers; l++) stacked.run(keys, values, 0, head, heads);
        });
        System.out.printf("time Llama 3 8B index build on %s at %d tokens, %d layers × %d KV heads: one head at a time"
                + " %.1f ms (%.2f ms per head), a layer's %d heads at once %.1f ms (%.2f ms per head)%n", build.assignmentKind(),
                shape.tokens(), layers, heads, alone, alone / (layers * heads), heads, together, together / (layers * heads));
    }

    /** Milliseconds between two events around {@code work}, run once: 256 builds take seconds, too long to repeat. */
    private static double once(Gpu gpu, CudaStream stream, Runnable work) {
        CudaEvent start = gpu.createEvent();
        CudaEvent end = gpu.createEvent();
        try {
            start.record(stream);
            work.run();
            end.record(stream);
            return end.millisSince(start);
        } finally {
            start.close();
            end.close();
        }
    }

    /** BF16 keys around 4096 random directions with noise, so the clusters are real, and offset so the mean is not 0. */
    static BF16Array clusteredKeys(Arena arena, KMeansShape shape, Random random) {
        int directions = 4096;
        float[] centres = new float[directions * HEAD_DIM];
        for (int i = 0; i < centres.length; i++) centres[i] = (float) random.nextGaussian() + 0.3f;
        BF16Array keys = BF16Array.allocate(arena, shape.keyElements());
        for (int t = 0; t < shape.tokens(); t++) {
            int from = random.nextInt(directions) * HEAD_DIM;
            for (int d = 0; d < HEAD_DIM; d++) {
                keys.set((long) t * HEAD_DIM + d, centres[from + d] + 0.4f * (float) random.nextGaussian());
            }
        }
        return keys;
    }

    private static int[] download(Device device, I32Array array, int n) {
        int[] out = new int[n];
        device.download(array, MemorySegment.ofArray(out));
        return out;
    }

    private static float[] download(Device device, F32Array array, long n) {
        float[] out = new float[(int) n];
        device.download(array, MemorySegment.ofArray(out));
        return out;
    }
}
