package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Writes a k-means run's results into the wave index on the device, so that indexing a prompt moves no keys or values
 * through the host (spec §4.1: the reference reorganises on the CPU while the next layer runs; here the GPU does it
 * in one pass): {@link #gatherVectors} copies the members' keys or values in cluster order into the store (device
 * memory, or mapped host memory written over PCIe), {@link #gatherQuantized} does the same into the INT8 host tier
 * ({@link Int8Vectors}), {@link #gatherQuantizedInt4} into the INT4 one ({@link Int4Vectors}), {@link #toHalf} rounds
 * the F32 centroids and value sums to the storage type (or {@link #toInt8} quantises the value sums and
 * {@link #toInt8Centroids} the centroids), and {@link #toF32} turns the cluster sizes into the estimation zone's F32
 * weights.
 * Vectors are 128 16-bit values moved as 64 ints ({@link VectorChunks}).
 */
public final class IndexStore {
    public static final int THREADS = 256;
    /** Lanes per vector, four ints each. */
    private static final int LANES = 16;

    private IndexStore() {}

    /** A grid of one half-warp per vector for {@code vectors} vectors (grid-stride, so any grid is correct). */
    public static Grid vectorGrid(long vectors) {
        return Grid.covering(Math.max(1, Math.min(vectors, 1L << 20)) * LANES, THREADS);
    }

    /** A grid of one thread per element for {@code n} elements (grid-stride). */
    public static Grid elementGrid(long n) {
        return Grid.covering(Math.max(1, Math.min(n, 1L << 24)), THREADS);
    }

    /** {@code target[i] = source[index[i]]} for vectors {@code i < count}. Launch on {@link #vectorGrid}. */
    @Kernel
    public static void gatherVectors(KernelContext ctx, I32Array source, I32Array index, int count, I32Array target) {
        long lane = ctx.globalIdx % LANES;
        for (long i = ctx.globalIdx / LANES; i < count; i += ctx.globalGroupSizeX / LANES) {
            long from = (long) index.get(i) * VectorChunks.INTS + lane * 4;
            target.setInt4(i * VectorChunks.INTS + lane * 4, source.getInt4(from));
        }
    }

    /**
     * Vector {@code i} of {@code target} = vector {@code index[i]} of {@code source} quantised to INT8 and
     * {@code scales[i]} its scale's bits ({@link Int8Vectors}: the wave buffer's INT8 host tier), for {@code i < count}.
     * Launch on {@link #vectorGrid}.
     */
    @Kernel
    public static void gatherQuantized(KernelContext ctx, HalfPrecisionArray source, I32Array index, int count, I32Array target,
            I32Array scales) {
        quantised(ctx, source, index, count, target, scales, false);
    }

    /**
     * Vector {@code i} of {@code target} = vector {@code index[i]} of {@code source} quantised to INT4 and
     * {@code scales[2i, 2i + 2)} its BF16 group scales ({@link Int4Vectors}), for {@code i < count}. Launch on
     * {@link #vectorGrid}.
     */
    @Kernel
    public static void gatherQuantizedInt4(KernelContext ctx, HalfPrecisionArray source, I32Array index, int count,
            I32Array target, I32Array scales) {
        quantised(ctx, source, index, count, target, scales, true);
    }

    private static void quantised(KernelContext ctx, HalfPrecisionArray source, I32Array index, int count, I32Array target,
            I32Array scales, boolean int4) {
        // A half-warp per vector as in gatherVectors, but the loop steps a warp (two vectors) at a time: the absmax
        // is reduced by shuffles, in which all 32 lanes must take part.
        long lane = ctx.laneId % LANES;
        for (long pair = ctx.globalIdx / KernelContext.WARP_SIZE; pair * 2 < count;
                pair += ctx.globalGroupSizeX / KernelContext.WARP_SIZE) {
            long i = pair * 2 + ctx.laneId / LANES;
            boolean live = i < count;
            Float8 x = live ? source.getFloat8((long) index.get(i) * HEAD_DIM + lane * Int8Chunks.ELEMENTS_PER_LANE) : zero();
            if (int4) {
                Int4Chunks.quantise(ctx, x, live, target, scales, i);
            } else {
                Int8Chunks.quantise(ctx, x, live, target, scales, i);
            }
        }
    }

    /**
     * Vector {@code i} of {@code target} = vector {@code i} of the F32 {@code source} quantised to INT8 and
     * {@code scales[i]} its scale's bits ({@link Int8Vectors}), for {@code i < count}: the index's value sums kept in
     * INT8. Launch on {@link #vectorGrid}.
     */
    @Kernel
    public static void toInt8(KernelContext ctx, F32Array source, int count, I32Array target, I32Array scales) {
        long lane = ctx.laneId % LANES;
        for (long pair = ctx.globalIdx / KernelContext.WARP_SIZE; pair * 2 < count;
                pair += ctx.globalGroupSizeX / KernelContext.WARP_SIZE) {
            long i = pair * 2 + ctx.laneId / LANES;
            boolean live = i < count;
            long at = i * HEAD_DIM + lane * Int8Chunks.ELEMENTS_PER_LANE;
            Float8 x = live ? LinearSums.inputs(source, at) : zero();
            Int8Chunks.quantise(ctx, x, live, target, scales, i);
        }
    }

    /**
     * Vector {@code i} of the F32 {@code source} quantised to INT8 as centroid {@code first + i} of {@code target}, in
     * {@link Int8Centroids}' interleaved layout, and {@code scales[first + i]} its scale's bits, for {@code i < count}:
     * the index's centroids kept in INT8. {@code first} need not start a block. Launch on {@link #vectorGrid}.
     */
    @Kernel
    public static void toInt8Centroids(KernelContext ctx, F32Array source, int count, I32Array target, I32Array scales,
            long first) {
        int lane = ctx.laneId % LANES;
        for (long pair = ctx.globalIdx / KernelContext.WARP_SIZE; pair * 2 < count;
                pair += ctx.globalGroupSizeX / KernelContext.WARP_SIZE) {
            long i = pair * 2 + ctx.laneId / LANES;
            boolean live = i < count;
            Float8 x = live ? LinearSums.inputs(source, i * HEAD_DIM + lane * Int8Chunks.ELEMENTS_PER_LANE) : zero();
            Int8Chunks.quantise(ctx, x, live, target, Int8Centroids.word(first + i, lane), scales, first + i);
        }
    }

    private static Float8 zero() {
        return new Float8(0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** F32 to the output's F16 or BF16, rounded to nearest even. Launch on {@link #elementGrid}. */
    @Kernel
    public static void toHalf(KernelContext ctx, F32Array in, HalfPrecisionArray out, long n) {
        for (long i = ctx.globalIdx; i < n; i += ctx.globalGroupSizeX) {
            out.set(i, in.get(i));
        }
    }

    /** Integer counts to F32 (exact below 2^24). Launch on {@link #elementGrid}. */
    @Kernel
    public static void toF32(KernelContext ctx, I32Array in, F32Array out, int n) {
        for (int i = ctx.globalIdx; i < n; i += ctx.globalGroupSizeX) {
            out.set(i, (float) in.get(i));
        }
    }
}
