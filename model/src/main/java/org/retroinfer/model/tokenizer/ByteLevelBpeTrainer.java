package org.retroinfer.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Trains a small byte-level BPE tokenizer, GPT-2 style, for test models: the corpus is cut with
 * GPT-2's regex, the vocabulary starts as the 256 byte tokens (id = byte value), and the most
 * frequent adjacent pair is merged until the target size is reached (ties: the pair of lowest ids).
 * The special tokens take the last ids. The result is written as a {@code tokenizer.json} that both
 * {@link Tokenizer#load} and the Hugging Face library read.
 */
public final class ByteLevelBpeTrainer {
    private ByteLevelBpeTrainer() {
    }

    /**
     * Trains on {@code corpus}, writes {@code tokenizerJson} and returns the tokenizer read back.
     * The vocabulary has at most {@code vocabularySize} tokens; fewer when the corpus runs out of
     * pairs to merge.
     */
    public static Tokenizer train(String corpus, int vocabularySize, List<String> specialTokens, Path tokenizerJson) {
        if (vocabularySize < 256 + specialTokens.size()) {
            throw new IllegalArgumentException("vocabularySize must be at least 256 byte tokens + " + specialTokens.size()
                    + " special tokens = " + (256 + specialTokens.size()) + ", got " + vocabularySize);
        }
        if (new HashSet<>(specialTokens).size() != specialTokens.size() || specialTokens.contains("")) {
            throw new IllegalArgumentException("special tokens must be distinct and non-empty, got " + specialTokens);
        }
        List<String> vocab = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            vocab.add(String.valueOf(ByteLevelAlphabet.charOf(b)));
        }
        List<int[]> merges = learnMerges(wordCounts(corpus), vocab, vocabularySize - specialTokens.size());
        write(tokenizerJson, vocab, merges, specialTokens);
        return Tokenizer.load(tokenizerJson);
    }

    /** Distinct pre-tokenized words (in the byte-level alphabet) with their counts. */
    private static Map<String, Integer> wordCounts(String corpus) {
        List<String> pieces = new ArrayList<>();
        new PreTokenizer.ByteLevel(false, true).apply(corpus, true, pieces);
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String p : pieces) {
            counts.merge(p, 1, Integer::sum);
        }
        return counts;
    }

    /** The merges as (left id, right id, merged id), appending merged tokens to {@code vocab}. */
    private static List<int[]> learnMerges(Map<String, Integer> wordCounts, List<String> vocab, int targetSize) {
        List<int[]> words = new ArrayList<>(wordCounts.size());
        int[] counts = new int[wordCounts.size()];
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            String w = e.getKey();
            int[] symbols = new int[w.length()];
            for (int i = 0; i < w.length(); i++) {
                symbols[i] = ByteLevelAlphabet.byteOf(w.charAt(i));
            }
            counts[words.size()] = e.getValue();
            words.add(symbols);
        }
        Map<Long, Long> pairCounts = new HashMap<>();
        Map<Long, Set<Integer>> wordsWithPair = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            countPairs(words.get(w), w, counts[w], pairCounts, wordsWithPair);
        }
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            ids.put(vocab.get(i), i);
        }
        List<int[]> merges = new ArrayList<>();
        while (vocab.size() < targetSize) {
            long best = -1;
            long bestCount = 0;
            for (Map.Entry<Long, Long> e : pairCounts.entrySet()) {
                long c = e.getValue();
                if (c > bestCount || (c == bestCount && c > 0 && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (bestCount == 0) {
                break;
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            String mergedToken = vocab.get(left) + vocab.get(right);
            Integer merged = ids.get(mergedToken);
            if (merged == null) {
                merged = vocab.size();
                vocab.add(mergedToken);
                ids.put(mergedToken, merged);
            }
            merges.add(new int[] {left, right, merged});
            for (int w : new ArrayList<>(wordsWithPair.getOrDefault(best, Set.of()))) {
                int[] before = words.get(w);
                countPairs(before, w, -counts[w], pairCounts, wordsWithPair);
                int[] after = applyMerge(before, left, right, merged);
                words.set(w, after);
                countPairs(after, w, counts[w], pairCounts, wordsWithPair);
            }
        }
        return merges;
    }

    private static void countPairs(int[] symbols, int word, long delta, Map<Long, Long> pairCounts,
                                   Map<Long, Set<Integer>> wordsWithPair) {
        for (int i = 0; i + 1 < symbols.length; i++) {
            long pair = ((long) symbols[i] << 32) | symbols[i + 1];
            long c = pairCounts.merge(pair, delta, Long::sum);
            if (c == 0) {
                pairCounts.remove(pair);
            }
            if (delta > 0) {
                wordsWithPair.computeIfAbsent(pair, k -> new HashSet<>()).add(word);
            }
        }
    }

    private static int[] applyMerge(int[] symbols, int left, int right, int merged) {
        IntList out = new IntList(symbols.length);
        for (int i = 0; i < symbols.length; i++) {
            if (i + 1 < symbols.length && symbols[i] == left && symbols[i + 1] == right) {
                out.add(merged);
                i++;
            } else {
                out.add(symbols[i]);
            }
        }
        return out.toArray();
    }

    private static void write(Path file, List<String> vocab, List<int[]> merges, List<String> specialTokens) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < specialTokens.size(); i++) {
            ObjectNode t = added.addObject();
            t.put("id", vocab.size() + i);
            t.put("content", specialTokens.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(mapper, true));
        root.set("post_processor", byteLevel(mapper, false));
        root.set("decoder", byteLevel(mapper, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) {
            v.put(vocab.get(i), i);
        }
        ArrayNode m = model.putArray("merges");
        for (int[] merge : merges) {
            m.addArray().add(vocab.get(merge[0])).add(vocab.get(merge[1]));
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            mapper.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static ObjectNode byteLevel(ObjectMapper mapper, boolean useRegex) {
        ObjectNode n = mapper.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", false);
        n.put("trim_offsets", true);
        n.put("use_regex", useRegex);
        return n;
    }
}
