package org.retroinfer.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place that picks the Vector API species every CPU kernel uses, and refuses to run
 * without a live Vector API: there is no scalar fallback.
 *
 * <p>The species defaults to the platform's preferred shape; {@code -Dretroinfer.vectorBits=256}
 * overrides it (512-bit vectors are slower than 256-bit ones on some CPUs).
 */
public final class VectorSupport {
    /** The float species of every CPU kernel. */
    public static final VectorSpecies<Float> FLOAT = chooseSpecies();

    private VectorSupport() {}

    private static VectorSpecies<Float> chooseSpecies() {
        int bits = Integer.getInteger("retroinfer.vectorBits", VectorShape.preferredShape().vectorBitSize());
        VectorShape shape;
        try {
            shape = VectorShape.forBitSize(bits);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("retroinfer.vectorBits must be 128, 256 or 512, got " + bits, e);
        }
        return FloatVector.SPECIES_PREFERRED.withShape(shape);
    }

    /**
     * Checks that vector operations are intrinsified rather than run lane by lane, and describes
     * the species. Fails where the preferred shape has a single float lane, which is what a JVM
     * without SIMD support reports.
     */
    public static String requireLive() {
        if (FLOAT.length() < 4) {
            throw new IllegalStateException("the Vector API offers only " + FLOAT.length()
                    + " float lane(s) on this CPU; RetroInfer needs SIMD (SSE/AVX or NEON)");
        }
        return FLOAT.vectorBitSize() + "-bit vectors, " + FLOAT.length() + " float lanes (" + FLOAT + ")";
    }
}
