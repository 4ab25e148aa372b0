package org.retroinfer.kvstore.gpu;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.IndexStore;
import org.retroinfer.kvstore.wave.StoreFormat;

/**
 * Writes new clusters' members into a quantised (INT8 or INT4) store of the host tier or the GPU tier: quantised in
 * device memory a chunk at a time ({@link IndexStore#gatherQuantized}, {@link IndexStore#gatherQuantizedInt4}), then
 * copied to the store by the copy engine (over PCIe for the host tier). The same kernel writing straight into mapped
 * host memory moved 3.2 GB/s on the H100, against 54 GB/s for the copy (docs/results/gpu-retro/fill), and made the
 * host tier's writes most of a prompt's indexing.
 */
final class QuantisedStoreWriter {
    /** Vectors a chunk by default: 8.25 MiB of INT8 scratch, a 32K prompt's head in one chunk. */
    static final int CHUNK = 1 << 16;

    private final Device device;
    private final StoreFormat format;
    private final KernelMethod quantiser;
    private final int chunk;
    private final I32Array vectors;
    private final I32Array scales;

    QuantisedStoreWriter(Device device, StoreFormat format, int chunk) {
        if (format == StoreFormat.HALF) {
            throw new IllegalArgumentException("a 16-bit store is copied, not quantised");
        }
        this.device = device;
        this.format = format;
        this.quantiser = format.quantiser();
        this.chunk = chunk;
        this.vectors = device.i32((long) chunk * format.ints());
        this.scales = device.i32((long) chunk * format.scaleInts());
    }

    /**
     * Vectors {@code members[0 … n)} of {@code source}, quantised, to {@code store} and their scales to
     * {@code storeScales}, from vector {@code storeVector} on. Enqueued only: the device's one stream orders each
     * chunk's copies before the next chunk overwrites the scratch.
     */
    void write(HalfPrecisionArray source, I32Array members, int n, I32Array store, I32Array storeScales, long storeVector) {
        int ints = format.ints(), perVector = format.scaleInts();
        for (int done = 0; done < n; done += chunk) {
            int count = Math.min(chunk, n - done);
            I32Array chunkVectors = vectors.slice(0, (long) count * ints);
            I32Array chunkScales = scales.slice(0, (long) count * perVector);
            device.launch(quantiser, IndexStore.vectorGrid(count), source, members.slice(done, count), count, chunkVectors,
                    chunkScales);
            device.copy(chunkVectors, store.slice((storeVector + done) * ints, (long) count * ints));
            device.copy(chunkScales, storeScales.slice((storeVector + done) * perVector, (long) count * perVector));
        }
    }

    StoreFormat format() {
        return format;
    }

    void free() {
        device.free(vectors);
        device.free(scales);
    }
}
