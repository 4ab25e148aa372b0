package org.retroinfer.accel.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * Every Java conversion, compiled alone, run through {@link StraightLinePtx} (the PTX ISA's meaning of the
 * emitted instructions) on NaNs, infinities, values past the integer ranges, rounding ties and random
 * values, and compared with the JVM bit for bit. This is the check that the first H100 run needed: there
 * {@code (long) NaN} came back as Long.MIN_VALUE, because {@code cvt.rzi.s64.f32} turns NaN into MININT.
 */
class ConversionPtxTest {
    private static final KernelCompiler COMPILER = new KernelCompiler();

    /** Where the input and output bits live: a float's bits are the low 32 of the long. */
    enum Kind { INT, LONG, FLOAT, DOUBLE }

    /**
     * One conversion kernel of {@link CompilerTestKernels}, its input and output kinds and the JVM's
     * result as a function of the input bits; {@code exactNaN} when the NaN's bits must match too.
     */
    record Conversion(String kernel, Kind in, Kind out, LongUnaryOperator jvm, boolean exactNaN) {
        @Override
        public String toString() {
            return kernel;
        }
    }

    static Stream<Conversion> conversions() {
        return Stream.of(
                new Conversion("f2i", Kind.FLOAT, Kind.INT, b -> (int) f(b), false),
                new Conversion("f2l", Kind.FLOAT, Kind.LONG, b -> (long) f(b), false),
                new Conversion("d2i", Kind.DOUBLE, Kind.INT, b -> (int) d(b), false),
                new Conversion("d2l", Kind.DOUBLE, Kind.LONG, b -> (long) d(b), false),
                new Conversion("f2d", Kind.FLOAT, Kind.DOUBLE, b -> Double.doubleToRawLongBits(f(b)), false),
                new Conversion("d2f", Kind.DOUBLE, Kind.FLOAT, b -> Float.floatToRawIntBits((float) d(b)), false),
                new Conversion("i2f", Kind.INT, Kind.FLOAT, b -> Float.floatToRawIntBits((float) (int) b), false),
                new Conversion("i2d", Kind.INT, Kind.DOUBLE, b -> Double.doubleToRawLongBits((int) b), false),
                new Conversion("l2f", Kind.LONG, Kind.FLOAT, b -> Float.floatToRawIntBits((float) b), false),
                new Conversion("l2d", Kind.LONG, Kind.DOUBLE, b -> Double.doubleToRawLongBits((double) b), false),
                new Conversion("l2i", Kind.LONG, Kind.INT, b -> (int) b, false),
                new Conversion("i2l", Kind.INT, Kind.LONG, b -> (long) (int) b, false),
                new Conversion("i2b", Kind.INT, Kind.INT, b -> (byte) b, false),
                new Conversion("i2s", Kind.INT, Kind.INT, b -> (short) b, false),
                new Conversion("i2c", Kind.INT, Kind.INT, b -> (char) b, false),
                new Conversion("absFloat", Kind.FLOAT, Kind.FLOAT, b -> Float.floatToRawIntBits(Math.abs(f(b))), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conversions")
    void conversionMatchesTheJvmUnderThePtxIsaRules(Conversion c) {
        long seed = System.nanoTime();
        String ptx = COMPILER.compile(KernelMethod.of(CompilerTestKernels.class, c.kernel()), CompileOptions.defaults()).ptx();
        for (long input : inputs(c.in(), new Random(seed))) {
            long expected = c.jvm().applyAsLong(input) & mask(c.out());
            long actual = StraightLinePtx.run(ptx, input);
            boolean bothNaN = !c.exactNaN() && isNaN(expected, c.out()) && isNaN(actual, c.out());
            if (!bothNaN) {
                assertEquals(expected, actual, () -> c.kernel() + "(" + show(input, c.in()) + "): the JVM gives "
                        + show(expected, c.out()) + ", the PTX " + show(actual, c.out()) + " (seed " + seed + ")\n" + ptx);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conversions")
    void fastMathKeepsJavasConversions(Conversion c) {
        String fast = COMPILER.compile(KernelMethod.of(CompilerTestKernels.class, c.kernel()),
                CompileOptions.defaults().withFastMath(true)).ptx();
        long seed = System.nanoTime();
        for (long input : inputs(c.in(), new Random(seed))) {
            long expected = c.jvm().applyAsLong(input) & mask(c.out());
            long actual = StraightLinePtx.run(fast, input);
            assertTrue(expected == actual || (isNaN(expected, c.out()) && isNaN(actual, c.out())), () -> c.kernel() + "("
                    + show(input, c.in()) + ") in fast math: " + show(actual, c.out()) + " (seed " + seed + ")\n" + fast);
        }
    }

    /** The awkward values of the kind, then random ones. */
    private static List<Long> inputs(Kind kind, Random r) {
        List<Long> values = new ArrayList<>();
        switch (kind) {
            case FLOAT -> {
                float[] special = {Float.NaN, Float.intBitsToFloat(0x7fc12345), Float.intBitsToFloat(0xffc00001),
                        Float.intBitsToFloat(0x7f800001), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
                        Float.MIN_VALUE, -Float.MIN_NORMAL / 3, 0.5f, -0.5f, 1.5f, -1.9999f, 2147483520f, 2147483648f,
                        -2147483648f, -2147483904f, 3e9f, -3e9f, 0x1p63f, -0x1p63f, 0x1.fffffep62f, 1e19f, -1e19f,
                        Float.MAX_VALUE, -Float.MAX_VALUE, 65504f, 16777217f};
                for (float f : special) {
                    values.add(Float.floatToRawIntBits(f) & 0xffffffffL);
                }
                for (int i = 0; i < 200; i++) {
                    values.add(r.nextInt() & 0xffffffffL);
                }
            }
            case DOUBLE -> {
                double[] special = {Double.NaN, Double.longBitsToDouble(0x7ff8000000012345L),
                        Double.longBitsToDouble(0xfff0000000000001L), Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                        0.0, -0.0, Double.MIN_VALUE, Double.MIN_NORMAL, 0.5, -0.5, 2147483647.9, 2147483648.0,
                        -2147483648.9, -2147483649.0, 0x1p63, -0x1p63, 0x1.fffffffffffffp62, -0x1.0000000000001p63, 1e300,
                        -1e300, 0x1p53 + 1, Float.MAX_VALUE * 1.0000001, (double) Float.MIN_VALUE / 2, 3.4028235677973366e38,
                        1.401298464324817e-45 * 0.75, 0x1.000001p0, 0x1.0000018p0, 0x1.0000008p0};
                for (double d : special) {
                    values.add(Double.doubleToRawLongBits(d));
                }
                for (int i = 0; i < 200; i++) {
                    values.add(r.nextBoolean() ? r.nextLong() : Double.doubleToRawLongBits(r.nextGaussian() * Math.pow(2, r.nextInt(140) - 70)));
                }
            }
            case INT -> {
                int[] special = {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 16777217, 16777219, -16777217, 33554435,
                        127, 128, -129, 32767, 32768, 65535, 65536, -65537};
                for (int i : special) {
                    values.add(i & 0xffffffffL);
                }
                for (int i = 0; i < 200; i++) {
                    values.add(r.nextInt() & 0xffffffffL);
                }
            }
            case LONG -> {
                long[] special = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, (1L << 53) + 1, (1L << 53) + 3, -(1L << 53) - 1,
                        (1L << 24) + 1, (1L << 24) + 3, (1L << 62) + (1L << 38), (1L << 62) + (1L << 38) + 1, 0xffffffffL,
                        1L << 32, Integer.MIN_VALUE - 1L};
                for (long l : special) {
                    values.add(l);
                }
                for (int i = 0; i < 200; i++) {
                    values.add(r.nextLong() >> r.nextInt(64));
                }
            }
        }
        return values;
    }

    private static float f(long bits) {
        return Float.intBitsToFloat((int) bits);
    }

    private static double d(long bits) {
        return Double.longBitsToDouble(bits);
    }

    private static long mask(Kind k) {
        return k == Kind.INT || k == Kind.FLOAT ? 0xffffffffL : -1L;
    }

    private static boolean isNaN(long bits, Kind k) {
        return k == Kind.FLOAT ? Float.isNaN(f(bits)) : k == Kind.DOUBLE && Double.isNaN(d(bits));
    }

    private static String show(long bits, Kind k) {
        return switch (k) {
            case INT -> Integer.toString((int) bits);
            case LONG -> Long.toString(bits);
            case FLOAT -> f(bits) + " (0x" + Integer.toHexString((int) bits) + ")";
            case DOUBLE -> d(bits) + " (0x" + Long.toHexString(bits) + ")";
        };
    }
}
