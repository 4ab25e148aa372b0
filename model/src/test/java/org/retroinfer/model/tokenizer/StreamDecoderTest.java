package org.retroinfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StreamDecoderTest {
    private static final long SEED = System.nanoTime();

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "mistral"})
    void streamedTextEqualsTheWholeDecodeAndIsAlwaysComplete(String name) {
        System.out.println("StreamDecoderTest seed: " + SEED);
        Tokenizer tokenizer = TestData.tokenizer(name);
        for (GoldenTexts.Text t : GoldenTexts.all(SEED)) {
            int[] ids = tokenizer.encode(t.text(), true);
            for (boolean skip : new boolean[] {false, true}) {
                StreamDecoder stream = tokenizer.streamDecoder(skip);
                StringBuilder streamed = new StringBuilder();
                for (int id : ids) {
                    String piece = stream.push(id);
                    assertFalse(piece.contains("\uFFFD"), name + ", " + t + ": emitted an incomplete character");
                    assertFalse(!piece.isEmpty() && Character.isHighSurrogate(piece.charAt(piece.length() - 1)),
                            name + ", " + t + ": emitted half a surrogate pair");
                    streamed.append(piece);
                }
                assertEquals(tokenizer.decode(ids, skip), streamed.toString(), name + ", " + t + ", skip=" + skip);
            }
        }
    }

    /** '€' is E2 82 AC in UTF-8: three byte tokens, and the text appears only with the last one. */
    @ParameterizedTest
    @ValueSource(strings = {"llama3", "mistral"})
    void characterSplitAcrossByteTokensIsHeldBackUntilComplete(String name) {
        Tokenizer tokenizer = TestData.tokenizer(name);
        byte[] euro = "\u20AC".getBytes(StandardCharsets.UTF_8);
        StreamDecoder stream = tokenizer.streamDecoder(true);
        assertEquals("a", stream.push(tokenizer.encode("a", false)[0]));
        for (int i = 0; i < euro.length; i++) {
            String token = name.equals("mistral")
                    ? String.format("<0x%02X>", euro[i] & 0xFF)
                    : String.valueOf(ByteLevelAlphabet.charOf(euro[i] & 0xFF));
            String out = stream.push(tokenizer.tokenId(token).orElseThrow());
            assertEquals(i < euro.length - 1 ? "" : "\u20AC", out, "after byte " + i);
        }
    }
}
