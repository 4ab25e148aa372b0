package org.retroinfer.kernels;

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

    private Rope() {}

    /** Rotates {@code x[off .. off + headDim)} in place. */
    public static void rotate(float[] x, int off, int headDim, float[] cos, float[] sin, int csOff, Pairing pairing) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
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
}
