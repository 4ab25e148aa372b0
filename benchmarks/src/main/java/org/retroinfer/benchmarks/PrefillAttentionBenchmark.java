package org.retroinfer.benchmarks;

import java.lang.foreign.Arena;
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
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvPages;
import org.retroinfer.kvstore.PartialSoftmax;
import org.retroinfer.kvstore.PrefillBlocks;

/**
 * Causal prefill attention of one layer: the last {@value #ROWS} rows of an {@value #CONTEXT}-token
 * prompt (a late prefill chunk) attend to every position up to their own, 8 or 4 query heads
 * sharing 2 KV heads of dimension 128, keys and values in F16 or BF16 pages of 256 positions as the
 * dense cache keeps them. {@link #perRow} is the attention of one row and KV head per task, which
 * streams and converts every key and value once per row (the path before blocked prefill, and
 * still the decode path); {@link #blocked} is {@link PrefillBlocks}, which converts each tile once
 * per block of rows and is bound by arithmetic: its figure of merit is flops per second, 4·d
 * per (query head, visible key) pair (2·d for q·k, 2·d for p·v).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class PrefillAttentionBenchmark {
    static final int CONTEXT = 8192;
    static final int ROWS = 2048;
    static final int PAGE_TOKENS = 256;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 128;

    @Param({"F16", "BF16"})
    public DType type;

    /** Query heads sharing the 2 KV heads: 8 (GQA groups of 4, as Llama 3 8B) or 4 (groups of 2, as retro-tiny). */
    @Param({"8", "4"})
    public int queryHeads;

    private AttentionShape shape;

    private Arena arena;
    private KvPages pages;
    private float[] queries;
    private float[] out;

    @Setup
    public void allocate() {
        arena = Arena.ofShared();
        shape = new AttentionShape(1, queryHeads, KV_HEADS, HEAD_DIM);
        pages = new KvPages(KV_HEADS, HEAD_DIM, type, PAGE_TOKENS, arena);
        SplittableRandom random = new SplittableRandom(11);
        float[] keys = new float[shape.kvWidth()];
        float[] values = new float[shape.kvWidth()];
        for (int t = 0; t < CONTEXT; t++) {
            for (int i = 0; i < keys.length; i++) {
                keys[i] = (float) (random.nextDouble() * 2 - 1);
                values[i] = (float) (random.nextDouble() * 2 - 1);
            }
            pages.append(keys, values, 0);
        }
        queries = new float[ROWS * shape.queryWidth()];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = (float) (random.nextDouble() * 2 - 1);
        }
        out = new float[queries.length];
    }

    @TearDown
    public void free() {
        arena.close();
    }

    /** Flops of one op: 4·d per (query head, visible key), rows at positions [CONTEXT − ROWS, CONTEXT). */
    static double flops(int queryHeads) {
        long pairs = 0;
        for (long p = CONTEXT - ROWS; p < CONTEXT; p++) {
            pairs += p + 1;
        }
        return 4.0 * HEAD_DIM * queryHeads * pairs;
    }

    /** One row and KV head per task: each task streams the pages its row sees. */
    @Benchmark
    public float[] perRow() {
        int kvHeads = shape.kvHeads();
        int group = shape.groupSize();
        int d = shape.headDim();
        ComputePool.forRange(ROWS * kvHeads, (start, end) -> {
            PartialSoftmax state = new PartialSoftmax(group, d);
            float[] scores = new float[group * PAGE_TOKENS];
            for (int task = start; task < end; task++) {
                int row = task / kvHeads;
                int kvHead = task % kvHeads;
                int qOff = row * shape.queryWidth() + kvHead * group * d;
                state.reset();
                pages.attend(kvHead, queries, qOff, CONTEXT - ROWS + row + 1, shape.scale(), state, scores);
                state.writeOutput(out, qOff);
            }
        });
        return out;
    }

    /** Blocks of rows, each converting a tile of keys and values once for all its rows. */
    @Benchmark
    public float[] blocked() {
        PrefillBlocks.attend(shape, BatchLayout.single(0, ROWS), new boolean[] {true}, new long[] {CONTEXT}, queries,
                out, ComputePool.threads(), (entry, kvHead, firstRow, block) ->
                        pages.attend(kvHead, CONTEXT - ROWS + firstRow + 1, block));
        return out;
    }
}
