package org.retroinfer.accel.examples;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.KernelMethod;

/** Cases that check semantics bit for bit: 16-bit conversions, atomics, and Java arithmetic rules. */
final class CorrectnessCases {
    private CorrectnessCases() {}

    /**
     * Floats with the awkward values mixed in: NaN, infinities, signed zeros, subnormals, huge and tiny,
     * and values around the long range's ends.
     */
    static float special(Random r, int i) {
        return switch (i % 16) {
            case 0 -> Float.NaN;
            case 1 -> Float.POSITIVE_INFINITY;
            case 2 -> Float.NEGATIVE_INFINITY;
            case 3 -> -0f;
            case 4 -> 0f;
            case 5 -> Float.MIN_VALUE * (1 + r.nextInt(100));
            case 6 -> 65504f * (1 + r.nextFloat());
            case 7 -> -3e9f * r.nextFloat();
            case 8 -> 1e-6f * r.nextFloat();
            case 9 -> (r.nextBoolean() ? 0x1p63f : -0x1p63f) * (0.5f + r.nextFloat());
            default -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
        };
    }

    record Halves() implements ExampleCase {
        @Override
        public String name() {
            return "convert.f16-bf16";
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(ElementwiseKernels.class, "roundToHalves"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            long n = Math.min(scale.elements(), 1L << 26) & ~7L;
            F32Array in = F32Array.allocate(arena, n);
            for (long i = 0; i < n; i++) {
                in.set(i, special(r, (int) (i % 1_000_003)));
            }
            F16Array half = F16Array.allocate(arena, n);
            BF16Array brain = BF16Array.allocate(arena, n);
            F32Array halfBack = F32Array.allocate(arena, n);
            F32Array brainBack = F32Array.allocate(arena, n);
            Grid grid = Grid.covering((n + 7) / 8, scale.blockSize());
            Launch launch = new Launch(kernels().getFirst(), grid, new Object[] {in, half, brain, halfBack, brainBack, n});
            return new SimpleInstance(List.of(launch), List.of(in), List.of(half, brain, halfBack, brainBack)) {
                @Override
                public Check check() {
                    float[] h = new float[(int) n];
                    float[] b = new float[(int) n];
                    for (int i = 0; i < n; i++) {
                        h[i] = Float.float16ToFloat(Float.floatToFloat16(in.get(i)));
                        b[i] = KMath.bf16ToFloat(KMath.floatToBf16(in.get(i)));
                    }
                    Check hc = Checks.exact(halfBack, h, "half round trip");
                    Check bc = Checks.exact(brainBack, b, "bfloat16 round trip");
                    return new Check(hc.ok() && bc.ok(), hc.detail() + "; " + bc.detail());
                }

                @Override
                public long bytesMoved() {
                    return 4 * n + 2 * n + 2 * n + 4 * n + 4 * n;
                }
            };
        }
    }

    record Histogram() implements ExampleCase {
        @Override
        public String name() {
            return "histogram.atomic";
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(ElementwiseKernels.class, "histogram"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            long n = Math.min(scale.elements(), 1L << 24);
            int bins = 256;
            I32Array values = I32Array.allocate(arena, n);
            long[] expected = new long[bins];
            for (long i = 0; i < n; i++) {
                int v = (int) (Math.abs(r.nextGaussian()) * 90);
                values.set(i, v);
                expected[v & (bins - 1)]++;
            }
            I32Array counts = I32Array.allocate(arena, bins);
            Launch launch = new Launch(kernels().getFirst(), Grid.of(scale.streamingBlocks(), scale.blockSize()),
                    new Object[] {values, counts, bins, n});
            return new SimpleInstance(List.of(launch), List.of(values, counts), List.of(counts)) {
                @Override
                public Check check() {
                    for (int b = 0; b < bins; b++) {
                        if (counts.get(b) != expected[b]) {
                            return new Check(false, "bin " + b + ": expected " + expected[b] + ", got " + counts.get(b));
                        }
                    }
                    return new Check(true, n + " values counted into " + bins + " bins exactly");
                }

                @Override
                public long bytesMoved() {
                    return 4 * n;
                }
            };
        }
    }

    /** Java's integer and float rules, against the JVM running the same method (in the emulator). */
    record Semantics() implements ExampleCase {
        @Override
        public String name() {
            return "semantics.java";
        }

        @Override
        public boolean needsJavaFloatSemantics() {
            return true;
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(SemanticsKernel.class, "javaSemantics"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            int n = (int) Math.min(scale.elements(), 1 << 16);
            I32Array ints = I32Array.allocate(arena, 2L * n);
            F32Array floats = F32Array.allocate(arena, 2L * n);
            for (int i = 0; i < 2 * n; i++) {
                int kind = r.nextInt(4);
                ints.set(i, kind == 0 ? r.nextInt() : kind == 1 ? r.nextInt(64) - 32 : r.nextInt(1 << 21) - (1 << 20));
                floats.set(i, special(r, r.nextInt(16)));
            }
            I32Array outInts = I32Array.allocate(arena, n);
            F32Array outFloats = F32Array.allocate(arena, n);
            long[] outLongs = new long[n];
            long[] outConversions = new long[n];
            Grid grid = Grid.covering(n, scale.blockSize());
            Object[] args = {ints, floats, outInts, outFloats, outLongs, outConversions, n};
            Launch launch = new Launch(kernels().getFirst(), grid, args);
            return new SimpleInstance(List.of(launch), List.of(ints, floats), List.of(outInts, outFloats, outLongs, outConversions)) {
                @Override
                public Check check() {
                    try (Arena ref = Arena.ofShared()) {
                        I32Array refInts = I32Array.allocate(ref, n);
                        F32Array refFloats = F32Array.allocate(ref, n);
                        long[] refLongs = new long[n];
                        long[] refConversions = new long[n];
                        new Emulator().launch(kernels().getFirst(), grid, ints, floats, refInts, refFloats, refLongs,
                                refConversions, n);
                        for (int i = 0; i < n; i++) {
                            if (refInts.get(i) != outInts.get(i) || refLongs[i] != outLongs[i]
                                    || refConversions[i] != outConversions[i]) {
                                return new Check(false, "thread " + i + ": ints " + outInts.get(i) + "/" + outLongs[i] + "/"
                                        + outConversions[i] + ", the JVM gives " + refInts.get(i) + "/" + refLongs[i] + "/"
                                        + refConversions[i] + " for inputs " + ints.get(2L * i) + ", " + ints.get(2L * i + 1)
                                        + ", " + floats.get(2L * i) + ", " + floats.get(2L * i + 1));
                            }
                        }
                        float[] expected = refFloats.toArray();
                        return Checks.exact(outFloats, expected, n + " threads' int, long and conversion results bit-exact; floats");
                    }
                }

                @Override
                public long bytesMoved() {
                    return 40L * n;
                }
            };
        }
    }
}
