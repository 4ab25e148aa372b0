package org.retroinfer.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The reference implementation: Hugging Face's Rust {@code tokenizers} through DJL's bindings,
 * offline, with truncation and padding off (DJL truncates at 512 tokens by default).
 */
final class DjlReference implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;

    DjlReference(Path tokenizerJson) {
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int[] encode(String text, boolean addSpecialTokens) {
        return Arrays.stream(tokenizer.encode(text, addSpecialTokens, false).getIds()).mapToInt(id -> (int) id).toArray();
    }

    String decode(int[] ids, boolean skipSpecialTokens) {
        return tokenizer.decode(Arrays.stream(ids).mapToLong(id -> id).toArray(), skipSpecialTokens);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
