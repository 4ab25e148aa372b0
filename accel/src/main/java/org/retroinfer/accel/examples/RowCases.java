package org.retroinfer.accel.examples;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/** Softmax, bfloat16 matrix-vector product, transpose, and a bfloat16 matrix product on tensor cores. */
final class RowCases {
    private RowCases() {}

    record Softmax() implements ExampleCase {
        @Override
        public String name() {
            return "softmax.rows";
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(RowKernels.class, "softmaxRows"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            int cols = 1000;
            int rows = (int) Math.max(1, scale.elements() / cols);
            F32Array in = F32Array.allocate(arena, (long) rows * cols);
            for (long i = 0; i < in.length(); i++) {
                in.set(i, (float) (r.nextGaussian() * 4));
            }
            F32Array out = F32Array.allocate(arena, in.length());
            Launch launch = new Launch(kernels().getFirst(), Grid.of(rows, scale.blockSize()), new Object[] {in, out, cols});
            return new SimpleInstance(List.of(launch), List.of(in), List.of(out)) {
                @Override
                public Check check() {
                    double[] expected = new double[(int) in.length()];
                    for (int row = 0; row < rows; row++) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < cols; c++) {
                            max = Math.max(max, in.get((long) row * cols + c));
                        }
                        double sum = 0;
                        for (int c = 0; c < cols; c++) {
                            sum += Math.exp(in.get((long) row * cols + c) - max);
                        }
                        for (int c = 0; c < cols; c++) {
                            expected[row * cols + c] = Math.exp(in.get((long) row * cols + c) - max) / sum;
                        }
                    }
                    return Checks.close(out, expected, 1e-7, 2e-5);
                }

                @Override
                public long bytesMoved() {
                    return 8 * in.length();
                }
            };
        }
    }

    record MatVec() implements ExampleCase {
        @Override
        public String name() {
            return "matvec.bf16";
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(RowKernels.class, "matVecBf16"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            int cols = scale.elements() >= (1 << 24) ? 4096 : 512;
            int rows = (int) Math.max(1, scale.elements() / cols);
            BF16Array w = BF16Array.allocate(arena, (long) rows * cols);
            for (long i = 0; i < w.length(); i++) {
                w.set(i, r.nextFloat() * 2 - 1);
            }
            F32Array x = BandwidthCases.random(arena, cols, r);
            F32Array y = F32Array.allocate(arena, rows);
            int warpsPerBlock = scale.blockSize() / 32;
            Grid grid = Grid.of((rows + warpsPerBlock - 1) / warpsPerBlock, scale.blockSize());
            Launch launch = new Launch(kernels().getFirst(), grid, new Object[] {w, x, y, rows, cols});
            return new SimpleInstance(List.of(launch), List.of(w, x), List.of(y)) {
                @Override
                public Check check() {
                    double worst = 0;
                    for (int row = 0; row < rows; row++) {
                        double dot = 0;
                        double magnitude = 0;
                        for (int c = 0; c < cols; c++) {
                            double p = (double) w.get((long) row * cols + c) * x.get(c);
                            dot += p;
                            magnitude += Math.abs(p);
                        }
                        double err = Math.abs(y.get(row) - dot);
                        if (!(err <= 1e-5 * magnitude + 1e-6)) {
                            return new Check(false, "row " + row + ": expected " + dot + ", got " + y.get(row));
                        }
                        worst = Math.max(worst, err);
                    }
                    return new Check(true, rows + " x " + cols + " rows within 1e-5 x sum|w x|, max error "
                            + String.format("%.3g", worst));
                }

                @Override
                public long bytesMoved() {
                    return 2 * w.length() + 4L * cols + 4L * rows;
                }

                @Override
                public double flops() {
                    return 2.0 * w.length();
                }
            };
        }
    }

    record Transpose() implements ExampleCase {
        @Override
        public String name() {
            return "transpose.tiled";
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(TransposeKernel.class, "transpose"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            int cols = scale.elements() >= (1 << 24) ? 8192 : 517;
            int rows = (int) Math.max(1, scale.elements() / cols);
            F32Array in = BandwidthCases.random(arena, (long) rows * cols, r);
            F32Array out = F32Array.allocate(arena, in.length());
            int t = TransposeKernel.TILE;
            Grid grid = new Grid((cols + t - 1) / t, (rows + t - 1) / t, 1, t, TransposeKernel.ROWS, 1);
            Launch launch = new Launch(kernels().getFirst(), grid, new Object[] {in, out, rows, cols});
            return new SimpleInstance(List.of(launch), List.of(in), List.of(out)) {
                @Override
                public Check check() {
                    for (int row = 0; row < rows; row++) {
                        for (int c = 0; c < cols; c++) {
                            float e = in.get((long) row * cols + c);
                            float a = out.get((long) c * rows + row);
                            if (Float.floatToRawIntBits(a) != Float.floatToRawIntBits(e)) {
                                return new Check(false, "out[" + c + "][" + row + "] = " + a + ", expected " + e);
                            }
                        }
                    }
                    return new Check(true, rows + " x " + cols + " transposed exactly");
                }

                @Override
                public long bytesMoved() {
                    return 8 * in.length();
                }
            };
        }
    }

    record MatmulTensorCores() implements ExampleCase {
        @Override
        public String name() {
            return "matmul.bf16.mma";
        }

        @Override
        public List<KernelMethod> kernels() {
            return List.of(KernelMethod.of(MatmulKernels.class, "bf16"));
        }

        @Override
        public Instance create(Arena arena, Scale scale, Random r) {
            boolean big = scale.elements() >= (1 << 24);
            // small enough for the emulator, whose mma exchanges fragments by 32 shuffles a lane
            int m = big ? 2048 : 32, n = big ? 2048 : 24, k = big ? 4096 : 48;
            BF16Array a = BF16Array.allocate(arena, (long) m * k);
            BF16Array b = BF16Array.allocate(arena, (long) n * k);
            for (long i = 0; i < a.length(); i++) {
                a.set(i, (float) r.nextGaussian());
            }
            for (long i = 0; i < b.length(); i++) {
                b.set(i, (float) r.nextGaussian());
            }
            F32Array c = F32Array.allocate(arena, (long) m * n);
            int warps = (m / MatmulKernels.TILE_ROWS) * (n / MatmulKernels.TILE_COLS);
            int warpsPerBlock = scale.blockSize() / 32;
            Grid grid = Grid.of((warps + warpsPerBlock - 1) / warpsPerBlock, scale.blockSize());
            Launch launch = new Launch(kernels().getFirst(), grid, new Object[] {a, b, c, m, n, k});
            return new SimpleInstance(List.of(launch), List.of(a, b), List.of(c)) {
                @Override
                public Check check() {
                    double worst = 0;
                    // every element at test sizes; a fixed sample of rows at GPU sizes
                    int rowStep = big ? 61 : 1;
                    for (int row = 0; row < m; row += rowStep) {
                        for (int col = 0; col < n; col++) {
                            double dot = 0;
                            double magnitude = 0;
                            for (int i = 0; i < k; i++) {
                                double p = (double) a.get((long) row * k + i) * b.get((long) col * k + i);
                                dot += p;
                                magnitude += Math.abs(p);
                            }
                            double err = Math.abs(c.get((long) row * n + col) - dot);
                            if (!(err <= 1e-6 * magnitude + 1e-6)) {
                                return new Check(false, "c[" + row + "][" + col + "]: expected " + dot + ", got "
                                        + c.get((long) row * n + col));
                            }
                            worst = Math.max(worst, err);
                        }
                    }
                    return new Check(true, m + " x " + n + " x " + k + " within 1e-6 x sum|a b|, max error "
                            + String.format("%.3g", worst));
                }

                @Override
                public long bytesMoved() {
                    return 2 * a.length() + 2 * b.length() + 4 * c.length();
                }

                @Override
                public double flops() {
                    return 2.0 * m * n * k;
                }
            };
        }
    }
}
