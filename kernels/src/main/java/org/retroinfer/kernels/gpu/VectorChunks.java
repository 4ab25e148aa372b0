package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Int4;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Warp-wide copies of K/V vectors for the wave buffer's copy kernels (spec §3.4). A vector is
 * {@link DecodeAttentionShape#HEAD_DIM} 16-bit values moved as {@link #INTS} ints without conversion, so
 * BF16 and F16 copy alike: callers view their K/V arrays as {@code I32Array}. A warp moves a chunk of up to
 * {@link #CHUNK} vectors of K and the same vectors of V; lane {@code l} carries 16 bytes of vectors
 * {@code l / 16 + 2j} ({@code j < 4}) and issues all eight loads before its first store, so a warp has 4 KiB
 * in flight, which is what a read of pinned host memory across PCIe needs to approach its bandwidth.
 */
final class VectorChunks {
    /** Ints per vector: 128 16-bit values. */
    static final int INTS = HEAD_DIM / 2;
    /** Vectors per chunk: the wave buffer's 8-token (2 KiB) block. */
    static final int CHUNK = 8;
    /** Lanes that share one vector, 16 bytes each. */
    private static final int LANES_PER_VECTOR = INTS / 4;

    private VectorChunks() {}

    /**
     * Copies vectors {@code [srcRow, srcRow + rows)} of {@code srcK} and {@code srcV} to {@code [dstRow, dstRow + rows)}
     * of {@code dstK} and {@code dstV}; {@code rows} is at most {@link #CHUNK} and the same in every lane.
     */
    static void copy(KernelContext ctx, I32Array srcK, I32Array srcV, long srcRow, I32Array dstK, I32Array dstV, long dstRow,
            int rows) {
        int r = ctx.laneId / LANES_PER_VECTOR;
        long part = (ctx.laneId % LANES_PER_VECTOR) * 4L;
        long s = srcRow * INTS + part;
        long d = dstRow * INTS + part;
        boolean c0 = r < rows, c1 = r + 2 < rows, c2 = r + 4 < rows, c3 = r + 6 < rows;
        Int4 k0 = c0 ? srcK.getInt4(s + (long) r * INTS) : zero();
        Int4 k1 = c1 ? srcK.getInt4(s + (long) (r + 2) * INTS) : zero();
        Int4 k2 = c2 ? srcK.getInt4(s + (long) (r + 4) * INTS) : zero();
        Int4 k3 = c3 ? srcK.getInt4(s + (long) (r + 6) * INTS) : zero();
        Int4 v0 = c0 ? srcV.getInt4(s + (long) r * INTS) : zero();
        Int4 v1 = c1 ? srcV.getInt4(s + (long) (r + 2) * INTS) : zero();
        Int4 v2 = c2 ? srcV.getInt4(s + (long) (r + 4) * INTS) : zero();
        Int4 v3 = c3 ? srcV.getInt4(s + (long) (r + 6) * INTS) : zero();
        if (c0) {
            dstK.setInt4(d + (long) r * INTS, k0);
            dstV.setInt4(d + (long) r * INTS, v0);
        }
        if (c1) {
            dstK.setInt4(d + (long) (r + 2) * INTS, k1);
            dstV.setInt4(d + (long) (r + 2) * INTS, v1);
        }
        if (c2) {
            dstK.setInt4(d + (long) (r + 4) * INTS, k2);
            dstV.setInt4(d + (long) (r + 4) * INTS, v2);
        }
        if (c3) {
            dstK.setInt4(d + (long) (r + 6) * INTS, k3);
            dstV.setInt4(d + (long) (r + 6) * INTS, v3);
        }
    }

    private static Int4 zero() {
        return new Int4(0, 0, 0, 0);
    }
}
