package org.retroinfer.benchmarks;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.retroinfer.kernels.ComputePool;

/**
 * The arithmetic roof of the compute-bound kernels: every compute thread runs 16 independent FMA
 * chains of {@link org.retroinfer.kernels.VectorSupport#FLOAT} vectors in registers (enough to
 * cover the FMA latency on two pipes), with no loads. Kernels bound by arithmetic (prefill
 * attention, prefill matmuls) are read as a fraction of this.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class FmaPeakBenchmark {
    static final int ITERATIONS = 1 << 22;
    static final int CHAINS = 16;

    private final float[] sink = new float[ComputePool.threads()];

    /** Flops of one op: 2 per lane of every FMA, on every compute thread. */
    static double flops() {
        return 2.0 * FLOAT.length() * CHAINS * ITERATIONS * ComputePool.threads();
    }

    @Benchmark
    public float[] fma() {
        ComputePool.forRange(ComputePool.threads(), (start, end) -> {
            for (int part = start; part < end; part++) {
                sink[part] = chains(part);
            }
        });
        return sink;
    }

    private static float chains(float seed) {
        FloatVector a0 = FloatVector.broadcast(FLOAT, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        FloatVector a12 = a0.add(12), a13 = a0.add(13), a14 = a0.add(14), a15 = a0.add(15);
        FloatVector m = FloatVector.broadcast(FLOAT, 0.999999f);
        FloatVector c = FloatVector.broadcast(FLOAT, 1e-7f);
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
            a12 = a12.fma(m, c);
            a13 = a13.fma(m, c);
            a14 = a14.fma(m, c);
            a15 = a15.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7)
                .add(a8.add(a9).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15))
                .reduceLanes(VectorOperators.ADD);
    }
}
