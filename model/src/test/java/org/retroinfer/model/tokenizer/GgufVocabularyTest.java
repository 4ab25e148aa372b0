package org.retroinfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.retroinfer.model.weights.GgufType;
import org.retroinfer.model.weights.GgufValue;
import org.retroinfer.model.weights.ModelFileException;

class GgufVocabularyTest {
    private static final long SEED = System.nanoTime();
    private static final String P = "tokenizer.ggml.";
    private static final Map<String, Map<String, GgufValue>> EXPORTS = new HashMap<>();

    private static Map<String, GgufValue> exported(String name) {
        return EXPORTS.computeIfAbsent(name, n -> GgufVocabulary.export(TestData.tokenizerJson(n)));
    }

    /** The GGUF vocabulary encodes every golden text exactly as the tokenizer.json it came from. */
    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "mistral"})
    void exportedVocabularyEncodesLikeTheTokenizerJson(String name) {
        System.out.println("GgufVocabularyTest seed: " + SEED);
        Tokenizer json = TestData.tokenizer(name);
        Tokenizer gguf = Tokenizer.fromGguf(exported(name));
        assertEquals(json.vocabularySize(), gguf.vocabularySize());
        for (GoldenTexts.Text t : GoldenTexts.all(SEED)) {
            for (boolean special : new boolean[] {false, true}) {
                int[] ids = json.encode(t.text(), special);
                assertArrayEquals(ids, gguf.encode(t.text(), special), name + ", " + t + ", addSpecialTokens=" + special);
                assertEquals(json.decode(ids, false), gguf.decode(ids, false), name + ", " + t);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3", "mistral"})
    void exportWritesTheConverterKeysWithTheirGgufTypes(String name) {
        Map<String, GgufValue> keys = exported(name);
        Map<String, GgufType> expected = new LinkedHashMap<>();
        expected.put(P + "model", GgufType.STRING);
        expected.put(P + "pre", GgufType.STRING);
        expected.put(P + "tokens", GgufType.ARRAY);
        if (name.equals("mistral")) {
            expected.put(P + "scores", GgufType.ARRAY);
        }
        expected.put(P + "token_type", GgufType.ARRAY);
        if (!name.equals("mistral")) {
            expected.put(P + "merges", GgufType.ARRAY);
        }
        switch (name) {
            case "llama3" -> {
                expected.put(P + "bos_token_id", GgufType.UINT32);
                expected.put(P + "eos_token_id", GgufType.UINT32);
            }
            case "qwen3" -> {
                expected.put(P + "eos_token_id", GgufType.UINT32);
                expected.put(P + "padding_token_id", GgufType.UINT32);
            }
            default -> {
                expected.put(P + "bos_token_id", GgufType.UINT32);
                expected.put(P + "eos_token_id", GgufType.UINT32);
                expected.put(P + "unknown_token_id", GgufType.UINT32);
            }
        }
        expected.put(P + "add_bos_token", GgufType.BOOL);
        expected.put(P + "add_eos_token", GgufType.BOOL);
        if (!name.equals("mistral")) {
            expected.put("tokenizer.chat_template", GgufType.STRING);
        }
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(keys.keySet()), "keys in the converter's order");
        expected.forEach((key, type) -> assertEquals(type, keys.get(key).type(), key));
        assertEquals(GgufType.STRING, keys.get(P + "tokens").elementType());
        assertEquals(GgufType.INT32, keys.get(P + "token_type").elementType());
        if (name.equals("mistral")) {
            assertEquals(GgufType.FLOAT32, keys.get(P + "scores").elementType());
        } else {
            assertEquals(GgufType.STRING, keys.get(P + "merges").elementType());
        }
    }

    @Test
    void exportNamesModelPreTokenizerSpecialTokensAndTokenTypesAsTheConverterDoes() {
        Map<String, GgufValue> llama = exported("llama3");
        assertEquals("gpt2", llama.get(P + "model").asString());
        assertEquals("llama-bpe", llama.get(P + "pre").asString());
        assertEquals(128000L, llama.get(P + "bos_token_id").asLong());
        assertEquals(128001L, llama.get(P + "eos_token_id").asLong());
        assertEquals(false, llama.get(P + "add_bos_token").asBoolean(), "this tokenizer.json's post-processor adds no BOS");
        assertEquals("\u0120 \u0120\u0120\u0120", llama.get(P + "merges").asList().get(1), "merges written as in the file");

        Map<String, GgufValue> qwen = exported("qwen3");
        assertEquals("qwen2", qwen.get(P + "pre").asString());
        assertEquals("\u0120\u0120 \u0120\u0120", qwen.get(P + "merges").asList().get(1), "[left, right] pairs joined by a space");
        Tokenizer qwenJson = TestData.tokenizer("qwen3");
        assertEquals(typeOf(qwen, qwenJson, "<|im_start|>"), GgufTokenType.CONTROL);
        assertEquals(typeOf(qwen, qwenJson, "<think>"), GgufTokenType.USER_DEFINED);
        assertEquals(typeOf(qwen, qwenJson, "<|fim_prefix|>"), GgufTokenType.CONTROL, "added tokens that look special are CONTROL");
        assertEquals(typeOf(qwen, qwenJson, "hello"), GgufTokenType.NORMAL);

        Map<String, GgufValue> mistral = exported("mistral");
        Tokenizer mistralJson = TestData.tokenizer("mistral");
        assertEquals("llama", mistral.get(P + "model").asString());
        assertEquals("default", mistral.get(P + "pre").asString());
        assertEquals(true, mistral.get(P + "add_bos_token").asBoolean());
        assertEquals(typeOf(mistral, mistralJson, "<unk>"), GgufTokenType.UNKNOWN);
        assertEquals(typeOf(mistral, mistralJson, "<s>"), GgufTokenType.CONTROL);
        assertEquals(typeOf(mistral, mistralJson, "<0x0A>"), GgufTokenType.BYTE);
        assertEquals(typeOf(mistral, mistralJson, "\u2581the"), GgufTokenType.NORMAL);
    }

    private static GgufTokenType typeOf(Map<String, GgufValue> keys, Tokenizer tokenizer, String token) {
        int id = tokenizer.tokenId(token).orElseThrow();
        assertEquals(token, keys.get(P + "tokens").asList().get(id));
        return GgufTokenType.ofCode((Long) keys.get(P + "token_type").asList().get(id));
    }

    @Test
    void unknownPreTokenizerIsRejectedNamingIt() {
        Map<String, GgufValue> keys = new LinkedHashMap<>(exported("qwen3"));
        keys.put(P + "pre", GgufValue.string("made-up-bpe"));
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> GgufVocabulary.fromGguf(Path.of("model.gguf"), keys));
        assertTrue(e.getMessage().startsWith("model.gguf: ") && e.getMessage().contains("made-up-bpe")
                && e.getMessage().contains("llama-bpe") && e.getMessage().contains("qwen2"), e.getMessage());
    }

    @Test
    void missingPreTokenizerMeansLlamaCppsDefault() {
        Map<String, GgufValue> named = new LinkedHashMap<>(exported("qwen3"));
        named.put(P + "pre", GgufValue.string("default"));
        Map<String, GgufValue> missing = new LinkedHashMap<>(exported("qwen3"));
        missing.remove(P + "pre");
        String text = GoldenTexts.fuzz(SEED).text() + " 1234567 +<=> $^~| can't";
        assertArrayEquals(Tokenizer.fromGguf(named).encode(text, false), Tokenizer.fromGguf(missing).encode(text, false));
    }

    @Test
    void unsupportedModelAndMissingOrMistypedKeysAreRejectedNamingTheKey() {
        Map<String, GgufValue> bert = new LinkedHashMap<>(exported("qwen3"));
        bert.put(P + "model", GgufValue.string("bert"));
        assertMessage(bert, "tokenizer.ggml.model \"bert\" is not supported; supported: gpt2");

        Map<String, GgufValue> noMerges = new LinkedHashMap<>(exported("qwen3"));
        noMerges.remove(P + "merges");
        assertMessage(noMerges, "tokenizer.ggml.merges is missing");

        Map<String, GgufValue> badTypes = new LinkedHashMap<>(exported("mistral"));
        badTypes.put(P + "token_type", GgufValue.array(GgufType.UINT32, List.of(1L)));
        assertMessage(badTypes, "tokenizer.ggml.token_type must be an ARRAY of INT32, not ARRAY of UINT32");

        Map<String, GgufValue> noScores = new LinkedHashMap<>(exported("mistral"));
        noScores.remove(P + "scores");
        assertMessage(noScores, "tokenizer.ggml.scores is missing");
    }

    private static void assertMessage(Map<String, GgufValue> keys, String expected) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufVocabulary.fromGguf(Path.of("m.gguf"), keys));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /**
     * llama.cpp's SentencePiece BPE against a direct transcription of its rule (merge the adjacent
     * pair whose concatenation is the highest-scoring token, leftmost on ties) on random
     * vocabularies and texts.
     */
    @Test
    void sentencePieceMergesTheHighestScoringPairFirst() {
        java.util.Random r = new java.util.Random(SEED);
        for (int round = 0; round < 200; round++) {
            Map<String, Integer> vocab = new HashMap<>();
            List<String> alphabet = List.of("a", "b", "c", "\u2581", "\u00E9");
            for (String s : alphabet) {
                vocab.putIfAbsent(s, vocab.size());
            }
            for (int i = 0; i < 25; i++) {
                StringBuilder sb = new StringBuilder();
                for (int n = 2 + r.nextInt(3); n > 0; n--) {
                    sb.append(alphabet.get(r.nextInt(alphabet.size())));
                }
                vocab.putIfAbsent(sb.toString(), vocab.size());
            }
            float[] scores = new float[vocab.size()];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = r.nextInt(8) - 8; // few distinct values, so ties happen
            }
            StringBuilder text = new StringBuilder();
            for (int n = 1 + r.nextInt(20); n > 0; n--) {
                text.append(alphabet.get(r.nextInt(alphabet.size())));
            }
            IntList ours = new IntList();
            new SentencePieceModel(vocab, scores, 0).tokenize(text.toString(), ours);
            assertArrayEquals(referenceSentencePiece(text.toString(), vocab, scores), ours.toArray(),
                    "text " + text + ", seed " + SEED);
        }
    }

    private static int[] referenceSentencePiece(String text, Map<String, Integer> vocab, float[] scores) {
        List<String> symbols = new java.util.ArrayList<>();
        text.codePoints().forEach(cp -> symbols.add(Character.toString(cp)));
        while (true) {
            int best = -1;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer id = vocab.get(symbols.get(i) + symbols.get(i + 1));
                if (id != null && (best < 0 || scores[id] > scores[vocab.get(symbols.get(best) + symbols.get(best + 1))])) {
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        return symbols.stream().mapToInt(s -> vocab.getOrDefault(s, 0)).toArray();
    }

    /** Hugging Face's BPE against its rule: apply the merge of lowest rank, leftmost first, until none applies. */
    @Test
    void bpeAppliesTheLowestRankedMergeFirst() {
        java.util.Random r = new java.util.Random(SEED);
        for (int round = 0; round < 200; round++) {
            Map<String, Integer> vocab = new HashMap<>();
            for (String s : List.of("a", "b", "c", "d")) {
                vocab.put(s, vocab.size());
            }
            List<String[]> merges = new java.util.ArrayList<>();
            PairMergeMap table = new PairMergeMap(64);
            List<String> tokens = new java.util.ArrayList<>(vocab.keySet());
            for (int i = 0; i < 30; i++) {
                String left = tokens.get(r.nextInt(tokens.size()));
                String right = tokens.get(r.nextInt(tokens.size()));
                if (table.get(vocab.get(left), vocab.get(right)) >= 0) {
                    continue;
                }
                vocab.putIfAbsent(left + right, vocab.size());
                tokens.add(left + right);
                table.put(vocab.get(left), vocab.get(right), merges.size(), vocab.get(left + right));
                merges.add(new String[] {left, right});
            }
            StringBuilder text = new StringBuilder();
            for (int n = 1 + r.nextInt(30); n > 0; n--) {
                text.append("abcd".charAt(r.nextInt(4)));
            }
            IntList ours = new IntList();
            new BpeModel(vocab, table, false, -1, false, false, null, null).tokenize(text.toString(), ours);
            assertArrayEquals(referenceBpe(text.toString(), vocab, merges), ours.toArray(), "text " + text + ", seed " + SEED);
        }
    }

    private static int[] referenceBpe(String text, Map<String, Integer> vocab, List<String[]> merges) {
        List<String> symbols = new java.util.ArrayList<>(List.of(text.split("")));
        while (true) {
            int bestRank = Integer.MAX_VALUE;
            int bestPos = -1;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                for (int rank = 0; rank < Math.min(bestRank, merges.size()); rank++) {
                    if (merges.get(rank)[0].equals(symbols.get(i)) && merges.get(rank)[1].equals(symbols.get(i + 1))) {
                        bestRank = rank;
                        bestPos = i;
                        break;
                    }
                }
            }
            if (bestPos < 0) {
                break;
            }
            symbols.set(bestPos, symbols.get(bestPos) + symbols.remove(bestPos + 1));
        }
        return symbols.stream().mapToInt(vocab::get).toArray();
    }
}
