package org.retroinfer.kvstore.retro;

import java.lang.foreign.Arena;
import java.util.Random;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.kernels.VectorMath;
import org.retroinfer.kvstore.gpu.GpuKMeans;

/**
 * The GPU index build ({@link GpuKMeans}) beside the CPU's ({@link SphericalKMeans} on keys centred as
 * {@link IndexBuilder} centres them) at a realistic size on a real GPU: one head of random BF16 keys around 4096
 * directions, sized by {@link ClusterSizing#forPrompt} with {@link RetroConfig#defaults()} (131,072 keys: 16
 * segments, 8192 clusters), 10 iterations.
 *
 * <p>At this size a single near-tie (two centroids within F32 rounding of each other, which the two sides sum in
 * different orders) can send the runs apart from that iteration on, so the assignments are compared as a fraction
 * that agrees, and the clusterings by quality: the k-means objective Σ_t k_t·c(t) over centred keys and their
 * final centroids, which the GPU's must match within {@link #OBJECTIVE_TOLERANCE}. (Exact agreement is tested on
 * the emulator at a small size, GpuKMeansTest.) Also prints each side's wall time per head. Exits 1 if the
 * objectives differ by more than the tolerance or the GPU's value sums are not its clusters' sums.
 *
 * <p>{@code java org.retroinfer.kvstore.retro.GpuIndexBuildCheck [TOKENS [ITERATIONS]]}.
 */
public final class GpuIndexBuildCheck {
    private static final int D = 128;
    /** Relative difference of the two objectives allowed: diverged runs land on equally good local optima. */
    private static final double OBJECTIVE_TOLERANCE = 0.01;

    private GpuIndexBuildCheck() {}

