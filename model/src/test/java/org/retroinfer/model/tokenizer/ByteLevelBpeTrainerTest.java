package org.retroinfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteLevelBpeTrainerTest {
    private static final List<String> SPECIALS = List.of("<|bos|>", "<|eos|>", "<|pad|>");

    @TempDir
    Path dir;

    /** Words from a few scripts, random lengths and spacing: enough repetition for merges to matter. */
    static String corpus(long seed) {
        Random r = new Random(seed);
        String[] alphabets = {"etaoinshrdlu", "ETAOIN", "0123456789", "абвгдежз", "你好世界天气", ".,;:!?()[]{}<>=+-*/"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 40_000) {
            String a = alphabets[r.nextInt(alphabets.length)];
            int n = 1 + r.nextInt(8);
            for (int i = 0; i < n; i++) {
                sb.append(a.charAt(Math.min(a.length() - 1, (int) Math.abs(r.nextGaussian() * a.length() / 3))));
            }
            sb.append(r.nextInt(10) == 0 ? "\n" : r.nextInt(20) == 0 ? "\t" : r.nextInt(15) == 0 ? "  " : " ");
        }
        return sb.toString();
    }

    @Test
    void trainedTokenizerEncodesAndDecodesLikeHuggingFace() {
        long seed = System.nanoTime();
        System.out.println("ByteLevelBpeTrainerTest seed: " + seed);
        Path file = dir.resolve("tokenizer.json");
        Tokenizer ours = ByteLevelBpeTrainer.train(corpus(seed), 700, SPECIALS, file);
        List<GoldenTexts.Text> texts = new ArrayList<>(GoldenTexts.all(seed));
        texts.add(new GoldenTexts.Text("training text", corpus(seed + 1).substring(0, 3000)));
        texts.add(new GoldenTexts.Text("specials", "<|bos|>hello<|eos|><|pad|><|pad|>"));
        try (DjlReference reference = new DjlReference(file)) {
            for (GoldenTexts.Text t : texts) {
                for (boolean special : new boolean[] {false, true}) {
                    int[] expected = reference.encode(t.text(), special);
                    assertArrayEquals(expected, ours.encode(t.text(), special), t + ", seed " + seed);
                    assertEquals(reference.decode(expected, true), ours.decode(expected, true), t + ", seed " + seed);
                }
                assertEquals(t.text(), ours.decode(ours.encode(t.text(), false), false), t + " round trip, seed " + seed);
            }
        }
    }

    @Test
    void vocabularyHasTheTargetSizeWithSpecialTokensLast() {
        Tokenizer t = ByteLevelBpeTrainer.train(corpus(7), 500, SPECIALS, dir.resolve("tokenizer.json"));
        assertEquals(500, t.vocabularySize());
        for (int i = 0; i < SPECIALS.size(); i++) {
            int id = 500 - SPECIALS.size() + i;
            assertEquals(SPECIALS.get(i), t.token(id));
            assertTrue(t.isSpecial(id));
        }
        assertEquals(" ", t.decode(new int[] {' '}, false), "byte tokens have the byte's value as id");
        assertArrayEquals(new int[] {497, 499}, t.encode("<|bos|><|pad|>", false));
    }

    /** The first merge is the pair of adjacent bytes seen most often inside GPT-2 regex pieces. */
    @Test
    void firstMergeIsTheMostFrequentBytePair() {
        String corpus = corpus(11);
        Tokenizer t = ByteLevelBpeTrainer.train(corpus, 257, List.of(), dir.resolve("tokenizer.json"));
        Map<Long, Integer> counts = new HashMap<>();
        Matcher m = PreTokenizer.compile(PreTokenizer.GPT2_REGEX).matcher(corpus);
        while (m.find()) {
            byte[] b = m.group().getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i + 1 < b.length; i++) {
                counts.merge(((long) (b[i] & 0xFF) << 32) | (b[i + 1] & 0xFF), 1, Integer::sum);
            }
        }
        long best = counts.entrySet().stream()
                .max((a, c) -> a.getValue().equals(c.getValue()) ? Long.compare(c.getKey(), a.getKey()) : Integer.compare(a.getValue(), c.getValue()))
                .orElseThrow().getKey();
        String expected = "" + ByteLevelAlphabet.charOf((int) (best >>> 32)) + ByteLevelAlphabet.charOf((int) (best & 0xFF));
        assertEquals(expected, t.token(256));
    }

    @Test
    void vocabularyTooSmallForBytesAndSpecialsIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ByteLevelBpeTrainer.train("abc", 258, SPECIALS, dir.resolve("tokenizer.json")));
        assertTrue(e.getMessage().contains("259"), e.getMessage());
    }
}
