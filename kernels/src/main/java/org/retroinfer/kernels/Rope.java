package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * Rotary position embedding applied to one head vector, given the cosines and sines of its
 * position (one per rotated pair, {@code headDim/2} of each).
 */
public final class Rope {
    /** Which dimensions form a rotated pair. */
    public enum Pairing {
        /** (i, i + d/2): Hugging Face's rotate_half, and GGUF's NEOX-style families (Qwen2/3). */
        HALVES,
        /** (2i, 2i + 1): Meta's original layout, which GGUF files of the {@code llama} family use. */
        ADJACENT
    }

    private static final int L = FLOAT.length();
    /** Lane j takes lane j ^ 1: swaps the two members of every adjacent pair. */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(FLOAT, j -> j ^ 1);
    /** Lane j reads pair j / 2's cosine or sine: a gather map for ADJACENT pairs. */
    private static final int[] PAIR_OF_LANE = new int[L];
    /** −1 on the first member of each pair, +1 on the second: the signs of the sine terms. */
    private static final FloatVector SINE_SIGNS;

    static {
        float[] signs = new float[L];
        for (int j = 0; j < L; j++) {
            PAIR_OF_LANE[j] = j / 2;
            signs[j] = j % 2 == 0 ? -1f : 1f;
        }
        SINE_SIGNS = FloatVector.fromArray(FLOAT, signs, 0);
    }

    private Rope() {}

    /** Rotates {@code x[off .. off + headDim)} in place. */
    public static void rotate(float[] x, int off, int headDim, float[] cos, float[] sin, int csOff, Pairing pairing) {
        int half = headDim / 2;
        int i = pairing == Pairing.HALVES ? halves(x, off, half, cos, sin, csOff) : adjacent(x, off, half, cos, sin, csOff);
        for (; i < half; i++) {
            int a = pairing == Pairing.HALVES ? off + i : off + 2 * i;
            int b = pairing == Pairing.HALVES ? off + i + half : off + 2 * i + 1;
            float c = cos[csOff + i];
            float s = sin[csOff + i];
            float x0 = x[a];
            float x1 = x[b];
            x[a] = x0 * c - x1 * s;
            x[b] = x0 * s + x1 * c;
        }
    }

    /** Pairs (i, i + half) for the leading whole vectors of i; returns the first pair not rotated. */
    private static int halves(float[] x, int off, int half, float[] cos, float[] sin, int csOff) {
        int i = 0;
        for (; i <= half - L; i += L) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, x, off + i);
            FloatVector x1 = FloatVector.fromArray(FLOAT, x, off + half + i);
            FloatVector c = FloatVector.fromArray(FLOAT, cos, csOff + i);
            FloatVector s = FloatVector.fromArray(FLOAT, sin, csOff + i);
            x0.mul(c).sub(x1.mul(s)).intoArray(x, off + i);
            x0.mul(s).add(x1.mul(c)).intoArray(x, off + half + i);
        }
        return i;
    }

    /**
     * Pairs (2i, 2i + 1), L/2 pairs per vector: x' = x·cos + swap(x)·(∓sin), where swap exchanges
     * each pair's members and the cosines and sines are gathered once per pair into both lanes.
     */
    private static int adjacent(float[] x, int off, int half, float[] cos, float[] sin, int csOff) {
        int i = 0;
        for (; i <= half - L / 2; i += L / 2) {
            FloatVector v = FloatVector.fromArray(FLOAT, x, off + 2 * i);
            FloatVector c = FloatVector.fromArray(FLOAT, cos, csOff + i, PAIR_OF_LANE, 0);
            FloatVector s = FloatVector.fromArray(FLOAT, sin, csOff + i, PAIR_OF_LANE, 0).mul(SINE_SIGNS);
            v.mul(c).add(v.rearrange(SWAP_PAIRS).mul(s)).intoArray(x, off + 2 * i);
        }
        return i;
    }
}
