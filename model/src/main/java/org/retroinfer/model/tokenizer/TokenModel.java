package org.retroinfer.model.tokenizer;

/** Turns one pre-tokenized piece of text into token ids: the "model" step of a tokenizer. */
interface TokenModel {
    void tokenize(String piece, IntList out);
}
