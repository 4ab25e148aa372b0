package org.retroinfer.model.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible mapping between the 256 byte values and printable characters
 * ({@code bytes_to_unicode}): printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100 onwards in byte order, so a space becomes 'Ġ' and a newline 'Ċ'. Byte-level BPE
 * vocabularies (Llama 3, Qwen, GPT-2) are written in this alphabet.
 */
final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    static char charOf(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte a character of the alphabet stands for, or -1 for a character outside it. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The text's UTF-8 bytes written in the alphabet. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }
}
