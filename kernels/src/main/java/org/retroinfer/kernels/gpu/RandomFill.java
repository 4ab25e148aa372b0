package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Fills device memory with reproducible pseudo-random values, uniform in {@code [-scale, scale)}, element
 * {@code i}'s value a function of {@code (seed, i)} alone ({@link #uniform}): random weights of a model's shape
 * and random keys and values for throughput benchmarks, made where they live instead of copied over PCIe (Llama 3
 * 8B's are 16 GB). {@code n} must be a multiple of 8. Launch on {@link DecodeLayerShape#ELEMENTWISE_THREADS}-thread
 * blocks, any grid (grid-stride).
 */
public final class RandomFill {
    private RandomFill() {}

    @Kernel
    public static void half(KernelContext ctx, HalfPrecisionArray a, long n, long seed, float scale) {
        for (long i = 8L * ctx.globalIdx; i < n; i += 8L * ctx.globalGroupSizeX) {
            a.setFloat8(i, eight(seed, i, scale));
        }
    }


    @Kernel
    public static void f32(KernelContext ctx, F32Array a, long n, long seed, float scale) {
        for (long i = 8L * ctx.globalIdx; i < n; i += 8L * ctx.globalGroupSizeX) {
            Float8 e = eight(seed, i, scale);
            a.setFloat4(i, new Float4(e.s0(), e.s1(), e.s2(), e.s3()));
            a.setFloat4(i + 4, new Float4(e.s4(), e.s5(), e.s6(), e.s7()));
        }
    }

    private static Float8 eight(long seed, long i, float scale) {
        return new Float8(uniform(seed, i, scale), uniform(seed, i + 1, scale), uniform(seed, i + 2, scale),
                uniform(seed, i + 3, scale), uniform(seed, i + 4, scale), uniform(seed, i + 5, scale), uniform(seed, i + 6, scale),
                uniform(seed, i + 7, scale));
    }

    /** SplitMix64's finaliser of {@code seed + i·γ}, its top 24 bits mapped to {@code [-scale, scale)}. */
    public static float uniform(long seed, long i, float scale) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return scale * ((float) (z >>> 40) * (2f / 16777216f) - 1f);
    }
}
