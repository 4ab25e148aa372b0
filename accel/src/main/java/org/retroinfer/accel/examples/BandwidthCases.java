package org.retroinfer.accel.examples;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/** The streaming cases whose figure of merit is bandwidth: copies, a sum and saxpy. */
final class BandwidthCases {
    private BandwidthCases() {}

    static F32Array random(Arena arena, long n, Random r) {
        F32Array a = F32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) {
            a.set(i, r.nextFloat() - 0.5f);
        }
        return a;
    }

    /** A copy kernel over {@code n} floats (not a multiple of 4, to exercise the tail). */
    record Copy(StreamingKernel kernel) implements ExampleCase {
        @Override
        public String name() {
            return kernel.name();
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(kernel.kernel());
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            long n = scale.elements() + 3;
            F32Array src = random(arena, n, r);
            F32Array dst = F32Array.allocate(arena, n);
            Grid grid = kernel.grid(n, scale.streamingBlocks(), scale.blockSize());
            Launch launch = new Launch(kernels().getFirst(), grid, new Object[] {src, dst, n});
            return new SimpleInstance(List.of(launch), List.of(src), List.of(dst)) {
                @Override
                public Check check() {
                    for (long i = 0; i < n; i++) {
                        if (Float.floatToRawIntBits(src.get(i)) != Float.floatToRawIntBits(dst.get(i))) {
                            return new Check(false, "element " + i + ": expected " + src.get(i) + ", got " + dst.get(i));
                        }
                    }
                    return new Check(true, n + " floats copied exactly");
                }

                @Override
                public long bytesMoved() {
                    return 8 * n;
                }
            };
        }
    }

    /** A two-pass sum: a block-sums kernel, then {@link StreamingKernel#FINAL_SUM}. */
    record Sum(StreamingKernel kernel) implements ExampleCase {
        @Override
        public String name() {
            return kernel.name();
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(kernel.kernel(), StreamingKernel.FINAL_SUM);
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            long n = scale.elements() + 1;
            F32Array x = random(arena, n, r);
            Grid grid = kernel.grid(n, scale.streamingBlocks(), scale.blockSize());
            int blocks = grid.gridX();
            F32Array partials = F32Array.allocate(arena, blocks);
            F32Array result = F32Array.allocate(arena, 1);
            List<Launch> launches = List.of(
                    new Launch(kernels().get(0), grid, new Object[] {x, partials, n}),
                    new Launch(kernels().get(1), Grid.of(1, 1024), new Object[] {partials, result, blocks}));
            return new SimpleInstance(launches, List.of(x), List.of(partials, result)) {
                @Override
                public Check check() {
                    double sum = 0;
                    double magnitude = 0;
                    for (long i = 0; i < n; i++) {
                        sum += x.get(i);
                        magnitude += Math.abs(x.get(i));
                    }
                    float got = result.get(0);
                    double err = Math.abs(got - sum);
                    boolean ok = err <= 1e-5 * magnitude + 1e-6;
                    return new Check(ok, "sum " + got + " vs float64 " + sum + " (error " + String.format("%.3g", err)
                            + ", tolerance 1e-5 x sum|x| = " + String.format("%.3g", 1e-5 * magnitude) + ")");
                }

                @Override
                public long bytesMoved() {
                    return 4 * n;
                }
            };
        }
    }

    /** {@code y = a x + y}. */
    record Saxpy() implements ExampleCase {
        @Override
        public String name() {
            return "saxpy.float4";
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(ElementwiseKernels.class, "saxpy"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            long n = scale.elements() & ~3L;
            float a = r.nextFloat() * 4 - 2;
            F32Array x = random(arena, n, r);
            F32Array y = random(arena, n, r);
            double[] expected = new double[(int) n];
            double[] magnitude = new double[(int) n];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = (double) x.get(i) * a + y.get(i);
                magnitude[i] = Math.abs((double) x.get(i) * a) + Math.abs(y.get(i));
            }
            Launch launch = new Launch(kernels().getFirst(), Grid.of(scale.streamingBlocks(), scale.blockSize()),
                    new Object[] {a, x, y, n});
            return new SimpleInstance(List.of(launch), List.of(x, y), List.of(y)) {
                /** Within two float roundings (product and sum), which also admits the fma that fast math contracts to. */
                @Override
                public Check check() {
                    for (int i = 0; i < expected.length; i++) {
                        double err = Math.abs(y.get(i) - expected[i]);
                        if (!(err <= 0x1p-23 * magnitude[i])) {
                            return new Check(false, "y[" + i + "] = " + y.get(i) + ", expected " + expected[i]);
                        }
                    }
                    return new Check(true, n + " elements within two roundings of a float64 reference");
                }

                @Override
                public long bytesMoved() {
                    return 12 * n;
                }

                @Override
                public double flops() {
                    return 2.0 * n;
                }
            };
        }
    }
}
