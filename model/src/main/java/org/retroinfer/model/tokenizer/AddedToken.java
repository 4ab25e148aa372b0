package org.retroinfer.model.tokenizer;

/**
 * A token matched in the text before the model runs (Hugging Face {@code added_tokens}), with the
 * library's flags: {@code special} tokens are dropped by {@code skipSpecialTokens}; {@code lstrip}
 * and {@code rstrip} absorb the whitespace beside a match; {@code singleWord} matches only between
 * non-word characters; {@code normalized} tokens are matched in normalized text.
 */
record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
                  boolean singleWord, boolean normalized) {
    AddedToken {
        if (id < 0) {
            throw new IllegalArgumentException("added token id must be >= 0, got " + id);
        }
        if (content.isEmpty()) {
            throw new IllegalArgumentException("added token " + id + " has empty content");
        }
    }

    static AddedToken special(int id, String content) {
        return new AddedToken(id, content, true, false, false, false, false);
    }
}
