package org.retroinfer.eval.tasks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The {@code adjective-noun} keys of the needle tasks, from the training tools' own word lists
 * ({@code tools/train-tiny/words}, 257 adjectives × 322 nouns, packaged with this module). One key
 * in ten, by the CRC-32 of its UTF-8 bytes, is held out of training.
 */
public final class WordKeys {
    /** Which part of the key space a prompt draws from. */
    public enum Split {
        /** Keys the model was trained on. */
        TRAIN,
        /** Keys it never saw: the held-out tenth. */
        HELDOUT
    }

    private static final WordKeys LISTS = new WordKeys(read("adjectives.txt"), read("nouns.txt"));

    private final List<String> adjectives;
    private final List<String> nouns;

    private WordKeys(List<String> adjectives, List<String> nouns) {
        this.adjectives = adjectives;
        this.nouns = nouns;
    }

    public static WordKeys lists() {
        return LISTS;
    }

    public List<String> adjectives() {
        return adjectives;
    }

    public List<String> nouns() {
        return nouns;
    }

    public static Split split(String key) {
        CRC32 crc = new CRC32();
        crc.update(key.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() % 10 == 0 ? Split.HELDOUT : Split.TRAIN;
    }

    /** A key of the split not in {@code used}, drawn again until it is; added to {@code used}. */
    String draw(SplitMix64 rng, Split split, Set<String> used) {
        while (true) {
            String key = adjectives.get(rng.below(adjectives.size())) + "-" + nouns.get(rng.below(nouns.size()));
            if (split(key) == split && !used.contains(key)) {
                used.add(key);
                return key;
            }
        }
    }

    private static List<String> read(String name) {
        String resource = "words/" + name;
        try (InputStream in = WordKeys.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the word list " + resource + " is missing from the eval module's "
                        + "resources (it is built from tools/train-tiny/words)");
            }
            return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
                    .filter(w -> !w.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the word list " + resource, e);
        }
    }
}
