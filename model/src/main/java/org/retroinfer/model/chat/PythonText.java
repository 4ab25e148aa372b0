package org.retroinfer.model.chat;

/**
 * Python's string stripping, which the templates use ({@code | trim} is {@code str.strip()}). Its
 * whitespace is {@code str.isspace()}, which differs from Java's {@code String.strip()}: Python
 * also strips U+0085, U+00A0, U+2007 and U+202F.
 */
final class PythonText {
    private PythonText() {
    }

    /** {@code s.strip()}. */
    static String strip(String s) {
        int begin = 0;
        int end = s.length();
        while (begin < end && isSpace(s.charAt(begin))) {
            begin++;
        }
        while (end > begin && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(begin, end);
    }

    /** {@code s.lstrip('\n')}. */
    static String stripLeadingNewlines(String s) {
        int begin = 0;
        while (begin < s.length() && s.charAt(begin) == '\n') {
            begin++;
        }
        return s.substring(begin);
    }

    /** {@code s.rstrip('\n')}. */
    static String stripTrailingNewlines(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\n') {
            end--;
        }
        return s.substring(0, end);
    }

    /** {@code str.isspace()} for one character: all of Python's whitespace lies in the BMP. */
    static boolean isSpace(char c) {
        return switch (c) {
            case '\t', '\n', '\u000B', '\f', '\r', '\u001C', '\u001D', '\u001E', '\u001F', ' ', '\u0085', '\u00A0',
                 '\u1680', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000' -> true;
            default -> c >= '\u2000' && c <= '\u200A';
        };
    }
}
