package org.retroinfer.eval;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.retroinfer.model.tokenizer.Tokenizer;

/**
 * Scores greedy generations the way {@code tools/train-tiny/quality.py} does, so that the Java
 * engine's numbers compare with transformers': a sample is <em>exact</em> when the first generated
 * tokens are the answer's tokens and the next one ends the answer (end-of-sequence, or a token whose
 * text starts with a newline). quality.py measures it teacher-forced; for greedy decoding the two
 * are the same thing. Beside it, RULER's string-match scores over the prediction text (RULER commit
 * c3f5e3b, {@code eval/synthetic/constants.py}): {@code string_match_all} for the NIAH, variable
 * tracking and word-frequency tasks, {@code string_match_part} for QA.
 */
public final class Scorer {
    private static final Pattern CONTROL = Pattern.compile("[\\x00-\\x1f]");

    private final Tokenizer tokenizer;
    private final Set<Integer> eos;
    private final Set<Integer> stops;

    /** A scorer for a model's tokenizer and end-of-sequence tokens. */
    public Scorer(Tokenizer tokenizer, Set<Integer> eosTokens) {
        if (eosTokens.isEmpty()) {
            throw new IllegalArgumentException("the model names no end-of-sequence token, so no answer can end");
        }
        this.tokenizer = tokenizer;
        this.eos = Set.copyOf(eosTokens);
        Set<Integer> s = new HashSet<>(eosTokens);
        for (int id = 0; id < tokenizer.vocabularySize(); id++) {
            if (tokenizer.decode(new int[] {id}, false).startsWith("\n")) {
                s.add(id);
            }
        }
        this.stops = Set.copyOf(s);
    }

    /** The tokens that end an answer: end-of-sequence and every token whose text starts with a newline. */
    public Set<Integer> stopTokens() {
        return stops;
    }

    /** Scores the tokens greedy decoding generated after {@code sample}'s prompt. */
    public Score score(Sample sample, int[] generated) {
        int[] answer = tokenizer.encode(sample.answer(), false);
        boolean exact = generated.length > answer.length
                && Arrays.equals(generated, 0, answer.length, answer, 0, answer.length)
                && stops.contains(generated[answer.length]);
        String prediction = prediction(tokenizer.decode(withoutEos(generated), false));
        return new Score(prediction, exact, stringMatchAll(prediction, sample.references()),
                stringMatchPart(prediction, sample.references()));
    }

    /** The text up to its first newline, stripped (quality.py's _answer_text). */
    public static String prediction(String text) {
        int newline = text.indexOf('\n');
        return (newline < 0 ? text : text.substring(0, newline)).strip();
    }

    /** RULER's string_match_all for one prediction: the share of references it contains, ignoring case. */
    public static double stringMatchAll(String prediction, List<String> references) {
        String p = postprocess(prediction);
        return references.stream().filter(r -> p.contains(r.toLowerCase(Locale.ROOT))).count()
                / (double) references.size();
    }

    /** RULER's string_match_part for one prediction: 1 if it contains any reference, ignoring case. */
    public static double stringMatchPart(String prediction, List<String> references) {
        String p = postprocess(prediction);
        return references.stream().anyMatch(r -> p.contains(r.toLowerCase(Locale.ROOT))) ? 1 : 0;
    }

    /** RULER's postprocess_pred (strip, control characters to newlines, strip), lower-cased. */
    private static String postprocess(String prediction) {
        return CONTROL.matcher(prediction.strip()).replaceAll("\n").strip().toLowerCase(Locale.ROOT);
    }

    private int[] withoutEos(int[] tokens) {
        return Arrays.stream(tokens).filter(t -> !eos.contains(t)).toArray();
    }
}
