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
 * {@link Matmul#multiply} of a weight matrix far larger than the caches with one activation row:
 * a decode step's linear layer, bound by memory bandwidth, so the figure of merit is weight bytes
 * read per second. 8192 × 8192 is a square projection of a large model, 14336 × 4096 Llama 3 8B's
 * MLP up/gate projection. {@link MatmulPrefillBenchmark} measures larger batches.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class MatmulBenchmark {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    public DType type;

    /** rows x cols of the weight matrix. */
    @Param({"8192x8192", "14336x4096"})
    public String shape;

    private Arena arena;
    private WeightMatrix weights;
    private float[] x;
    private float[] out;

    @Setup
    public void allocate() {
        arena = Arena.ofShared();
        weights = RandomWeights.matrix(arena, type, rows(shape), cols(shape), 42);
        x = new float[cols(shape)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        out = new float[rows(shape)];
    }

    @TearDown
    public void free() {
        arena.close();
    }

    @Benchmark
    public float[] multiply() {
        Matmul.multiply(weights, x, out, 1);
        return out;
    }

    static int rows(String shape) {
        return Integer.parseInt(shape.substring(0, shape.indexOf('x')));
    }

    static int cols(String shape) {
        return Integer.parseInt(shape.substring(shape.indexOf('x') + 1));
    }

    /** Bytes of weights one multiply reads. */
    static long weightBytes(DType type, String shape) {
        return type.byteSize((long) rows(shape) * cols(shape));
    }

    static double flops(String shape, int batch) {
        return 2.0 * rows(shape) * cols(shape) * batch;
    }
}
