package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Rope;
import org.retroinfer.kernels.VectorMath;
import org.retroinfer.kernels.WeightMatrix;

/**
 * The CPU model's own code run on host copies of the layer kernels' inputs: what each kernel of
 * {@link DecodeLayerShape} must produce. The twins are the references themselves ({@link VectorMath},
 * {@link Rope}, {@link WeightMatrix#readRow}), so a GPU result that matches them matches the CPU decoder.
 */
public final class DecodeLayerTwin {
    private DecodeLayerTwin() {}

    /** {@link VectorMath#rmsNorm} of each of the {@code rows} rows of {@code width} in {@code x}. */
    public static float[] rmsNorm(F32Array x, F32Array weight, float eps, int rows, int width) {
        float[] in = floats(x, (long) rows * width);
        float[] w = weight.toArray();
        float[] out = new float[in.length];
        for (int r = 0; r < rows; r++) {
            VectorMath.rmsNorm(in, r * width, w, eps, out, r * width, width);
        }
        return out;
    }

    /**
     * {@link Rope#rotate} of every head row of {@code x} ({@code [batch][heads][HEAD_DIM]}), sequence
     * {@code s} with table row {@code positions[s]} of {@code cos} and {@code sin}.
     */
    public static float[] rope(F32Array x, int batch, int heads, I32Array positions, F32Array cos, F32Array sin,
            Rope.Pairing pairing) {
        float[] out = floats(x, (long) batch * heads * HEAD_DIM);
        float[] c = cos.toArray();
        float[] s = sin.toArray();
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                Rope.rotate(out, (b * heads + h) * HEAD_DIM, HEAD_DIM, c, s, positions.get(b) * RopeRotation.PAIRS, pairing);
            }
        }
        return out;
    }

    /** {@link VectorMath#swiglu} of the first {@code n} elements. */
    public static float[] swiglu(F32Array gate, F32Array up, long n) {
        float[] g = floats(gate, n);
        VectorMath.swiglu(g, floats(up, n), g.length);
        return g;
    }

    /** {@link VectorMath#addInPlace}: {@code x + y} over the first {@code n} elements. */
    public static float[] residual(F32Array x, F32Array y, long n) {
        float[] sum = floats(x, n);
        VectorMath.addInPlace(sum, 0, floats(y, n), 0, sum.length);
        return sum;
    }

    /**
     * Writes the step's rows {@code [rows][kvHeads][HEAD_DIM]} into {@code cache} ({@code shape}'s layout, its batch
     * the slots): row {@code r} into slot {@code slots[r]} at {@code positions[r]}.
     */
    public static void kvAppend(F32Array step, HalfPrecisionArray cache, I32Array slots, I32Array positions, int rows,
            DecodeAttentionShape shape) {
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < shape.kvHeads(); h++) {
                long to = shape.kvOffset(slots.get(r), h, positions.get(r));
                long from = ((long) r * shape.kvHeads() + h) * HEAD_DIM;
                for (int d = 0; d < HEAD_DIM; d++) {
                    cache.set(to + d, step.get(from + d));
                }
            }
        }
    }

    /** {@link WeightMatrix#readRow} of each token's row of the {@code [vocab][hidden]} table. */
    public static float[] embedding(I32Array tokens, int batch, TypedArray table, int hidden) {
        DType type = switch (table.elementType()) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            default -> throw new IllegalArgumentException("embedding tables are F32, F16 or BF16, not " + table.elementType());
        };
        WeightMatrix matrix = new WeightMatrix(type, table.length() / hidden, hidden, table.segment());
        float[] out = new float[Math.multiplyExact(batch, hidden)];
        for (int r = 0; r < batch; r++) {
            matrix.readRow(tokens.get(r), out, r * hidden);
        }
        return out;
    }

    private static float[] floats(F32Array a, long n) {
        float[] out = new float[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i);
        }
        return out;
    }
}
