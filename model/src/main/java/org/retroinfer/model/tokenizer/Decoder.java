package org.retroinfer.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A Hugging Face decoder: rewrites the list of token strings step by step ({@code decode_chain});
 * the decoded text is the concatenation of the final list.
 */
sealed interface Decoder {
    List<String> decodeChain(List<String> tokens);

    default String decode(List<String> tokens) {
        return String.join("", decodeChain(tokens));
    }

    /**
     * Byte-level: the tokens' characters are mapped back to bytes through {@link ByteLevelAlphabet}
     * (a token with a character outside the alphabet, such as an added token, contributes its own
     * UTF-8 bytes) and the bytes are decoded, invalid sequences becoming U+FFFD.
     */
    record ByteLevel() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (String t : tokens) {
                appendBytes(t, bytes);
            }
            return List.of(Utf8.decodeLossy(bytes));
        }

        static void appendBytes(String token, ByteArrayOutputStream bytes) {
            for (int i = 0; i < token.length(); i++) {
                if (ByteLevelAlphabet.byteOf(token.charAt(i)) < 0) {
                    bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
                    return;
                }
            }
            for (int i = 0; i < token.length(); i++) {
                bytes.write(ByteLevelAlphabet.byteOf(token.charAt(i)));
            }
        }
    }

    /** Replaces a literal string in every token (Mistral: '▁' becomes ' '). */
    record Replace(String pattern, String content) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                out.add(t.replace(pattern, content));
            }
            return out;
        }
    }

    /**
     * Turns each run of {@code <0xXX>} tokens into the text its bytes spell, or into one U+FFFD per
     * token where the bytes are not valid UTF-8.
     */
    record ByteFallback() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteArrayOutputStream run = new ByteArrayOutputStream();
            for (String t : tokens) {
                int b = BpeModel.byteTokenValue(t);
                if (b >= 0) {
                    run.write(b);
                    continue;
                }
                flush(run, out);
                out.add(t);
            }
            flush(run, out);
            return out;
        }

        private static void flush(ByteArrayOutputStream run, List<String> out) {
            if (run.size() == 0) {
                return;
            }
            byte[] bytes = run.toByteArray();
            if (Utf8.isValid(bytes, bytes.length)) {
                out.add(new String(bytes, StandardCharsets.UTF_8));
            } else {
                for (int i = 0; i < bytes.length; i++) {
                    out.add(String.valueOf(Utf8.REPLACEMENT));
                }
            }
            run.reset();
        }
    }

    /** Joins all tokens into one. */
    record Fuse() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters from each token. */
    record Strip(char content, int start, int stop) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int from = 0;
                while (from < start && from < t.length() && t.charAt(from) == content) {
                    from++;
                }
                int to = t.length();
                while (t.length() - to < stop && to > from && t.charAt(to - 1) == content) {
                    to--;
                }
                out.add(t.substring(from, to));
            }
            return out;
        }
    }

    /**
     * SentencePiece-style: the replacement ('▁') becomes a space, except in the first token, where
     * it is dropped unless the prepend scheme is "never" (it was the prefix the encoder added).
     */
    record Metaspace(char replacement, boolean prepends) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                out.add(i == 0 && prepends ? t.replace(String.valueOf(replacement), "") : t.replace(replacement, ' '));
            }
            return out;
        }
    }

    record Sequence(List<Decoder> steps) implements Decoder {
        public Sequence {
            steps = List.copyOf(steps);
        }

        @Override
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder step : steps) {
                tokens = step.decodeChain(tokens);
            }
            return tokens;
        }
    }

    /** No decoder: the library joins the tokens with spaces. */
    record None() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join(" ", tokens));
        }
    }
}
