package org.retroinfer.model.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * UTF-8 decoding with the exact replacement rules of Rust's {@code String::from_utf8_lossy}, which
 * the Hugging Face decoders use: each maximal subpart of an ill-formed sequence becomes one U+FFFD
 * (Unicode's recommended practice). Java's own decoder is not specified to split errors the same way.
 */
final class Utf8 {
    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {
    }

    static String decodeLossy(byte[] bytes, int length) {
        StringBuilder out = new StringBuilder(length);
        int i = 0;
        while (i < length) {
            int n = validSequenceLength(bytes, i, length);
            if (n > 0) {
                out.appendCodePoint(codePoint(bytes, i, n));
                i += n;
            } else {
                out.append(REPLACEMENT);
                i += Math.max(1, -n);
            }
        }
        return out.toString();
    }

    static String decodeLossy(ByteArrayOutputStream bytes) {
        return decodeLossy(bytes.toByteArray(), bytes.size());
    }

    /** Whether the bytes are entirely well-formed UTF-8 (Rust's {@code String::from_utf8} succeeds). */
    static boolean isValid(byte[] bytes, int length) {
        int i = 0;
        while (i < length) {
            int n = validSequenceLength(bytes, i, length);
            if (n <= 0) {
                return false;
            }
            i += n;
        }
        return true;
    }

    /**
     * The length of the well-formed sequence starting at {@code i}, or minus the length of the
     * maximal subpart of the ill-formed one (at least 1 byte).
     */
    private static int validSequenceLength(byte[] b, int i, int end) {
        int b0 = b[i] & 0xFF;
        if (b0 < 0x80) {
            return 1;
        }
        int need;
        int lo = 0x80;
        int hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            need = 1;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            if (b0 == 0xE0) {
                lo = 0xA0;
            } else if (b0 == 0xED) {
                hi = 0x9F;
            }
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            if (b0 == 0xF0) {
                lo = 0x90;
            } else if (b0 == 0xF4) {
                hi = 0x8F;
            }
        } else {
            return -1;
        }
        int j = 1;
        for (; j <= need; j++) {
            if (i + j >= end) {
                return -j;
            }
            int c = b[i + j] & 0xFF;
            if (j == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) {
                return -j;
            }
        }
        return need + 1;
    }

    private static int codePoint(byte[] b, int i, int n) {
        int b0 = b[i] & 0xFF;
        return switch (n) {
            case 1 -> b0;
            case 2 -> ((b0 & 0x1F) << 6) | (b[i + 1] & 0x3F);
            case 3 -> ((b0 & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F);
            default -> ((b0 & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) | (b[i + 3] & 0x3F);
        };
    }
}
