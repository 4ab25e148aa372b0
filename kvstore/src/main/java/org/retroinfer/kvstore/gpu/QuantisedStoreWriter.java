package org.retroinfer.kvstore.gpu;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.IndexStore;
import org.retroinfer.kvstore.wave.WaveBuffer;

/**
 * Writes new clusters' members into an INT8 host tier: quantised in device memory a chunk at a time
 * ({@link IndexStore#gatherQuantized}), then copied over PCIe by the copy engine. The same kernel writing straight
 * into mapped host memory moved 3.2 GB/s on the H100, against 54 GB/s for the copy (docs/results/gpu-retro/fill), and
 * made the host tier's writes most of a prompt's indexing.
 */
final class QuantisedStoreWriter {
    /** Vectors a chunk by default: 8.25 MiB of scratch, a 32K prompt's head in one chunk. */
    static final int CHUNK = 1 << 16;
    private static final KernelMethod GATHER = KernelMethod.of(IndexStore.class, "gatherQuantized");

    private final Device device;
    private final int chunk;
    private final I32Array vectors;
    private final F32Array scales;

    QuantisedStoreWriter(Device device, int chunk) {
        this.device = device;
        this.chunk = chunk;
        this.vectors = device.i32((long) chunk * WaveBuffer.INT8_INTS);
        this.scales = device.f32(chunk);
    }

    /**
     * Vectors {@code members[0 … n)} of {@code source}, quantised, to {@code store} and their scales to
     * {@code storeScales}, from vector {@code storeVector} on. Enqueued only: the device's one stream orders each
     * chunk's copies before the next chunk overwrites the scratch.
     */
    void write(HalfPrecisionArray source, I32Array members, int n, I32Array store, F32Array storeScales, long storeVector) {
        for (int done = 0; done < n; done += chunk) {
            int count = Math.min(chunk, n - done);
            I32Array chunkVectors = vectors.slice(0, (long) count * WaveBuffer.INT8_INTS);
            F32Array chunkScales = scales.slice(0, count);
            device.launch(GATHER, IndexStore.vectorGrid(count), source, members.slice(done, count), count, chunkVectors,
                    chunkScales);
            device.copy(chunkVectors, store.slice((storeVector + done) * WaveBuffer.INT8_INTS,
                    (long) count * WaveBuffer.INT8_INTS));
            device.copy(chunkScales, storeScales.slice(storeVector + done, count));
        }
    }

    void free() {
        device.free(vectors);
        device.free(scales);
    }
}
