package org.retroinfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.text.Normalizer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our tokenizers against Hugging Face's on the real Llama 3, Qwen3 and Mistral tokenizer.json
 * files: the same ids for varied text in both {@code addSpecialTokens} modes, the same decoded
 * text in both {@code skipSpecialTokens} modes, and decode(encode(x)) == x where the tokenizer
 * keeps all information.
 */
class TokenizerGoldenIdsTest {
    private static final long SEED = System.nanoTime();
    private static final Map<String, DjlReference> REFERENCES = new HashMap<>();

    @BeforeAll
    static void printSeed() {
        System.out.println("TokenizerGoldenIdsTest fuzz seed: " + SEED);
    }

    @AfterAll
    static void closeReferences() {
        REFERENCES.values().forEach(DjlReference::close);
    }

    private static DjlReference reference(String name) {
        return REFERENCES.computeIfAbsent(name, n -> new DjlReference(TestData.tokenizerJson(n)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "mistral"})
    void encodingMatchesHuggingFaceOnVariedText(String name) {
        Tokenizer ours = TestData.tokenizer(name);
        DjlReference reference = reference(name);
        for (GoldenTexts.Text t : GoldenTexts.all(SEED)) {
            for (boolean special : new boolean[] {false, true}) {
                assertArrayEquals(reference.encode(t.text(), special), ours.encode(t.text(), special),
                        name + ", " + t + ", addSpecialTokens=" + special);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "mistral"})
    void decodingMatchesHuggingFace(String name) {
        Tokenizer ours = TestData.tokenizer(name);
        DjlReference reference = reference(name);
        for (GoldenTexts.Text t : GoldenTexts.all(SEED)) {
            int[] ids = reference.encode(t.text(), true);
            for (boolean skip : new boolean[] {false, true}) {
                assertEquals(reference.decode(ids, skip), ours.decode(ids, skip), name + ", " + t + ", skipSpecialTokens=" + skip);
            }
        }
    }

    /** Random ids decode alike too, including byte sequences that are not valid UTF-8. */
    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "mistral"})
    void decodingRandomIdsMatchesHuggingFace(String name) {
        Tokenizer ours = TestData.tokenizer(name);
        java.util.Random random = new java.util.Random(SEED);
        DjlReference reference = reference(name);
        for (int round = 0; round < 50; round++) {
            int[] ids = random.ints(1 + random.nextInt(12), 0, ours.vocabularySize()).toArray();
            for (boolean skip : new boolean[] {false, true}) {
                assertEquals(reference.decode(ids, skip), ours.decode(ids, skip),
                        name + ", ids " + java.util.Arrays.toString(ids) + ", seed " + SEED);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "mistral"})
    void decodingTheEncodingGivesBackLosslessText(String name) {
        Tokenizer ours = TestData.tokenizer(name);
        for (GoldenTexts.Text t : GoldenTexts.all(SEED)) {
            if (isLossless(name, t.text())) {
                assertEquals(t.text(), ours.decode(ours.encode(t.text(), false), false), name + ", " + t);
            }
        }
    }

    /**
     * Llama 3 keeps everything; Qwen normalizes to NFC; Mistral's normalizer puts '▁' after every
     * added token, which decodes as a space that was not there.
     */
    private static boolean isLossless(String name, String text) {
        return switch (name) {
            case "qwen3" -> Normalizer.isNormalized(text, Normalizer.Form.NFC);
            case "mistral" -> List.of("<s>", "</s>", "<unk>").stream().noneMatch(text::contains);
            default -> true;
        };
    }
}
