package org.retroinfer.benchmarks;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.WeightMatrix;

/**
 * {@link Matmul#multiply} of an 8192 × 8192 weight matrix with a prefill chunk of activation
 * rows: bound by arithmetic once each weight tile is applied to many rows; the figure of merit is
 * 2·rows·cols·batch flops per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class MatmulPrefillBenchmark {
    static final String SHAPE = "8192x8192";

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    public DType type;

    @Param({"16", "64"})
    public int batch;

    private Arena arena;
    private WeightMatrix weights;
    private float[] x;
    private float[] out;

    @Setup
    public void allocate() {
        arena = Arena.ofShared();
        int rows = MatmulBenchmark.rows(SHAPE);
        int cols = MatmulBenchmark.cols(SHAPE);
        weights = RandomWeights.matrix(arena, type, rows, cols, 43);
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.cos(i);
        }
        out = new float[batch * rows];
    }

    @TearDown
    public void free() {
        arena.close();
    }

    @Benchmark
    public float[] multiply() {
        Matmul.multiply(weights, x, out, batch);
        return out;
    }
}
