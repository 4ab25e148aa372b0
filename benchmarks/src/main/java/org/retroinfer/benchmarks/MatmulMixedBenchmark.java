package org.retroinfer.benchmarks;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.WeightMatrix;

/**
 * Batch-1 matmuls of all five weight types in one JVM, one 4096 × 4096 matrix of each per
 * operation, as a model whose layers, embeddings and output head use different types runs them.
 * The other benchmarks fork one JVM per type, where C2 compiles each kernel for that type alone;
 * here every shared code path has seen every type, which is where a kernel that relies on
 * inlining luck runs out of C2's budget and boxes its vectors (the allocation column shows it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class MatmulMixedBenchmark {
    static final String SHAPE = "4096x4096";

    private Arena arena;
    private WeightMatrix[] weights;
    private float[] x;
    private float[] out;

    @Setup
    public void allocate() {
        arena = Arena.ofShared();
        DType[] types = DType.values();
        weights = new WeightMatrix[types.length];
        for (int i = 0; i < types.length; i++) {
            weights[i] = RandomWeights.matrix(arena, types[i], MatmulBenchmark.rows(SHAPE), MatmulBenchmark.cols(SHAPE), 44 + i);
        }
        x = new float[MatmulBenchmark.cols(SHAPE)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        out = new float[MatmulBenchmark.rows(SHAPE)];
    }

    @TearDown
    public void free() {
        arena.close();
    }

    /** Bytes of weights one operation reads: one matrix of each type. */
    static long weightBytes() {
        long bytes = 0;
        for (DType type : DType.values()) {
            bytes += MatmulBenchmark.weightBytes(type, SHAPE);
        }
        return bytes;
    }

    @Benchmark
    public float[] multiplyEachType() {
        for (WeightMatrix w : weights) {
            Matmul.multiply(w, x, out, 1);
        }
        return out;
    }
}
