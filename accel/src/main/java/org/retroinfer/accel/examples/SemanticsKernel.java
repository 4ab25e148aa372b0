package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * A kernel whose only purpose is to exercise Java semantics the GPU must reproduce bit for bit: integer
 * overflow, division and remainder signs, masked shifts, narrowing, saturating float-to-int conversion,
 * NaN in comparisons, Math.min/max with NaN and signed zeros, switches, loops with break and continue,
 * conditional expressions, inlined helpers, and every conversion between int, long, float and double on
 * NaN, infinities and values past the integer ranges. Each thread writes five results.
 */
public final class SemanticsKernel {
    private SemanticsKernel() {}

    @Kernel
    public static void javaSemantics(KernelContext ctx, I32Array ints, F32Array floats, I32Array outInts,
                                     F32Array outFloats, long[] outLongs, long[] outConversions, int n) {
        int i = ctx.globalIdx;
        if (i >= n) {
            return;
        }
        int a = ints.get(2L * i);
        int b = ints.get(2L * i + 1);
        float x = floats.get(2L * i);
        float y = floats.get(2L * i + 1);

        int acc = a * 31 + (b << (a & 63)) - (a >>> b) + (b >> 3);
        acc ^= b != 0 ? a / b + a % b : -a;
        acc += (byte) a + (short) b + (char) (a ^ b);
        acc += (int) x + (int) (x * 1e10f) + (int) y;
        acc += select(a, b);
        int steps = 0;
        for (int k = 0; k < 40; k++) {
            if ((k & 3) == 1) {
                continue;
            }
            if (steps > (a & 15) + 10) {
                break;
            }
            steps += k % 3;
        }
        acc += steps;
        acc += Integer.bitCount(a) + Integer.numberOfLeadingZeros(b);
        outInts.set(i, acc);

        float f = x < y ? Math.max(x, y) : Math.min(x, y);
        if (!(x >= y)) {
            f += 1f;
        }
        if (x != x || y > 100f) {
            f -= 2f;
        }
        f = f * 1.5f + x / (y == 0f ? 1f : y) - (float) (double) x;
        outFloats.set(i, f);

        long w = (long) a * b + ((long) a << 40) / (b | 1) + ((long) b >>> (a & 63)) + (long) (x * 1e12f);
        outLongs[i] = w ^ Float.floatToRawIntBits(Math.abs(y));
        outConversions[i] = conversions(a, w, x, y);
    }

    /**
     * Every conversion between float, double, int and long. The inputs reach NaN (Java gives 0), the
     * infinities and values past the int and long ranges (Java saturates), integers too wide for a float's
     * or a double's significand, and doubles that round to float subnormals or overflow (round to nearest
     * even). NaN results are hashed through floatToIntBits, whose NaN is canonical.
     */
    private static long conversions(int a, long w, float x, float y) {
        double d = (double) x * y * 1e20;
        long h = (long) x;
        h = h * 31 + (long) (x * y);
        h = h * 31 + (long) d;
        h = h * 31 + (int) d;
        h = h * 31 + (int) (double) y;
        h = h * 31 + Float.floatToIntBits((float) d);
        h = h * 31 + Float.floatToIntBits((float) (d * 1e-63));
        h = h * 31 + Float.floatToRawIntBits((float) w);
        h = h * 31 + Double.doubleToRawLongBits((double) (w * 0x9E3779B97F4A7C15L));
        h = h * 31 + Float.floatToRawIntBits((float) (a * 0x9E3779B9));
        return h;
    }

    private static int select(int a, int b) {
        switch (a & 7) {
            case 0:
                return b;
            case 1:
            case 2:
                return a - b;
            case 5:
                return -7;
            default:
                break;
        }
        return switch (b & 1023) {
            case 10 -> 1;
            case 500 -> 2;
            case 1000 -> 3;
            default -> a > b ? 4 : 5;
        };
    }
}
