package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.VectorChunks.CHUNK;
import static org.retroinfer.kernels.gpu.VectorChunks.INTS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.LoadedKernel;
import org.retroinfer.accel.cuda.PinnedBuffer;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * Runs {@link ExecutionBufferGather} on a real GPU with the host list in pinned, mapped memory (the zero-copy
 * path): first against its twin on random stores, then timed at Llama 3 8B's retrieval zone at 128K tokens
 * (32 groups = 4 sequences × 8 KV heads, 296 blocks of 8 vectors each, about 1.8% of 8,192 clusters of 16),
 * once with every block a miss (read from host memory over PCIe) and once with every block a hit (read from
 * the GPU cache). The unit lists are copied from pinned memory to the GPU before the launch. Exits 1 if the
 * check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.WaveBufferCopyGpuCheck}
 */
public final class WaveBufferCopyGpuCheck {
    private static final KernelMethod GATHER = KernelMethod.of(ExecutionBufferGather.class, "gather");
    private static final int GROUPS = 32, STEADY = 68, STEADY_STRIDE = 128, LIST_STRIDE = 16384, CACHE_BLOCKS = 512;
    private static final int UNITS = 296;
    private static final int EXEC_STRIDE = STEADY_STRIDE + CHUNK * UNITS;

    private WaveBufferCopyGpuCheck() {}

