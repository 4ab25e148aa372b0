package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * How fast a k-means run's members reach the wave index's store: {@link IndexStore#gatherVectors} (16-bit) and
 * {@link IndexStore#gatherQuantized} (INT8) of a layer's keys, written into device memory and into mapped host memory
 * (the host tier, over PCIe), against a copy of the same bytes from device memory into pinned host memory (the DMA
 * engine). One line each, in GB/s of store bytes written.
 *
 * <pre>
 * java ... org.retroinfer.kernels.gpu.IndexStoreGpuCheck [vectors, 262144: a 32K prompt's 8 KV heads]
 * </pre>
 */
public final class IndexStoreGpuCheck {
    private IndexStoreGpuCheck() {}

    public static void main(String[] args) {
        int vectors = args.length > 0 ? Integer.parseInt(args[0]) : 262_144;
        try (CudaDevice device = new CudaDevice(Gpu.open()); Arena arena = Arena.ofConfined()) {
            Gpu gpu = device.gpu();
            System.out.println("device: " + gpu.info() + ", " + vectors + " vectors of " + HEAD_DIM);
            Random random = new Random(1);
            BF16Array source = device.bf16((long) vectors * HEAD_DIM);
            BF16Array host = BF16Array.allocate(arena, (long) vectors * HEAD_DIM);
            for (long i = 0; i < host.length(); i++) host.set(i, (float) random.nextGaussian());
            device.upload(host.segment(), source);
            int[] order = new int[vectors];
            for (int i = 0; i < vectors; i++) order[i] = i;
            for (int i = vectors - 1; i > 0; i--) { // members come in cluster order: a random permutation of positions
                int j = random.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            I32Array members = device.i32(vectors);
            device.upload(MemorySegment.ofArray(order), members);
            long halfInts = (long) vectors * VectorChunks.INTS, int8Ints = (long) vectors * HEAD_DIM / 4;
            I32Array deviceHalf = device.i32(halfInts), deviceInt8 = device.i32(int8Ints);
            I32Array deviceScales = device.i32(vectors);
            I32Array mappedHalf = (I32Array) device.mapped(ElementType.I32, halfInts);
            I32Array mappedInt8 = (I32Array) device.mapped(ElementType.I32, int8Ints);
            I32Array mappedScales = (I32Array) device.mapped(ElementType.I32, vectors);
            I32Array pinned = (I32Array) device.staging(ElementType.I32, halfInts);
            KernelMethod gather = KernelMethod.of(IndexStore.class, "gatherVectors");
            KernelMethod quantized = KernelMethod.of(IndexStore.class, "gatherQuantized");
            CudaStream stream = device.stream();
            GpuTiming.warmUp(gpu);
            long halfBytes = halfInts * 4, int8Bytes = int8Ints * 4 + 4L * vectors;
            report("16-bit gather into device memory", halfBytes, GpuTiming.medianMillis(gpu, stream, () ->
                    device.launch(gather, IndexStore.vectorGrid(vectors), I32Array.view(source.region()), members, vectors,
                            deviceHalf)));
            report("16-bit gather into mapped host memory", halfBytes, GpuTiming.medianMillis(gpu, stream, () ->
                    device.launch(gather, IndexStore.vectorGrid(vectors), I32Array.view(source.region()), members, vectors,
                            mappedHalf)));
            report("INT8 gather into device memory", int8Bytes, GpuTiming.medianMillis(gpu, stream, () ->
                    device.launch(quantized, IndexStore.vectorGrid(vectors), source, members, vectors, deviceInt8,
                            deviceScales)));
            report("INT8 gather into mapped host memory", int8Bytes, GpuTiming.medianMillis(gpu, stream, () ->
                    device.launch(quantized, IndexStore.vectorGrid(vectors), source, members, vectors, mappedInt8,
                            mappedScales)));
            report("copy of the 16-bit store from device to pinned host memory", halfBytes,
                    GpuTiming.medianMillis(gpu, stream, () -> device.copy(deviceHalf, pinned)));
            report("copy of the INT8 vectors from device to pinned host memory", int8Ints * 4,
                    GpuTiming.medianMillis(gpu, stream, () -> device.copy(deviceInt8, pinned.slice(0, int8Ints))));
        }
    }

    private static void report(String what, long bytes, double millis) {
        System.out.printf(Locale.ROOT, "%-62s %8.3f ms  %6.1f GB/s%n", what, millis, bytes / millis / 1e6);
    }
}
