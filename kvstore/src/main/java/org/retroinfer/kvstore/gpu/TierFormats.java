package org.retroinfer.kvstore.gpu;

import org.retroinfer.kvstore.wave.StoreFormat;

/**
 * How GPU RetroInfer's two tiers keep their cluster-ordered keys and values: the GPU tier's stores (device memory)
 * and the host tier's (mapped pinned host memory), each in the storage type or quantised. A quantised GPU tier
 * trades the rounding of the retrieval zone's keys and values (the index, the estimation zone and the steady zone
 * stay 16-bit) for sequences: at Llama 3 8B's shape an INT4 store takes 31% of a 16-bit one, so more sequences keep
 * every layer on the GPU and read nothing over PCIe.
 *
 * @param device the GPU tier's format
 * @param host   the host tier's format
 */
public record TierFormats(StoreFormat device, StoreFormat host) {
    /** Both tiers in the storage type. */
    public static final TierFormats HALF = new TierFormats(StoreFormat.HALF, StoreFormat.HALF);

    public TierFormats {
        if (device == null || host == null) {
            throw new IllegalArgumentException("both tiers need a format, got device " + device + ", host " + host);
        }
    }

    /** The GPU tier in the storage type, the host tier in {@code host}. */
    public static TierFormats host(StoreFormat host) {
        return new TierFormats(StoreFormat.HALF, host);
    }

    /** The format of the tier a store lives in. */
    public StoreFormat of(boolean onDevice) {
        return onDevice ? device : host;
    }
}
