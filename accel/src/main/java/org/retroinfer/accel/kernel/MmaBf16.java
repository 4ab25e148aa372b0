package org.retroinfer.accel.kernel;

import java.util.function.IntBinaryOperator;

/**
 * The fragments and arithmetic of {@link KernelContext#mmaBf16}: a warp multiplies a 16 × 16 bfloat16 matrix A by a
 * 16 × 8 bfloat16 matrix B and adds a 16 × 8 float matrix C (PTX {@code mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32}).
 *
 * <p>Lane {@code l} is {@code g = l / 4} (its group) and {@code t = l % 4} (its place in the group). Each register
 * holds two bfloat16 values, the lower index in the low 16 bits ({@link KMath#packBf16x2}):
 * <ul>
 *   <li>A: {@code a0} = row g, columns 2t and 2t + 1; {@code a1} = row g + 8, the same columns; {@code a2} = row g,
 *       columns 2t + 8 and 2t + 9; {@code a3} = row g + 8, those columns;</li>
 *   <li>B: {@code b0} = rows 2t and 2t + 1 of column g; {@code b1} = rows 2t + 8 and 2t + 9 of column g;</li>
 *   <li>C and the result: {@code x} = (row g, column 2t), {@code y} = (g, 2t + 1), {@code z} = (g + 8, 2t),
 *       {@code w} = (g + 8, 2t + 1).</li>
 * </ul>
 * A kernel may number the 16 k indices of one multiply any way it likes, as long as A and B use the same numbering:
 * only the sum over k is defined.
 *
 * <p>Arithmetic here (the emulator's): the products are exact (a bfloat16 product fits a float), summed in double
 * with C and rounded once to float. Tensor cores sum the 16 products and C in an unspecified order and internal
 * precision, so GPU results may differ from these in the last bits; compare them with a tolerance.
 */
public final class MmaBf16 {
    /** Words of one row of A or one column of B: 16 bfloat16 values, two a word. */
    public static final int WORDS = 8;

    private MmaBf16() {}

    /** Registers a lane holds of one multiply: a0, a1, a2, a3, b0, b1. */
    public static final int FRAGMENT = 6;

    /**
     * One lane's part of the warp's multiply-add: it fetches the fragments it needs from the other lanes through
     * {@code shuffleIdx} ({@code (value, sourceLane) → the source lane's value}, called 32 times, in the same order by
     * every lane) and returns its four values of {@code A · B + C}, as {@link KernelContext#mmaBf16} lays them out.
     */
    public static Float4 multiply(int lane, IntBinaryOperator shuffleIdx, Float4 c, int a0, int a1, int a2, int a3, int b0, int b1) {
        int[] own = {a0, a1, a2, a3, b0, b1};
        return multiply(lane, (register, source) -> shuffleIdx.applyAsInt(own[register], source), c);
    }

    /**
     * One lane's part of the warp's multiply-add from every lane's registers at once: lane l's a0, a1, a2, a3, b0, b1
     * at {@code fragments[l·FRAGMENT ..]} (what {@link BlockScope#gather} returns).
     */
    public static Float4 multiply(int lane, int[] fragments, Float4 c) {
        return multiply(lane, (register, source) -> fragments[source * FRAGMENT + register], c);
    }

    /** Register {@code register} (0-5: a0 … b1) of lane {@code source}. */
    private interface Fetch {
        int word(int register, int source);
    }

    private static Float4 multiply(int lane, Fetch fetch, Float4 c) {
        int g = lane / 4, t = lane % 4;
        int[] rowG = new int[WORDS], rowG8 = new int[WORDS], col0 = new int[WORDS], col1 = new int[WORDS];
        for (int from = 0; from < 4; from++) {
            // word `from` holds k = 2·from, 2·from + 1; word `from + 4` holds k = 2·from + 8, 2·from + 9
            int rowLane = 4 * g + from, colLane0 = 4 * (2 * t) + from, colLane1 = 4 * (2 * t + 1) + from;
            rowG[from] = fetch.word(0, rowLane);
            rowG8[from] = fetch.word(1, rowLane);
            rowG[from + 4] = fetch.word(2, rowLane);
            rowG8[from + 4] = fetch.word(3, rowLane);
            col0[from] = fetch.word(4, colLane0);
            col0[from + 4] = fetch.word(5, colLane0);
            col1[from] = fetch.word(4, colLane1);
            col1[from + 4] = fetch.word(5, colLane1);
        }
        return new Float4(dot(rowG, col0, c.x()), dot(rowG, col1, c.y()), dot(rowG8, col0, c.z()), dot(rowG8, col1, c.w()));
    }

    /**
     * {@code c + Σ_k row[k] · column[k]} over the 16 bfloat16 values of {@code row} and {@code column}, each given as
     * {@link #WORDS} packed words in k order.
     */
    static float dot(int[] row, int[] column, float c) {
        double sum = c;
        for (int i = 0; i < WORDS; i++) {
            sum += (double) low(row[i]) * low(column[i]) + (double) high(row[i]) * high(column[i]);
        }
        return (float) sum;
    }

    private static float low(int word) {
        return Float.intBitsToFloat(word << 16);
    }

    private static float high(int word) {
        return Float.intBitsToFloat(word & 0xFFFF0000);
    }
}
