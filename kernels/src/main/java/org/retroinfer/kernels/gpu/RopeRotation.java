package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Rotary position embedding of a decode step's query and key rows in place, the GPU twin of
 * {@link org.retroinfer.kernels.Rope#rotate} for both of its {@link org.retroinfer.kernels.Rope.Pairing
 * pairings}, bit for bit under Java float semantics (the default): the same products and sums, each
 * rounded once (fast math lets ptxas contract them into fma, an ulp away).
 *
 * <p>The cosines and sines come from tables {@code [positions][HEAD_DIM / 2]} filled on the host by the CPU
 * model's {@code RotaryEmbedding.angles} (row {@code p} = position {@code p}), and each sequence reads the
 * row of its own position. Tables rather than angles computed on the GPU from the inverse frequencies: the
 * GPU's sine and cosine ({@code sin/cos.approx}) lose accuracy far from zero, and angles reach 10⁵ radians
 * at long context, where the CPU uses Java's double {@code Math.sin/cos}; a table holds exactly the CPU's
 * values. A whole table (128K positions: 64 MiB for cos and sin) is uploaded once; a per-step table of the
 * batch's positions with {@code positions = 0, 1, ...} works as well.
 *
 * <p>A thread takes four pairs of one head row: pairs {@code p .. p+3} with one 16-byte load of cosines, one
 * of sines and two of the row, so {@link #SLICES} threads cover a head. Launch on
 * {@link DecodeLayerShape#ropeGrid()}; the loops are grid-stride, so any grid is correct.
 */
public final class RopeRotation {
    /** Pairs rotated per head. */
    public static final int PAIRS = HEAD_DIM / 2;
    /** Threads per head row, four pairs each. */
    public static final int SLICES = PAIRS / 4;

    private RopeRotation() {}

    /**
     * Pairs {@code (i, i + 64)} (Hugging Face's rotate_half). {@code q} is {@code [batch][queryHeads][128]},
     * {@code k} {@code [batch][kvHeads][128]}, {@code positions} {@code [batch]}.
     */
    @Kernel
    public static void halves(KernelContext ctx, F32Array q, F32Array k, I32Array positions, F32Array cos, F32Array sin,
            int batch, int queryHeads, int kvHeads) {
        rotate(ctx, q, k, positions, cos, sin, batch, queryHeads, kvHeads, false);
    }

    /** Pairs {@code (2i, 2i + 1)} (Meta's layout, GGUF's {@code llama} family); arguments as {@link #halves}. */
    @Kernel
    public static void adjacent(KernelContext ctx, F32Array q, F32Array k, I32Array positions, F32Array cos, F32Array sin,
            int batch, int queryHeads, int kvHeads) {
        rotate(ctx, q, k, positions, cos, sin, batch, queryHeads, kvHeads, true);
    }

    /** The grid-stride walk over the query rows, then the key rows, four pairs per item. */
    private static void rotate(KernelContext ctx, F32Array q, F32Array k, I32Array positions, F32Array cos, F32Array sin,
            int batch, int queryHeads, int kvHeads, boolean adjacentPairs) {
        long queryRows = (long) batch * queryHeads;
        long items = (queryRows + (long) batch * kvHeads) * SLICES;
        for (long item = ctx.globalIdx; item < items; item += ctx.globalGroupSizeX) {
            long row = item / SLICES;
            int pair = 4 * (int) (item - row * SLICES);
            if (row < queryRows) {
                long angles = (long) positions.get((int) (row / queryHeads)) * PAIRS + pair;
                rotatePairs(q, row * HEAD_DIM, pair, cos.getFloat4(angles), sin.getFloat4(angles), adjacentPairs);
            } else {
                long keyRow = row - queryRows;
                long angles = (long) positions.get((int) (keyRow / kvHeads)) * PAIRS + pair;
                rotatePairs(k, keyRow * HEAD_DIM, pair, cos.getFloat4(angles), sin.getFloat4(angles), adjacentPairs);
            }
        }
    }

    /** Pairs {@code pair .. pair + 3} of the head row at {@code rowStart}, in either layout. */
    private static void rotatePairs(F32Array x, long rowStart, int pair, Float4 c, Float4 s, boolean adjacentPairs) {
        if (adjacentPairs) {
            adjacent(x, rowStart + 2 * pair, c, s);
        } else {
            halves(x, rowStart + pair, c, s);
        }
    }

    /** Rotates the four pairs {@code (at + j, at + 64 + j)}. */
    private static void halves(F32Array x, long at, Float4 c, Float4 s) {
        Float4 a = x.getFloat4(at);
        Float4 b = x.getFloat4(at + PAIRS);
        x.setFloat4(at, new Float4(a.x() * c.x() - b.x() * s.x(), a.y() * c.y() - b.y() * s.y(), a.z() * c.z() - b.z() * s.z(),
                a.w() * c.w() - b.w() * s.w()));
        x.setFloat4(at + PAIRS, new Float4(a.x() * s.x() + b.x() * c.x(), a.y() * s.y() + b.y() * c.y(),
                a.z() * s.z() + b.z() * c.z(), a.w() * s.w() + b.w() * c.w()));
    }

    /** Rotates the four pairs {@code (at + 2j, at + 2j + 1)}. */
    private static void adjacent(F32Array x, long at, Float4 c, Float4 s) {
        Float4 lo = x.getFloat4(at);
        Float4 hi = x.getFloat4(at + 4);
        x.setFloat4(at, new Float4(lo.x() * c.x() - lo.y() * s.x(), lo.x() * s.x() + lo.y() * c.x(),
                lo.z() * c.y() - lo.w() * s.y(), lo.z() * s.y() + lo.w() * c.y()));
        x.setFloat4(at + 4, new Float4(hi.x() * c.z() - hi.y() * s.z(), hi.x() * s.z() + hi.y() * c.z(),
                hi.z() * c.w() - hi.w() * s.w(), hi.z() * s.w() + hi.w() * c.w()));
    }
}
