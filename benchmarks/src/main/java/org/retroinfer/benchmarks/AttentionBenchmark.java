package org.retroinfer.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
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
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.VectorMath;

/**
 * Dense decode attention of one layer over a long context, with Llama 3 8B's shapes: 8 KV heads,
 * each shared by a group of 4 query heads, head dimension 128. At 32K tokens one layer's keys
 * (and its values) take 64 MiB, more than the last-level cache, so every step streams them from
 * memory, as a real decode step does; the KV heads are split over the {@link ComputePool}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class AttentionBenchmark {
    static final int KV_HEADS = 8;
    static final int GROUP = 4;
    static final int HEAD_DIM = 128;

    @Param({"F16", "BF16"})
    public DType type;

    @Param({"32768"})
    public int tokens;

    private Arena arena;
    private MemorySegment keys;
    private MemorySegment values;
    private float[] q;
    /** Per KV head: its group's scores, then probabilities, [GROUP][tokens]. */
    private float[][] scores;
    private float[] out;

    @Setup
    public void allocate() {
        arena = Arena.ofShared();
        SplittableRandom random = new SplittableRandom(7);
        long cacheValues = (long) KV_HEADS * tokens * HEAD_DIM;
        keys = arena.allocate(2 * cacheValues, 4096);
        values = arena.allocate(2 * cacheValues, 4096);
        RandomWeights.fill(type, keys, cacheValues, random);
        RandomWeights.fill(type, values, cacheValues, random);
        q = new float[KV_HEADS * GROUP * HEAD_DIM];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) (random.nextDouble() * 2 - 1);
        }
        scores = new float[KV_HEADS][GROUP * tokens];
        out = new float[KV_HEADS * GROUP * HEAD_DIM];
        scores();
        softmax();
    }

    @TearDown
    public void free() {
        arena.close();
    }

    /** Bytes of keys (or of values) of the layer: what {@link #scores} and {@link #accumulate} each read. */
    static long cacheBytes(int tokens) {
        return 2L * KV_HEADS * tokens * HEAD_DIM;
    }

    private long run(int kvHead) {
        return 2L * tokens * HEAD_DIM * kvHead;
    }

    /** q·k for every query head and token. */
    @Benchmark
    public float[][] scores() {
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        ComputePool.forRange(KV_HEADS, (start, end) -> {
            for (int kv = start; kv < end; kv++) {
                AttentionKernels.scores(q, kv * GROUP * HEAD_DIM, GROUP, HEAD_DIM, keys, run(kv), type, tokens,
                        scale, scores[kv], 0, tokens);
            }
        });
        return scores;
    }

    private void softmax() {
        for (float[] group : scores) {
            for (int h = 0; h < GROUP; h++) {
                VectorMath.softmaxInPlace(group, h * tokens, tokens);
            }
        }
    }

    /** Σ_t p_t·v_t for every query head, with the probabilities left by the setup. */
    @Benchmark
    public float[] accumulate() {
        Arrays.fill(out, 0f);
        ComputePool.forRange(KV_HEADS, (start, end) -> {
            for (int kv = start; kv < end; kv++) {
                AttentionKernels.accumulate(scores[kv], 0, tokens, GROUP, values, run(kv), type, tokens, HEAD_DIM,
                        out, kv * GROUP * HEAD_DIM);
            }
        });
        return out;
    }

    /** A whole decode step of the layer's attention: scores, softmax, weighted sum of values. */
    @Benchmark
    public float[] step() {
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        Arrays.fill(out, 0f);
        ComputePool.forRange(KV_HEADS, (start, end) -> {
            for (int kv = start; kv < end; kv++) {
                float[] group = scores[kv];
                AttentionKernels.scores(q, kv * GROUP * HEAD_DIM, GROUP, HEAD_DIM, keys, run(kv), type, tokens,
                        scale, group, 0, tokens);
                for (int h = 0; h < GROUP; h++) {
                    VectorMath.softmaxInPlace(group, h * tokens, tokens);
                }
                AttentionKernels.accumulate(group, 0, tokens, GROUP, values, run(kv), type, tokens, HEAD_DIM,
                        out, kv * GROUP * HEAD_DIM);
            }
        });
        return out;
    }
}
