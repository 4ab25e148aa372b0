package org.retroinfer.model.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Hugging Face {@code Split} does with the text a pattern matches, and the splitting itself
 * ({@code NormalizedString::split}): the text is cut into alternating unmatched and matched spans,
 * which are then kept, dropped or glued to a neighbour. Empty pieces are dropped, as the library's
 * {@code PreTokenizedString::split} does.
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior ofJsonName(String name) {
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> null;
        };
    }

    /**
     * Splits {@code text}; adds each kept piece to {@code out} and returns the offset at which the
     * first kept piece starts in {@code text} (-1 when none is kept).
     */
    int split(String text, Pattern pattern, boolean invert, List<String> out) {
        if (this == ISOLATED) {
            return splitIsolated(text, pattern, out);
        }
        // spans as [start, end, isMatch] triples covering the whole text
        List<int[]> spans = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int prev = 0;
        while (m.find()) {
            if (m.start() != prev) {
                spans.add(new int[] {prev, m.start(), invert ? 1 : 0});
            }
            spans.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
            prev = m.end();
        }
        if (prev != text.length()) {
            spans.add(new int[] {prev, text.length(), invert ? 1 : 0});
        }
        List<int[]> pieces = switch (this) {
            case ISOLATED -> spans;
            case REMOVED -> spans.stream().filter(s -> s[2] == 0).toList();
            case CONTIGUOUS -> mergeRuns(spans);
            case MERGED_WITH_PREVIOUS -> mergeMatchesInto(spans, false);
            case MERGED_WITH_NEXT -> mergeMatchesInto(spans, true);
        };
        int first = -1;
        for (int[] p : pieces) {
            if (p[1] > p[0]) {
                if (first < 0) {
                    first = p[0];
                }
                out.add(text.substring(p[0], p[1]));
            }
        }
        return first;
    }

    /** The common case (Llama 3, Qwen, GPT-2), without the bookkeeping: every span is a piece. */
    private static int splitIsolated(String text, Pattern pattern, List<String> out) {
        Matcher m = pattern.matcher(text);
        int prev = 0;
        int first = -1;
        while (m.find()) {
            if (m.start() != prev) {
                out.add(text.substring(prev, m.start()));
                first = first < 0 ? prev : first;
            }
            if (m.end() > m.start()) {
                out.add(text.substring(m.start(), m.end()));
                first = first < 0 ? m.start() : first;
            }
            prev = m.end();
        }
        if (prev != text.length()) {
            out.add(text.substring(prev));
            first = first < 0 ? prev : first;
        }
        return first;
    }

    private static List<int[]> mergeRuns(List<int[]> spans) {
        List<int[]> acc = new ArrayList<>();
        boolean previousMatch = false;
        for (int[] s : spans) {
            boolean match = s[2] == 1;
            if (match == previousMatch && !acc.isEmpty()) {
                acc.getLast()[1] = s[1];
            } else {
                acc.add(new int[] {s[0], s[1], 0});
            }
            previousMatch = match;
        }
        return acc;
    }

    /** Glues each match onto the span before it, or (walking backwards) onto the span after it. */
    private static List<int[]> mergeMatchesInto(List<int[]> spans, boolean next) {
        List<int[]> acc = new ArrayList<>();
        boolean previousMatch = false;
        for (int k = 0; k < spans.size(); k++) {
            int[] s = spans.get(next ? spans.size() - 1 - k : k);
            boolean match = s[2] == 1;
            if (match && !previousMatch && !acc.isEmpty()) {
                if (next) {
                    acc.getLast()[0] = s[0];
                } else {
                    acc.getLast()[1] = s[1];
                }
            } else {
                acc.add(new int[] {s[0], s[1], 0});
            }
            previousMatch = match;
        }
        if (next) {
            java.util.Collections.reverse(acc);
        }
        return acc;
    }
}
