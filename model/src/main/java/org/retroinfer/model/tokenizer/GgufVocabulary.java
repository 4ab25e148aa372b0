package org.retroinfer.model.tokenizer;

import java.nio.file.Path;
import java.util.Map;
import org.retroinfer.model.weights.GgufValue;

/**
 * Tokenizers in GGUF metadata ({@code tokenizer.ggml.*}), both ways: {@link #fromGguf} builds a
 * tokenizer from a file's keys; {@link #export} turns a Hugging Face {@code tokenizer.json} into
 * the keys llama.cpp's {@code convert_hf_to_gguf.py} writes, for embedding in a GGUF file.
 */
public final class GgufVocabulary {
    private GgufVocabulary() {
    }

    /**
     * A tokenizer from GGUF metadata: {@code tokenizer.ggml.model} {@code gpt2} (byte-level BPE with
     * the pre-tokenizer named by {@code tokenizer.ggml.pre}) or {@code llama} (llama.cpp's
     * SentencePiece BPE over {@code tokenizer.ggml.scores}). Problems are reported against a
     * placeholder path; use {@link #fromGguf(Path, Map)} where the file is known.
     */
    public static Tokenizer fromGguf(Map<String, GgufValue> metadata) {
        return fromGguf(Path.of("<GGUF metadata>"), metadata);
    }

    /** As {@link #fromGguf(Map)}, naming {@code file} in errors. */
    public static Tokenizer fromGguf(Path file, Map<String, GgufValue> metadata) {
        return new GgufTokenizerReader(file, metadata).read();
    }

    /**
     * The {@code tokenizer.*} GGUF keys for a {@code tokenizer.json}, with the types llama.cpp checks:
     * model, pre, tokens (STRING arrays), token_type (INT32 array), merges (STRING array, byte-level
     * models) or scores (FLOAT32 array, SentencePiece-style models), special token ids (UINT32),
     * add_bos_token/add_eos_token (BOOL) and the chat template. Special tokens and the chat template
     * come from {@code tokenizer_config.json} next to it, and a larger {@code vocab_size} in
     * {@code config.json} pads the token list, as the converter does. The map keeps the converter's
     * key order.
     */
    public static Map<String, GgufValue> export(Path tokenizerJson) {
        return new GgufVocabularyExporter(tokenizerJson).export();
    }
}
