package org.retroinfer.model.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text as the Hugging Face library does ({@code AddedVocabulary::find_matches}):
 * leftmost-longest, non-overlapping matches, each then checked for {@code single_word} and widened
 * by {@code lstrip}/{@code rstrip}. A trie over the tokens' characters keeps the scan linear in
 * practice: most positions fail on their first character.
 */
final class AddedTokenMatcher {
    /** A stretch of text: plain text to tokenize ({@code tokenId < 0}) or one added token. */
    record Segment(int start, int end, int tokenId) {
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        AddedToken token;
    }

    private final Node root = new Node();
    private final boolean empty;

    AddedTokenMatcher(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            Node n = root;
            for (int i = 0; i < t.content().length(); i++) {
                n = n.children.computeIfAbsent(t.content().charAt(i), c -> new Node());
            }
            n.token = t;
        }
        empty = tokens.isEmpty();
    }

    /** The text cut into plain stretches and added tokens, in order, covering it entirely. */
    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        if (empty) {
            out.add(new Segment(0, text.length(), -1));
            return out;
        }
        int splitEnd = 0;
        int i = 0;
        while (i < text.length()) {
            Node n = root.children.get(text.charAt(i));
            if (n == null) {
                i++;
                continue;
            }
            AddedToken longest = n.token;
            int longestEnd = i + 1;
            for (int j = i + 1; j < text.length() && !n.children.isEmpty(); j++) {
                n = n.children.get(text.charAt(j));
                if (n == null) {
                    break;
                }
                if (n.token != null) {
                    longest = n.token;
                    longestEnd = j + 1;
                }
            }
            if (longest == null) {
                i++;
                continue;
            }
            int start = i;
            int stop = longestEnd;
            i = longestEnd;
            if (longest.singleWord() && !isSingleWord(text, start, stop)) {
                continue;
            }
            if (longest.lstrip()) {
                int s = start;
                while (s > 0 && isWhitespace(text.codePointBefore(s))) {
                    s -= Character.charCount(text.codePointBefore(s));
                }
                start = Math.max(s, splitEnd);
            }
            if (longest.rstrip()) {
                while (stop < text.length() && isWhitespace(text.codePointAt(stop))) {
                    stop += Character.charCount(text.codePointAt(stop));
                }
                i = stop;
            }
            if (splitEnd < start) {
                out.add(new Segment(splitEnd, start, -1));
            }
            out.add(new Segment(start, stop, longest.id()));
            splitEnd = stop;
        }
        if (splitEnd < text.length() || out.isEmpty()) {
            out.add(new Segment(splitEnd, text.length(), -1));
        }
        return out;
    }

    private static boolean isSingleWord(String text, int start, int stop) {
        boolean startOk = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean stopOk = stop == text.length() || !isWordChar(text.codePointAt(stop));
        return startOk && stopOk;
    }

    /** Rust's {@code char::is_alphanumeric() || c == '_'}. */
    private static boolean isWordChar(int cp) {
        return Character.isAlphabetic(cp) || isNumeric(cp) || cp == '_';
    }

    /** Rust's {@code char::is_numeric}: general categories Nd, Nl and No. */
    private static boolean isNumeric(int cp) {
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
    }

    /** Rust's {@code char::is_whitespace}: the Unicode White_Space property. */
    static boolean isWhitespace(int cp) {
        if (cp >= 0x1C && cp <= 0x1F) {
            return false; // Java counts the information separators as whitespace; Unicode does not
        }
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }
}
