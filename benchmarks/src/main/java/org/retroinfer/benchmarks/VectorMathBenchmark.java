package org.retroinfer.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.retroinfer.kernels.VectorMath;

/**
 * The element-wise kernels of a decode step at Llama 3 8B sizes, on data in cache: softmax over
 * one head's scores at 32K tokens, SwiGLU over the MLP's 14336 activations, RMSNorm over the
 * 4096-wide residual. Small next to the matmuls; measured to show they are vectorised (their
 * exponentials included) and allocate nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class VectorMathBenchmark {
    static final int SCORES = 32768;
    static final int HIDDEN = 14336;
    static final int MODEL = 4096;

    private float[] scores;
    private float[] logits;
    private float[] gate;
    private float[] gateInput;
    private float[] up;
    private float[] residual;
    private float[] weight;
    private float[] normed;

    @Setup
    public void allocate() {
        SplittableRandom random = new SplittableRandom(11);
        logits = new float[SCORES];
        for (int i = 0; i < SCORES; i++) {
            logits[i] = (float) (random.nextDouble() * 20 - 10);
        }
        scores = logits.clone();
        gateInput = new float[HIDDEN];
        up = new float[HIDDEN];
        for (int i = 0; i < HIDDEN; i++) {
            gateInput[i] = (float) (random.nextDouble() * 8 - 4);
            up[i] = (float) (random.nextDouble() * 2 - 1);
        }
        gate = gateInput.clone();
        residual = new float[MODEL];
        weight = new float[MODEL];
        for (int i = 0; i < MODEL; i++) {
            residual[i] = (float) (random.nextDouble() * 2 - 1);
            weight[i] = (float) random.nextDouble();
        }
        normed = new float[MODEL];
    }

    /** Softmax of 32K scores (copied back from the same logits first, as the copy is cheap). */
    @Benchmark
    public float softmax() {
        System.arraycopy(logits, 0, scores, 0, SCORES);
        return VectorMath.softmaxInPlace(scores, 0, SCORES);
    }

    @Benchmark
    public float[] swiglu() {
        System.arraycopy(gateInput, 0, gate, 0, HIDDEN);
        VectorMath.swiglu(gate, up, HIDDEN);
        return gate;
    }

    @Benchmark
    public float[] rmsNorm() {
        VectorMath.rmsNorm(residual, 0, weight, 1e-5f, normed, 0, MODEL);
        return normed;
    }
}
