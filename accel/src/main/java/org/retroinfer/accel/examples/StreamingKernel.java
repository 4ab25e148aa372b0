package org.retroinfer.accel.examples;

import java.util.List;
import java.util.stream.Stream;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * A kernel whose figure of merit is bandwidth, in one of the two forms the GPU check knows how to launch
 * and check: a copy {@code (src, dst, n)}, or the first pass of a sum {@code (x, partials, n)}, one
 * partial per block, followed by {@link #FINAL_SUM}. A {@code gridStride} kernel takes any grid (the GPU
 * check sizes it from occupancy); the others need one thread per {@code Float4}.
 */
public record StreamingKernel(String name, Kind kind, KernelMethod kernel, boolean gridStride) {
    public enum Kind { COPY, SUM }

    public static final StreamingKernel COPY_SCALAR = copy("copy.scalar", CopyKernels.class, "copyScalar", true);
    /** The copy the GPU check holds to the 90%-of-cuMemcpyDtoD target. */
    public static final StreamingKernel COPY = copy("copy.float4", CopyKernels.class, "copyVectorized", true);
    /** The sum the GPU check holds to the same target. */
    public static final StreamingKernel SUM = new StreamingKernel("sum.float4", Kind.SUM,
            KernelMethod.of(ReductionKernels.class, "blockSums"), true);
    /** The second pass of every sum: adds the partials in one block. */
    public static final KernelMethod FINAL_SUM = KernelMethod.of(ReductionKernels.class, "finalSum");

    private static StreamingKernel copy(String name, Class<?> owner, String method, boolean gridStride) {
        return new StreamingKernel(name, Kind.COPY, KernelMethod.of(owner, method), gridStride);
    }

    /** The other shapes of {@link BandwidthShapes}. */
    public static List<StreamingKernel> alternatives() {
        return List.of(
                copy("copy.float4x4-strided", BandwidthShapes.class, "copyFourStrided", true),
                copy("copy.float4x4-tiled", BandwidthShapes.class, "copyFourTiled", true),
                copy("copy.float4-per-thread", BandwidthShapes.class, "copyOnePerThread", false),
                new StreamingKernel("sum.float4x4-strided", Kind.SUM, KernelMethod.of(BandwidthShapes.class, "sumFourStrided"), true),
                new StreamingKernel("sum.float4x4-tiled", Kind.SUM, KernelMethod.of(BandwidthShapes.class, "sumFourTiled"), true));
    }

    /** What {@code GpuCheck --sweep} times: the copy and the sum the check uses, then the alternatives. */
    public static List<StreamingKernel> sweep() {
        return Stream.concat(Stream.of(COPY, SUM), alternatives().stream()).toList();
    }

    /**
     * The grid of the (first) launch over {@code n} floats: {@code streamingBlocks} blocks for a grid-stride
     * kernel, else enough blocks for one thread per {@code Float4}.
     */
    public Grid grid(long n, int streamingBlocks, int blockSize) {
        return gridStride ? Grid.of(streamingBlocks, blockSize) : Grid.covering((n + 3) / 4, blockSize);
    }

    /** This kernel as an example case with its plain-Java reference. */
    public ExampleCase asCase() {
        return kind == Kind.COPY ? new BandwidthCases.Copy(this) : new BandwidthCases.Sum(this);
    }
}
