package org.retroinfer.kvstore.wave;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.I32Array;

/**
 * Runs a {@link WaveBuffer} through random decode steps on a device and checks every assembly: each group's execution
 * buffer must hold its steady zone, then its ranked clusters' own vectors (misses from host memory, then hits from the
 * cache). The unit test runs it on the emulator; {@link #main} on GPU 0, where the host store is mapped pinned memory
 * that the gather kernel reads over PCIe, and prints the hit ratio and the time per step.
 *
 * <p>{@code java org.retroinfer.kvstore.wave.WaveBufferCheck [GROUPS] [CLUSTERS] [STEPS]} (default 64 1024 50).
 */
public final class WaveBufferCheck {
    private WaveBufferCheck() {}

    /** The outcome of a run: clusters found cached (all groups), and the mean wall time of one assemble + admit. */
    public record Result(int hits, int accessed, double millisPerStep) {}

    public static void main(String[] args) {
        int groups = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int clusters = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        long seed = System.nanoTime();
        try (Device device = new CudaDevice(Gpu.open())) {
            System.out.println("device: " + device.describe() + ", seed " + seed);
            Result r = run(device, new Random(seed), groups, clusters, steps);
            System.out.printf("check wave buffer, %d groups x %d clusters, %d steps: every assembly OK; %d of %d accessed clusters hit"
                    + " (%.2f); %.3f ms per assemble + admit (host lookups and LRU included)%nALL OK%n", groups, clusters, steps,
                    r.hits(), r.accessed(), (double) r.hits() / r.accessed(), r.millisPerStep());
        }
    }

    /**
     * {@code steps} assemblies of {@code groups} groups of {@code clusters} clusters (16 vectors on average, the spec's
     * cluster size), each ranking 1.8% of the clusters from a skewed distribution, with a cache of 5% of the vectors;
     * throws {@link AssertionError} at the first vector out of place.
     */
    public static Result run(Device device, Random random, int groups, int clusters, int steps) {
        int steadyStride = 68, ints = WaveBuffer.INTS;
        int retrieved = Math.max(1, clusters * 18 / 1000);
        List<int[]> sizes = new ArrayList<>();
        int listStride = 0;
        for (int g = 0; g < groups; g++) {
            int[] s = random.ints(clusters, 1, 32).toArray();
            sizes.add(s);
            listStride = Math.max(listStride, Arrays.stream(s).sum());
        }
        int cacheBlocks = Math.max(4, listStride / 20 / ClusterMappingTable.BLOCK);
        int maxUnits = 4 * retrieved * 4;
        int hits = 0, accessed = 0;
        long nanos = 0;
        try (WaveBuffer buffer = new WaveBuffer(device, groups, steadyStride, listStride, cacheBlocks, maxUnits);
             Arena arena = Arena.ofConfined()) {
            long[][] starts = new long[groups][clusters];
            for (int g = 0; g < groups; g++) {
                long at = 0;
                for (int c = 0; c < clusters; c++) {
                    starts[g][c] = at;
                    buffer.table(g).addCluster(at, sizes.get(g)[c]);
                    at += sizes.get(g)[c];
                }
                buffer.steadyLength(g, steadyStride);
            }
            for (long i = 0; i < buffer.storeKeys().length(); i++) {
                buffer.storeKeys().set(i, (int) i);
                buffer.storeValues().set(i, (int) ~i);
            }
            I32Array steady = I32Array.allocate(arena, buffer.steadyKeys().length());
            for (long i = 0; i < steady.length(); i++) steady.set(i, -1 - (int) i);
            device.upload(steady.segment(), buffer.steadyKeys());
            device.upload(steady.segment(), buffer.steadyValues());
            I32Array execK = I32Array.allocate(arena, buffer.executionKeys().length());
            I32Array execV = I32Array.allocate(arena, buffer.executionValues().length());
            I32Array valid = I32Array.allocate(arena, groups);
            for (int step = 0; step < steps; step++) {
                int[][] ranked = new int[groups][];
                int[] counts = new int[groups];
                List<List<Integer>> cachedBefore = new ArrayList<>();
                for (int g = 0; g < groups; g++) {
                    // half the ranking from a hot tenth of the clusters, so that the cache has something to hold
                    ranked[g] = random.ints(0, clusters).map(c -> random.nextBoolean() ? c / 10 : c).distinct().limit(retrieved)
                            .toArray();
                    counts[g] = ranked[g].length;
                    List<Integer> cached = new ArrayList<>();
                    for (int c : ranked[g]) if (buffer.table(g).cached(c)) cached.add(c);
                    cachedBefore.add(cached);
                }
                device.synchronize();
                long start = System.nanoTime();
                buffer.assemble(ranked, counts);
                buffer.admit();
                device.synchronize();
                nanos += System.nanoTime() - start;
                // admit() only copies within the device; the execution buffer still holds this step's assembly
                device.download(buffer.executionKeys(), execK.segment());
                device.download(buffer.executionValues(), execV.segment());
                device.download(buffer.validLengths(), valid.segment());
                for (int g = 0; g < groups; g++) {
                    long base = (long) g * buffer.executionStride();
                    for (int v = 0; v < steadyStride; v++) {
                        expect(-1 - (int) (((long) g * steadyStride + v) * ints), execK.get((base + v) * ints), "steady vector", step, g);
                    }
                    List<Integer> order = new ArrayList<>();
                    int units = 0;
                    for (int c : ranked[g]) {
                        int u = (sizes.get(g)[c] + 7) / 8;
                        if (units + u > maxUnits) break;
                        units += u;
                        if (!cachedBefore.get(g).contains(c)) order.add(c);
                    }
                    int missCount = order.size();
                    units = 0;
                    for (int c : ranked[g]) {
                        int u = (sizes.get(g)[c] + 7) / 8;
                        if (units + u > maxUnits) break;
                        units += u;
                        if (cachedBefore.get(g).contains(c)) order.add(c);
                    }
                    hits += order.size() - missCount;
                    accessed += order.size();
                    long row = base + steadyStride;
                    for (int c : order) {
                        for (int v = 0; v < sizes.get(g)[c]; v++, row++) {
                            long expected = ((long) g * listStride + starts[g][c] + v) * ints;
                            expect((int) expected, execK.get(row * ints), "key of cluster " + c + " vector " + v, step, g);
                            expect((int) ~(expected + ints - 1), execV.get(row * ints + ints - 1), "value of cluster " + c, step, g);
                        }
                    }
                    expect((int) (row - base), valid.get(g), "valid length", step, g);
                }
            }
        }
        return new Result(hits, accessed, nanos / 1e6 / steps);
    }

    private static void expect(int expected, int actual, String what, int step, int group) {
        if (expected != actual) {
            throw new AssertionError("step " + step + ", group " + group + ": " + what + " is " + actual + ", expected " + expected);
        }
    }
}