    public static void main(String[] args) {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 131072;
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        RetroConfig config = RetroConfig.defaults();
        ClusterSizing sizing = ClusterSizing.forPrompt(tokens, config);
        long seed = System.nanoTime();
        Random random = new Random(seed);
        float[] keys = new float[tokens * D];
        float[] values = new float[tokens * D];
        float[] directions = new float[4096 * D];
        for (int i = 0; i < directions.length; i++) directions[i] = (float) random.nextGaussian() + 0.3f;
        for (int t = 0; t < tokens; t++) {
            int from = random.nextInt(4096) * D;
            for (int i = 0; i < D; i++) {
                keys[t * D + i] = bf16(directions[from + i] + 0.4f * (float) random.nextGaussian());
                values[t * D + i] = bf16((float) random.nextGaussian());
            }
        }
        try (CudaDevice device = new CudaDevice(Gpu.open())) { // the device owns the GPU and closes it
            Gpu gpu = device.gpu();
            System.out.println("device: " + gpu.info() + ", seed " + seed + ", " + tokens + " keys, " + sizing + ", "
                    + iterations + " iterations, " + config.threads() + " CPU threads");
            BF16Array deviceKeys = device.bf16((long) tokens * D);
            BF16Array deviceValues = device.bf16((long) tokens * D);
            upload(device, keys, deviceKeys);
            upload(device, values, deviceValues);
            GpuKMeans.Clustering gpuResult;
            long gpuNanos;
            try (GpuKMeans kmeans = new GpuKMeans(device, tokens, sizing, iterations)) {
                kmeans.cluster(deviceKeys, deviceValues, 0, 0, 1, tokens); // compiles the kernels
                long start = System.nanoTime();
                gpuResult = kmeans.cluster(deviceKeys, deviceValues, 0, 0, 1, tokens);
                gpuNanos = System.nanoTime() - start;
            }

            float[] centred = keys.clone();
            float[] mean = centre(centred, tokens);
            long start = System.nanoTime();
            SphericalKMeans.Clustering cpu = SphericalKMeans.cluster(centred, tokens, D, sizing, iterations, config.threads());
            long cpuNanos = System.nanoTime() - start;

            int agree = 0;
            for (int t = 0; t < tokens; t++) agree += cpu.assignment()[t] == gpuResult.assignment()[t] ? 1 : 0;
            double meanError = 0;
            for (int i = 0; i < D; i++) meanError = Math.max(meanError, Math.abs(mean[i] - gpuResult.mean()[i]));
            float[] gpuCentred = gpuResult.centroids().clone();
            for (int c = 0; c < sizing.clusters(); c++) {
                for (int i = 0; i < D; i++) gpuCentred[c * D + i] -= gpuResult.mean()[i];
            }
            double cpuObjective = objective(centred, cpu.assignment(), cpu.centroids(), tokens);
            double gpuObjective = objective(centred, gpuResult.assignment(), gpuCentred, tokens);
            double objectiveGap = Math.abs(gpuObjective - cpuObjective) / Math.abs(cpuObjective);
            double valueError = valueSumError(values, gpuResult, sizing.clusters());
            boolean ok = objectiveGap <= OBJECTIVE_TOLERANCE && valueError <= 1e-5;
            System.out.printf("assignments agree on %d of %d keys (%.2f%%); mean key differs by %.1e; objective Σ k·c: CPU %.6e,"
                    + " GPU %.6e (relative gap %.1e, tolerance %.0e); empty clusters CPU %d, GPU %d; largest CPU %d, GPU %d;"
                    + " GPU value sums within %.1e of float64 %s%n", agree, tokens, 100.0 * agree / tokens, meanError,
                    cpuObjective, gpuObjective, objectiveGap, OBJECTIVE_TOLERANCE, empty(cpu.sizes()), empty(gpuResult.sizes()),
                    largest(cpu.sizes()), largest(gpuResult.sizes()), valueError, ok ? "OK" : "FAILED");
            System.out.printf("time per head: GPU build %.1f ms (with downloads), CPU k-means %.1f ms (%d threads)%n",
                    gpuNanos / 1e6, cpuNanos / 1e6, config.threads());
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    private static void upload(CudaDevice device, float[] host, BF16Array destination) {
        try (Arena arena = Arena.ofConfined()) {
            BF16Array staging = BF16Array.allocate(arena, host.length);
            staging.copyFrom(host);
            device.upload(staging.segment(), destination);
            device.synchronize();
        }
    }

    /** IndexBuilder's centring: the F32 sum in token order over the count, subtracted in place. */
    private static float[] centre(float[] keys, int n) {
        float[] sum = new float[D];
        for (int t = 0; t < n; t++) VectorMath.addInPlace(sum, 0, keys, t * D, D);
        float[] mean = new float[D];
        for (int i = 0; i < D; i++) mean[i] = sum[i] / n;
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < D; i++) keys[t * D + i] -= mean[i];
        }
        return mean;
    }

    /** Σ_t k_t · c(t) in float64. */
    private static double objective(float[] keys, int[] assignment, float[] centroids, int n) {
        double total = 0;
        for (int t = 0; t < n; t++) {
            int c = assignment[t];
            for (int i = 0; i < D; i++) total += (double) keys[t * D + i] * centroids[c * D + i];
        }
        return total;
    }

    /** The largest relative error of the GPU's value sums against float64 sums over its own member lists. */
    private static double valueSumError(float[] values, GpuKMeans.Clustering g, int clusters) {
        double worst = 0;
        for (int c = 0; c < clusters; c++) {
            double[] sum = new double[D];
            for (int m = g.starts()[c]; m < g.starts()[c] + g.sizes()[c]; m++) {
                for (int i = 0; i < D; i++) sum[i] += values[g.members()[m] * D + i];
            }
            for (int i = 0; i < D; i++) {
                double error = Math.abs(sum[i] - g.valueSums()[c * D + i]) / Math.max(1, Math.abs(sum[i]));
                worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
            }
        }
        return worst;
    }

    private static int empty(int[] sizes) {
        int n = 0;
        for (int s : sizes) n += s == 0 ? 1 : 0;
        return n;
    }

    private static int largest(int[] sizes) {
        int n = 0;
        for (int s : sizes) n = Math.max(n, s);
        return n;
    }

    private static float bf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        return Float.intBitsToFloat((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000);
    }
}
