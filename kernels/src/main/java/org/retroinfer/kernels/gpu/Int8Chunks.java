package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.Int8Vectors.LEVELS;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The GPU side of the {@link Int8Vectors} format: a half-warp quantises a vector ({@link #quantise}). Results
 * equal the twin's bit for bit with Java float semantics; with fast math the division {@code x / scale} is
 * {@code div.full.f32} (within 2 ulp), so a value within 2 ulp of a rounding boundary may land one level off.
 */
final class Int8Chunks {
    /** Lanes of a half-warp, eight elements each. */
    static final int QUANTISE_LANES = 16;
    /** Elements a {@link #quantise} lane holds. */
    static final int ELEMENTS_PER_LANE = HEAD_DIM / QUANTISE_LANES;

    private Int8Chunks() {}

    /**
     * Quantises a vector held by a half-warp, eight elements {@code x} a lane, as vector {@code i} of {@code target}
     * with its scale at {@code scales[i]}; nothing is written where {@code live} is false. Every lane of the warp must
     * call it (the absmax is reduced by shuffles within each half).
     */
    static void quantise(KernelContext ctx, Float8 x, boolean live, I32Array target, F32Array scales, long i) {
        float m = Math.max(Math.max(Math.max(Math.abs(x.s0()), Math.abs(x.s1())), Math.max(Math.abs(x.s2()), Math.abs(x.s3()))),
                Math.max(Math.max(Math.abs(x.s4()), Math.abs(x.s5())), Math.max(Math.abs(x.s6()), Math.abs(x.s7()))));
        for (int mask = QUANTISE_LANES / 2; mask > 0; mask >>= 1) {
            m = Math.max(m, ctx.shuffleXor(m, mask));
        }
        float scale = m / LEVELS;
        int lane = ctx.laneId % QUANTISE_LANES;
        if (live) {
            long at = i * Int8Vectors.INTS + lane * 2L;
            target.set(at, word(x.s0(), x.s1(), x.s2(), x.s3(), scale));
            target.set(at + 1, word(x.s4(), x.s5(), x.s6(), x.s7(), scale));
            if (lane == 0) {
                scales.set(i, scale);
            }
        }
    }

    /** Four elements quantised and packed little-endian. */
    private static int word(float a, float b, float c, float d, float scale) {
        return (level(a, scale) & 0xFF) | (level(b, scale) & 0xFF) << 8 | (level(c, scale) & 0xFF) << 16 | level(d, scale) << 24;
    }

    /** {@code rint(x / scale)} clamped to [-127, 127], 0 for a zero scale. */
    private static int level(float x, float scale) {
        return scale == 0 ? 0 : nearestEven(Math.max(-LEVELS, Math.min(LEVELS, x / scale)));
    }

    /**
     * {@code Math.rint} for {@code |y| <= 127} (the JIT has no rint): truncate, then round on the remainder, which is
     * exact ({@code y} and its truncation lie within a factor of two, or the truncation is 0); NaN gives 0.
     */
    private static int nearestEven(float y) {
        int t = (int) y;
        float r = y - t;
        boolean odd = (t & 1) != 0;
        if (r > 0.5f || r == 0.5f && odd) {
            return t + 1;
        }
        if (r < -0.5f || r == -0.5f && odd) {
            return t - 1;
        }
        return t;
    }

}
