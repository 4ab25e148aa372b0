package org.retroinfer.kvstore.wave;

import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.gpu.ExecutionBufferGather;
import org.retroinfer.kernels.gpu.IndexStore;
import org.retroinfer.kernels.gpu.Int4Vectors;
import org.retroinfer.kernels.gpu.StoreDecode;

/**
 * How a wave buffer's store keeps its cluster-ordered keys and values: in the cache's 16-bit storage type, copied
 * as they are, or quantised, which shrinks the host tier's memory and the PCIe bytes a miss costs: INT8 with one F32
 * scale per 128-element vector (symmetric, absmax / 127), or INT4 with one BF16 scale per 32 elements (absmax / 7).
 * The gather dequantises misses into the 16-bit execution buffer.
 */
public enum StoreFormat {
    /** The storage type's 16 bits per element. */
    HALF(WaveBuffer.INTS, 0),
    /** One signed byte per element and an F32 scale per vector ({@code Int8Vectors}). */
    INT8(WaveBuffer.INTS / 2, 1),
    /** Four bits per element and a BF16 scale per 32 elements ({@link Int4Vectors}). */
    INT4(Int4Vectors.INTS, Int4Vectors.SCALE_INTS);

    private final int ints;
    private final int scaleInts;

    StoreFormat(int ints, int scaleInts) {
        this.ints = ints;
        this.scaleInts = scaleInts;
    }

    /** Ints a 128-element vector takes in the store, scales aside. */
    public int ints() {
        return ints;
    }

    /**
     * Ints of scales per 128-element vector, in a separate int array beside the store (INT8: an F32's bits; INT4: four
     * BF16s); 0 for {@link #HALF}.
     */
    public int scaleInts() {
        return scaleInts;
    }

    /** Bytes one 128-element vector takes in the store, its scales included. */
    public long vectorBytes() {
        return 4L * (ints + scaleInts);
    }

    /** The kernel that quantises vectors into a store of this format ({@link IndexStore}); not for {@link #HALF}. */
    public KernelMethod quantiser() {
        return KernelMethod.of(IndexStore.class, this == INT4 ? "gatherQuantizedInt4" : "gatherQuantized");
    }

    /** The kernel that assembles execution buffers of {@code storage} from a store of this format. */
    KernelMethod gather(DType storage) {
        String suffix = storage == DType.BF16 ? "Bf16" : "F16";
        return KernelMethod.of(ExecutionBufferGather.class, switch (this) {
            case HALF -> "gather";
            case INT8 -> "gatherInt8" + suffix;
            case INT4 -> "gatherInt4" + suffix;
        });
    }

    /**
     * The kernel that attends a steady zone of {@code storage} and units read in place from a store of this format
     * ({@link StoreDecode}).
     */
    KernelMethod inPlacePartials(DType storage) {
        String suffix = storage == DType.BF16 ? "Bf16" : "F16";
        return KernelMethod.of(StoreDecode.class, switch (this) {
            case HALF -> "partials" + suffix;
            case INT8 -> "partialsInt8" + suffix;
            case INT4 -> "partialsInt4" + suffix;
        });
    }

    /** The format a command-line name gives ({@code int8}, {@code int4}, or the storage type's own name for {@link #HALF}). */
    public static StoreFormat parse(String name, DType storage) {
        if (name.equalsIgnoreCase("int8")) return INT8;
        if (name.equalsIgnoreCase("int4")) return INT4;
        if (name.equalsIgnoreCase(storage.name())) return HALF;
        throw new IllegalArgumentException("must be int8, int4 or the KV type " + storage.name().toLowerCase() + ", got '" + name
                + "'");
    }
}
