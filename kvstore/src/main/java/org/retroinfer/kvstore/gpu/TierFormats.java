package org.retroinfer.kvstore.gpu;

import org.retroinfer.kvstore.wave.StoreFormat;

/**
 * How GPU RetroInfer's two tiers keep their cluster-ordered keys and values: the GPU tier's stores (device memory)
 * and the host tier's (mapped pinned host memory), each in the storage type or quantised. A quantised GPU tier
 * trades the rounding of the retrieval zone's keys and values (the index, the estimation zone and the steady zone
 * stay 16-bit) for sequences: at Llama 3 8B's shape an INT4 store takes 31% of a 16-bit one, so more sequences keep
 * every layer on the GPU and read nothing over PCIe.
 *
 * <p>The meta index's value sums (GPU memory, read only by the estimation zone) may be INT8 too: 132 bytes a cluster
 * instead of 256, 0.25 GiB of a 128K-token sequence at Llama 3 8B's shape, each value sum then estimated from level ×
 * scale. So may its centroids ({@link org.retroinfer.kernels.gpu.Int8Centroids}), which cluster scoring reads every step
 * for every cluster: half its bytes, and 0.25 GiB more, at the price of ranking the clusters by rounded centroids and
 * queries (it scores INT8 against INT8 with {@code dp4a}).
 *
 * @param device    the GPU tier's format
 * @param host      the host tier's format
 * @param valueSums the index's value sums: the storage type or INT8
 * @param centroids the index's centroids: the storage type or INT8
 */
public record TierFormats(StoreFormat device, StoreFormat host, StoreFormat valueSums, StoreFormat centroids) {
    /** Both tiers and the meta index in the storage type. */
    public static final TierFormats HALF = new TierFormats(StoreFormat.HALF, StoreFormat.HALF);

    public TierFormats {
        if (device == null || host == null || valueSums == null || centroids == null) {
            throw new IllegalArgumentException("both tiers, the value sums and the centroids need a format, got device " + device
                    + ", host " + host + ", value sums " + valueSums + ", centroids " + centroids);
        }
        if (valueSums == StoreFormat.INT4 || centroids == StoreFormat.INT4) {
            throw new IllegalArgumentException("value sums and centroids are kept in the storage type or INT8, not INT4");
        }
    }

    /** The two tiers' formats and the value sums', with 16-bit centroids. */
    public TierFormats(StoreFormat device, StoreFormat host, StoreFormat valueSums) {
        this(device, host, valueSums, StoreFormat.HALF);
    }

    /** The two tiers' formats, with a 16-bit meta index. */
    public TierFormats(StoreFormat device, StoreFormat host) {
        this(device, host, StoreFormat.HALF);
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
