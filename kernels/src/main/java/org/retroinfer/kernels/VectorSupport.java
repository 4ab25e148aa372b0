package org.retroinfer.kernels;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place that picks the Vector API species every CPU kernel uses, and refuses to run
 * without a live Vector API: there is no scalar fallback.
 *
 * <p>The species defaults to the platform's preferred shape; {@code -Dretroinfer.vectorBits=256}
 * overrides it (512-bit vectors are slower than 256-bit ones on some CPUs). The other species
 * here are derived from {@link #FLOAT} so that one load of stored values widens to exactly one
 * float vector.
 */
public final class VectorSupport {
    /** The float species of every CPU kernel. */
    public static final VectorSpecies<Float> FLOAT = chooseSpecies();

    /** Ints of the same shape as {@link #FLOAT}: the lanes of bit-level float conversions. */
    public static final VectorSpecies<Integer> INT = FLOAT.withLanes(int.class);

    /** As many 16-bit lanes as {@link #FLOAT} has floats: one load of F16/BF16 values. */
    public static final VectorSpecies<Short> HALF =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOAT.vectorBitSize() / 2));

    /**
     * The byte species of quantised loads: as many bytes as {@link #FLOAT} has floats, but at
     * least the smallest vector (64 bits), so that a 128-bit float species reads 8 bytes and
     * widens them in two parts.
     */
    public static final VectorSpecies<Byte> BYTE =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, FLOAT.vectorBitSize() / 4)));

    /** Stored tensors (GGUF, safetensors, our caches) are little-endian. */
    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private VectorSupport() {}

    private static VectorSpecies<Float> chooseSpecies() {
        int bits = Integer.getInteger("retroinfer.vectorBits", VectorShape.preferredShape().vectorBitSize());
        VectorShape shape;
        try {
            shape = VectorShape.forBitSize(bits);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("retroinfer.vectorBits must be 128, 256 or 512, got " + bits, e);
        }
        VectorSpecies<Float> species = FloatVector.SPECIES_PREFERRED.withShape(shape);
        // The derived species below need at least 4 float lanes; fewer is what a JVM without SIMD
        // support (or -Dretroinfer.vectorBits=64) gives, and such a JVM would run lane by lane.
        if (species.length() < 4) {
            throw new IllegalStateException("the Vector API offers only " + species.length()
                    + " float lane(s) at " + bits + " bits; RetroInfer needs SIMD (SSE/AVX or NEON) and"
                    + " retroinfer.vectorBits of 128, 256 or 512");
        }
        return species;
    }

    /**
     * Checks that vector operations are intrinsified rather than run lane by lane, and describes
     * the species. Where the chosen shape has fewer than 4 float lanes, which is what a JVM
     * without SIMD support reports, this class (and so every kernel) fails to initialise with an
     * {@link IllegalStateException} as the cause, before any kernel can run lane by lane.
     */
    public static String requireLive() {
        return FLOAT.vectorBitSize() + "-bit vectors, " + FLOAT.length() + " float lanes (" + FLOAT + ")";
    }
}
