package org.retroinfer.model.tokenizer;

import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import org.retroinfer.model.weights.GgufValue;

/**
 * Text to token ids and back, with the semantics of the Hugging Face {@code tokenizers} library.
 * Implementations are immutable and thread-safe.
 */
public interface Tokenizer {
    /**
     * The token ids of {@code text}. Special and added tokens written in the text are recognised
     * as such; {@code addSpecialTokens} applies the post-processor (e.g. Mistral's {@code <s>}).
     */
    int[] encode(String text, boolean addSpecialTokens);

    /**
     * The text of the ids; {@code skipSpecialTokens} leaves out special tokens. Ids that name no
     * token decode to nothing, as in the Hugging Face library.
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** A decoder for ids arriving one at a time, which only ever emits complete UTF-8 text. */
    StreamDecoder streamDecoder(boolean skipSpecialTokens);

    /** One past the largest token id, added tokens included. */
    int vocabularySize();

    /** The id of exactly this vocabulary or added token. */
    OptionalInt tokenId(String token);

    /**
     * The token's string as the vocabulary writes it (byte-level vocabularies: 'Ġ' for a space).
     *
     * @throws IllegalArgumentException where no token has the id
     */
    String token(int id);

    boolean isSpecial(int id);

    /** A tokenizer from a Hugging Face {@code tokenizer.json}. */
    static Tokenizer load(Path tokenizerJson) {
        return TokenizerJson.load(tokenizerJson);
    }

    /** A tokenizer from the {@code tokenizer.ggml.*} keys of GGUF metadata. */
    static Tokenizer fromGguf(Map<String, GgufValue> metadata) {
        return GgufVocabulary.fromGguf(metadata);
    }
}