    public static void main(String[] args) {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        try (Gpu gpu = Gpu.open()) {
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            GpuTiming.warmUp(gpu);
            boolean ok = run(gpu, random, true) & run(gpu, random, false);
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    /** One layout, every unit a miss or every unit a hit: checked against the twin, then timed. */
    private static boolean run(Gpu gpu, Random random, boolean misses) {
        long steadyInts = (long) GROUPS * STEADY_STRIDE * INTS, listInts = (long) GROUPS * LIST_STRIDE * INTS;
        long cacheInts = (long) GROUPS * CACHE_BLOCKS * CHUNK * INTS, execInts = (long) GROUPS * EXEC_STRIDE * INTS;
        long unitInts = (long) GROUPS * UNITS;
        try (PinnedBuffer listK = gpu.allocatePinned(4 * listInts); PinnedBuffer listV = gpu.allocatePinned(4 * listInts);
                PinnedBuffer units = gpu.allocatePinned(4 * (6 * unitInts + 4L * GROUPS));
                DeviceBuffer steadyK = gpu.allocate(4 * steadyInts); DeviceBuffer steadyV = gpu.allocate(4 * steadyInts);
                DeviceBuffer cacheK = gpu.allocate(4 * cacheInts); DeviceBuffer cacheV = gpu.allocate(4 * cacheInts);
                DeviceBuffer execK = gpu.allocate(4 * execInts); DeviceBuffer execV = gpu.allocate(4 * execInts);
                DeviceBuffer valid = gpu.allocate(4L * GROUPS); DeviceBuffer deviceUnits = gpu.allocate(units.byteSize())) {
            // The CPU writes the unit lists to pinned memory; the kernel reads them from the GPU (one small
            // copy first): read across PCIe, scattered 4-byte descriptor reads cost more than the hits' data.
            I32Array all = I32Array.view(units.mapped());
            I32Array starts = all.slice(0, unitInts), sizes = all.slice(unitInts, unitInts);
            I32Array offsets = all.slice(2 * unitInts, unitInts), blocks = all.slice(3 * unitInts, unitInts);
            I32Array steadyLengths = all.slice(6 * unitInts, GROUPS), missCounts = all.slice(6 * unitInts + GROUPS, GROUPS);
            I32Array hitCounts = all.slice(6 * unitInts + 2L * GROUPS, GROUPS);
            for (int g = 0; g < GROUPS; g++) {
                steadyLengths.set(g, STEADY);
                missCounts.set(g, misses ? UNITS : 0);
                hitCounts.set(g, misses ? 0 : UNITS);
                List<Integer> listBlocks = shuffled(LIST_STRIDE / CHUNK, random), cacheBlocks = shuffled(CACHE_BLOCKS, random);
                for (int i = 0; i < UNITS; i++) {
                    starts.set((long) g * UNITS + i, listBlocks.get(i) * CHUNK);
                    blocks.set((long) g * UNITS + i, cacheBlocks.get(i));
                    sizes.set((long) g * UNITS + i, CHUNK);
                    offsets.set((long) g * UNITS + i, i * CHUNK);
                }
            }
            I32Array hostListK = I32Array.view(listK.mapped()), hostListV = I32Array.view(listV.mapped());
            fill(hostListK, random);
            fill(hostListV, random);
            I32Array hostSteadyK = hostCopy(gpu, steadyK, random), hostSteadyV = hostCopy(gpu, steadyV, random);
            I32Array hostCacheK = hostCopy(gpu, cacheK, random), hostCacheV = hostCopy(gpu, cacheV, random);
            CudaStream stream = gpu.defaultStream();
            gpu.fill(execK.asI32(), (byte) 0xEE, stream);
            gpu.fill(execV.asI32(), (byte) 0xEE, stream);
            gpu.copy(all, deviceUnits.asI32(), stream);
            I32Array d = deviceUnits.asI32();
            I32Array dStarts = d.slice(0, unitInts), dSizes = d.slice(unitInts, unitInts);
            I32Array dOffsets = d.slice(2 * unitInts, unitInts), dBlocks = d.slice(3 * unitInts, unitInts);
            I32Array dSteady = d.slice(6 * unitInts, GROUPS), dMisses = d.slice(6 * unitInts + GROUPS, GROUPS);
            I32Array dHits = d.slice(6 * unitInts + 2L * GROUPS, GROUPS);
            Object[] arguments = {steadyK.asI32(), steadyV.asI32(), dSteady, STEADY_STRIDE, hostListK, hostListV, LIST_STRIDE,
                    cacheK.asI32(), cacheV.asI32(), CACHE_BLOCKS, dStarts, dSizes, dOffsets, dMisses, dBlocks, dSizes, dOffsets, dHits,
                    UNITS, execK.asI32(), execV.asI32(), EXEC_STRIDE, valid.asI32(), GROUPS};
            // a prepared launch, as a decode step replays it: the timing is the GPU's, not the argument marshalling's
            LoadedKernel kernel = gpu.load(GATHER, arguments);
            MemorySegment parameters = gpu.marshal(GATHER, arguments, Arena.ofAuto());
            Runnable launch = () -> gpu.launch(kernel, ExecutionBufferGather.grid(GROUPS), stream, parameters);
            launch.run();
            I32Array gotK = I32Array.allocate(Arena.ofAuto(), execInts);
            I32Array gotV = I32Array.allocate(Arena.ofAuto(), execInts);
            I32Array gotValid = I32Array.allocate(Arena.ofAuto(), GROUPS);
            gpu.copy(execK.asI32(), gotK, stream);
            gpu.copy(execV.asI32(), gotV, stream);
            gpu.copy(valid.asI32(), gotValid, stream);
            stream.synchronize();
            I32Array twinK = I32Array.allocate(Arena.ofAuto(), execInts);
            I32Array twinV = I32Array.allocate(Arena.ofAuto(), execInts);
            I32Array twinValid = I32Array.allocate(Arena.ofAuto(), GROUPS);
            for (long i = 0; i < execInts; i++) {
                twinK.set(i, 0xEEEEEEEE);
                twinV.set(i, 0xEEEEEEEE);
            }
            WaveBufferCopyTwin.gather(GROUPS, hostSteadyK, hostSteadyV, steadyLengths, STEADY_STRIDE, hostListK, hostListV,
                    LIST_STRIDE, hostCacheK, hostCacheV, CACHE_BLOCKS, starts, sizes, offsets, missCounts, blocks, sizes, offsets,
                    hitCounts, UNITS, twinK, twinV, EXEC_STRIDE, twinValid);
            long wrong = differences(twinK, gotK) + differences(twinV, gotV) + differences(twinValid, gotValid);
            double ms = GpuTiming.medianMillis(gpu, stream, launch);
            double unitBytes = 2.0 * GROUPS * UNITS * CHUNK * INTS * 4;
            double steadyBytes = 2.0 * GROUPS * STEADY * INTS * 4;
            System.out.printf("gather, every block a %s: %s (%d ints differ from the twin); %.3f ms for %.1f MB of %s K/V"
                    + " (+ %.1f MB steady zone) = %.1f GB/s%n", misses ? "miss (pinned host memory)" : "hit (GPU cache)",
                    wrong == 0 ? "OK" : "FAILED", wrong, ms, unitBytes / 1e6, misses ? "host" : "cached", steadyBytes / 1e6,
                    (unitBytes + steadyBytes) / ms / 1e6);
            return wrong == 0;
        }
    }

    /** Random ints in device memory, returned as a host copy for the twin. */
    private static I32Array hostCopy(Gpu gpu, DeviceBuffer device, Random random) {
        I32Array host = I32Array.allocate(Arena.ofAuto(), device.byteSize() / 4);
        fill(host, random);
        gpu.copy(host, device.asI32(), gpu.defaultStream());
        return host;
    }

    private static void fill(I32Array a, Random random) {
        for (long i = 0; i < a.length(); i++) a.set(i, random.nextInt());
    }

    private static long differences(I32Array expected, I32Array actual) {
        long n = 0;
        for (long i = 0; i < expected.length(); i++) {
            if (expected.get(i) != actual.get(i)) n++;
        }
        return n;
    }

    private static List<Integer> shuffled(int n, Random random) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) order.add(i);
        Collections.shuffle(order, random);
        return order;
    }
}
