package org.retroinfer.model.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A Hugging Face pre-tokenizer: cuts normalized text into the pieces ("words") that the BPE model
 * encodes one by one, and may rewrite them (byte-level alphabet, '▁' for spaces).
 */
sealed interface PreTokenizer {
    /** GPT-2's own regex, used by {@code ByteLevel} with {@code use_regex: true}. */
    String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /**
     * Appends the pieces of {@code piece} to {@code out}. {@code atTextStart} says whether the piece
     * starts at offset 0 of the text given to encode (Metaspace's "first" scheme needs it); the
     * return value says the same for the first piece appended.
     */
    boolean apply(String piece, boolean atTextStart, List<String> out);

    /**
     * Compiles a pattern from tokenizer.json the way the library's Oniguruma does with UTF-8:
     * {@code \s}, {@code \d}, {@code \w} and case-insensitive matching are Unicode-aware.
     */
    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    record Split(Pattern pattern, SplitBehavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public boolean apply(String piece, boolean atTextStart, List<String> out) {
            int firstStart = behavior.split(piece, pattern, invert, out);
            return atTextStart && firstStart == 0;
        }
    }

    /**
     * Byte-level: optionally a prefix space and GPT-2's regex split, then every piece's UTF-8 bytes
     * written in {@link ByteLevelAlphabet}. The prefix space goes on every piece it receives (each
     * stretch between added tokens), as the library does.
     */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        private static final Pattern REGEX = PreTokenizer.compile(GPT2_REGEX);

        @Override
        public boolean apply(String piece, boolean atTextStart, List<String> out) {
            String text = addPrefixSpace && !piece.startsWith(" ") ? " " + piece : piece;
            if (!useRegex) {
                out.add(ByteLevelAlphabet.encode(text));
                return atTextStart;
            }
            List<String> split = new ArrayList<>();
            SplitBehavior.ISOLATED.split(text, REGEX, false, split);
            for (String s : split) {
                out.add(ByteLevelAlphabet.encode(s));
            }
            return atTextStart;
        }
    }

    /**
     * SentencePiece-style: spaces become the replacement ('▁'), which is prepended per the scheme
     * ("always", "first": only at the start of the text, "never"); with {@code split}, each '▁'
     * starts a new piece.
     */
    record Metaspace(char replacement, String prependScheme, boolean split) implements PreTokenizer {
        public Metaspace {
            if (!List.of("always", "first", "never").contains(prependScheme)) {
                throw new IllegalArgumentException("prepend_scheme must be always, first or never, got " + prependScheme);
            }
        }

        @Override
        public boolean apply(String piece, boolean atTextStart, List<String> out) {
            String text = piece.replace(' ', replacement);
            boolean prepend = switch (prependScheme) {
                case "always" -> true;
                case "first" -> atTextStart;
                default -> false;
            };
            if (prepend && text.charAt(0) != replacement) {
                text = replacement + text;
            }
            if (!split) {
                out.add(text);
                return atTextStart;
            }
            // MergedWithNext on a single character: every replacement starts a new piece
            int start = 0;
            for (int i = 1; i < text.length(); i++) {
                if (text.charAt(i) == replacement) {
                    out.add(text.substring(start, i));
                    start = i;
                }
            }
            out.add(text.substring(start));
            return atTextStart;
        }
    }

    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        public Sequence {
            steps = List.copyOf(steps);
        }

        @Override
        public boolean apply(String piece, boolean atTextStart, List<String> out) {
            List<String> current = List.of(piece);
            boolean firstAtStart = atTextStart;
            for (PreTokenizer step : steps) {
                List<String> next = new ArrayList<>(current.size() * 2);
                boolean nextFirstAtStart = false;
                for (int i = 0; i < current.size(); i++) {
                    int before = next.size();
                    boolean r = step.apply(current.get(i), i == 0 && firstAtStart, next);
                    if (i == 0 && next.size() > before) {
                        nextFirstAtStart = r;
                    }
                }
                current = next;
                firstAtStart = nextFirstAtStart;
            }
            out.addAll(current);
            return firstAtStart;
        }
    }

    /** The tokenizer has no pre-tokenizer: the whole normalized text is one piece. */
    record None() implements PreTokenizer {
        @Override
        public boolean apply(String piece, boolean atTextStart, List<String> out) {
            out.add(piece);
            return atTextStart;
        }
    }
}
