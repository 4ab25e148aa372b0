package org.retroinfer.model.tokenizer;

import java.util.Arrays;

/**
 * Decodes ids as a model generates them, emitting text only once it is complete: a character whose
 * UTF-8 bytes span several tokens is held back until its last byte arrives. Works for any decoder
 * the way the Hugging Face library's {@code DecodeStream} does: it decodes a short window of recent
 * ids with and without the new one and emits the difference, so that context-dependent decoding
 * (a leading space stripped from the first token only) comes out as in a whole-sequence decode.
 * Not thread-safe: one per generated sequence.
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] window = new int[8];
    private int windowSize;
    /** How many ids at the start of the window were already decoded before the last emission. */
    private int prefixIds;
    private String prefix = "";

    StreamDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** The new text that {@code id} completes; empty while a character is still incomplete. */
    public String push(int id) {
        if (windowSize == window.length) {
            window = Arrays.copyOf(window, windowSize * 2);
        }
        window[windowSize++] = id;
        String text = tokenizer.decode(Arrays.copyOf(window, windowSize), skipSpecialTokens);
        if (text.length() <= prefix.length() || text.endsWith(String.valueOf(Utf8.REPLACEMENT))) {
            return "";
        }
        int common = 0;
        int max = Math.min(prefix.length(), text.length());
        while (common < max && prefix.charAt(common) == text.charAt(common)) {
            common++;
        }
        // The window's decode normally extends the prefix's; where a decoder rewrites earlier text
        // the emitted text cannot be taken back, so emit from the first difference on.
        String emitted = text.substring(common);
        int keepFrom = prefixIds;
        System.arraycopy(window, keepFrom, window, 0, windowSize - keepFrom);
        windowSize -= keepFrom;
        prefixIds = windowSize;
        prefix = tokenizer.decode(Arrays.copyOf(window, windowSize), skipSpecialTokens);
        return emitted;
    }
}
