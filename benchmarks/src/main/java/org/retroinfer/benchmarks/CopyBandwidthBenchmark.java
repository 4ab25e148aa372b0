package org.retroinfer.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
import org.retroinfer.kernels.ComputePool;

/**
 * The machine's memory-copy bandwidth, the yardstick of the bandwidth-bound kernels: one
 * {@link MemorySegment#copy} between two {@value #MIB} MiB off-heap segments, split into one
 * contiguous slice per {@link ComputePool} thread like the kernels. Its bandwidth counts bytes
 * read plus bytes written (2 × {@value #MIB} MiB per copy), as STREAM's Copy does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class CopyBandwidthBenchmark {
    static final int MIB = 512;
    /** Bytes read plus bytes written by one copy. */
    static final long BYTES_MOVED = 2L * MIB << 20;
    private static final long SLICE = 1L << 20;

    private Arena arena;
    private MemorySegment source;
    private MemorySegment target;

    @Setup
    public void allocate() {
        arena = Arena.ofShared();
        source = arena.allocate((long) MIB << 20, 4096);
        target = arena.allocate((long) MIB << 20, 4096);
        source.fill((byte) 1);
        target.fill((byte) 2);
    }

    @TearDown
    public void free() {
        arena.close();
    }

    @Benchmark
    public void copy() {
        ComputePool.forRange(MIB, (start, end) ->
                MemorySegment.copy(source, start * SLICE, target, start * SLICE, (end - start) * SLICE));
    }
}
