package org.retroinfer.model.gpu;

import org.retroinfer.accel.device.Device;
import org.retroinfer.kernels.DType;
import org.retroinfer.accel.device.HostMemory;
import org.retroinfer.kvstore.gpu.GpuKvCache;
import org.retroinfer.kvstore.gpu.GpuRetroKvCache;
import org.retroinfer.kvstore.gpu.GpuRetroPlacement;
import org.retroinfer.kvstore.gpu.TierFormats;
import org.retroinfer.kvstore.wave.StoreFormat;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.Model;
import org.retroinfer.model.config.ModelConfig;

/**
 * A model made ready on a device: its weights uploaded once and a {@link GpuTransformer} for steps of up to
 * {@code maxRows} rows; {@link #cache} sizes a KV cache per run. Owns the device: closing the session frees
 * everything on it.
 */
public final class GpuSession implements AutoCloseable {
    private final Device device;
    private final ModelConfig config;
    private final GpuTransformer transformer;
    private final long weightBytes;

    private GpuSession(Device device, ModelConfig config, GpuTransformer transformer, long weightBytes) {
        this.device = device;
        this.config = config;
        this.transformer = transformer;
        this.weightBytes = weightBytes;
    }

    /** Uploads {@code model}'s weights to {@code device}, taking ownership of the device (closed on failure too). */
    public static GpuSession open(Model model, Device device, int maxRows) {
        try {
            ModelConfig config = model.config();
            GpuKvCache.checkShape(config.attentionShape()); // refuse unsupported heads before uploading
            long before = device.allocatedBytes();
            GpuWeights weights = GpuWeights.upload(device, model.transformer().weights());
            long weightBytes = device.allocatedBytes() - before;
            return new GpuSession(device, config, new GpuTransformer(config, weights, device, maxRows), weightBytes);
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
    }

    public GpuTransformer transformer() {
        return transformer;
    }

    /** A dense KV cache for {@code sequences} sequences of up to {@code capacity} tokens; close it to free it. */
    public GpuKvCache cache(DType kvType, int sequences, long capacity) {
        return new GpuKvCache(device, config.attentionShape(), kvType, sequences, capacity, transformer.maxRows());
    }

    /**
     * A RetroInfer cache ({@link GpuRetroKvCache}) for {@code sequences} sequences of up to {@code capacity} positions,
     * prefilling one prompt at a time, its stores in GPU memory where they fit; close it to free it.
     */
    public GpuRetroKvCache retroCache(RetroConfig retro, int sequences, long capacity) {
        return retroCache(retro, sequences, capacity, StoreFormat.HALF, config.layers());
    }

    /**
     * {@link #retroCache(RetroConfig, int, long)} with the host tier's stores in {@code hostFormat} and at most
     * {@code maxDeviceLayers} layers' stores on the GPU (0 puts every store in host memory, e.g. to measure the host
     * tier's accuracy on a model small enough to fit the GPU).
     */
    public GpuRetroKvCache retroCache(RetroConfig retro, int sequences, long capacity, StoreFormat hostFormat,
            int maxDeviceLayers) {
        return retroCache(retro, sequences, capacity, hostFormat, maxDeviceLayers, GpuRetroKvCache.Lookups.HOST);
    }

    /** {@link #retroCache(RetroConfig, int, long, StoreFormat, int)} with the mapping tables where {@code lookups} puts them. */
    public GpuRetroKvCache retroCache(RetroConfig retro, int sequences, long capacity, StoreFormat hostFormat,
            int maxDeviceLayers, GpuRetroKvCache.Lookups lookups) {
        return retroCache(retro, sequences, capacity, TierFormats.host(hostFormat), maxDeviceLayers, true, lookups);
    }

    /**
     * {@link #retroCache(RetroConfig, int, long, StoreFormat, int, GpuRetroKvCache.Lookups)} with each tier in its format
     * of {@code formats}, and without a host tier where {@code hostTier} is false: every layer's store in GPU memory, or
     * an error where they do not fit there.
     */
    public GpuRetroKvCache retroCache(RetroConfig retro, int sequences, long capacity, TierFormats formats,
            int maxDeviceLayers, boolean hostTier, GpuRetroKvCache.Lookups lookups) {
        GpuRetroPlacement.Placement placement = GpuRetroPlacement.place(config.attentionShape(), retro, capacity, 1, sequences, true,
                device.freeBytes() - RESERVE_BYTES, hostTierBytes(hostTier), formats, maxDeviceLayers, lookups);
        if (placement == null) {
            throw new IllegalArgumentException(sequences + " RetroInfer sequences of " + capacity + " positions fit neither this GPU's "
                    + (device.freeBytes() >> 20) + " MiB free nor, for their keys and values, "
                    + (hostTier ? "the host's " + (HostMemory.availableBytes() >> 20) + " MiB available"
                            : "the GPU alone (no host tier: --gpu-store-layers all)"));
        }
        return new GpuRetroKvCache(device, config.attentionShape(), retro, sequences, capacity, transformer.maxRows(), 1,
                placement.deviceStoreLayers(), formats, lookups);
    }

    /** GPU memory left free beside a cache: the transformer's workspace is allocated, this is for the driver and scratch. */
    public static final long RESERVE_BYTES = 1L << 30;
    /** Host memory left unpinned beside a cache's host tier, for the JVM and the system. */
    public static final long HOST_RESERVE_BYTES = 12L << 30;

    /** Host memory a cache's host tier may pin: what is available less {@link #HOST_RESERVE_BYTES}; none without one. */
    public static long hostTierBytes(boolean hostTier) {
        return hostTier ? HostMemory.availableBytes() - HOST_RESERVE_BYTES : 0;
    }

    public Device device() {
        return device;
    }

    /** Device memory of the weights. */
    public long weightBytes() {
        return weightBytes;
    }

    @Override
    public void close() {
        device.close();
    }
}
