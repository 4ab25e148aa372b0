package org.retroinfer.kvstore.wave;

import org.retroinfer.kernels.DType;

/**
 * How a wave buffer's store keeps its cluster-ordered keys and values: in the cache's 16-bit storage type, copied
 * as they are, or as INT8 with one F32 scale per 128-element vector (symmetric, absmax / 127), which halves the
 * host tier's memory and the PCIe bytes a miss costs; the gather dequantises misses into the 16-bit execution buffer.
 */
public enum StoreFormat {
    /** The storage type's 16 bits per element. */
    HALF,
    /** One signed byte per element and an F32 scale per vector. */
    INT8;

    /** Bytes one vector of {@code headDim} elements takes in the store. */
    public long vectorBytes(int headDim) {
        return this == HALF ? 2L * headDim : headDim + 4L;
    }

    /** The format a command-line name gives ({@code int8}, or the storage type's own name for {@link #HALF}). */
    public static StoreFormat parse(String name, DType storage) {
        if (name.equalsIgnoreCase("int8")) return INT8;
        if (name.equalsIgnoreCase(storage.name())) return HALF;
        throw new IllegalArgumentException("must be int8 or the KV type " + storage.name().toLowerCase() + ", got '" + name + "'");
    }
}
