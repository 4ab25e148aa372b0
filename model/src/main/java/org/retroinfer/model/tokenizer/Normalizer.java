package org.retroinfer.model.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face normalizer: rewrites each stretch of text between added tokens before it is
 * pre-tokenized. Only the kinds real LLM tokenizers use are implemented.
 */
sealed interface Normalizer {
    String normalize(String text);

    /** Unicode normalization form NFC, NFD, NFKC or NFKD (Qwen uses NFC). */
    record UnicodeForm(java.text.Normalizer.Form form) implements Normalizer {
        @Override
        public String normalize(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    /** Puts a string in front of non-empty text (Mistral prepends '▁'). */
    record Prepend(String prefix) implements Normalizer {
        @Override
        public String normalize(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    /** Replaces every match of a literal string or a regex (Mistral replaces ' ' with '▁'). */
    record Replace(Pattern pattern, String content) implements Normalizer {
        @Override
        public String normalize(String text) {
            return pattern.matcher(text).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    record Sequence(List<Normalizer> steps) implements Normalizer {
        public Sequence {
            steps = List.copyOf(steps);
        }

        @Override
        public String normalize(String text) {
            for (Normalizer step : steps) {
                text = step.normalize(text);
            }
            return text;
        }
    }

    /** The tokenizer has no normalizer. */
    record Identity() implements Normalizer {
        @Override
        public String normalize(String text) {
            return text;
        }
    }
}
