package org.retroinfer.model.weights;

import java.util.Comparator;

/**
 * JSON strings written byte for byte as the tools that read our files write them: Rust's serde_json
 * (the safetensors header) and Python's json module (a checkpoint's index), so that our files are
 * identical to theirs and not merely equivalent.
 */
final class JsonText {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Code point order: Rust's String ordering and Python's sorted(), unlike String.compareTo (UTF-16 units). */
    static final Comparator<String> CODE_POINT_ORDER =
            (a, b) -> java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());

    private JsonText() {}

    /** A quoted string as serde_json writes it: control characters escaped, everything else raw UTF-8. */
    static String rust(String s) {
        return quote(s, false);
    }

    /** A quoted string as Python's json.dumps writes it (ensure_ascii): only printable ASCII stays raw. */
    static String python(String s) {
        return quote(s, true);
    }

    private static String quote(String s, boolean asciiOnly) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || (asciiOnly && c > 0x7E)) {
                        out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 15]).append(HEX[(c >> 4) & 15]).append(HEX[c & 15]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
