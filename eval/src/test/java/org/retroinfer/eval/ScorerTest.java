package org.retroinfer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.retroinfer.model.tokenizer.Tokenizer;

class ScorerTest {
    private static final int EOS = 1;
    private static Tokenizer tokenizer;
    private static Scorer scorer;
    private static final Sample SAMPLE = new Sample(EvalTask.NIAH_SINGLE_1, 8192, 0, 7, 4, 100, 9, "prompt",
            " 9636045.", List.of("9636045"));

    @BeforeAll
    static void load() {
        tokenizer = Tokenizer.load(RetroTiny.DIR.resolve("tokenizer.json"));
        scorer = new Scorer(tokenizer, Set.of(EOS));
    }

    private static int[] tokens(String text, int... then) {
        return IntStream.concat(IntStream.of(tokenizer.encode(text, false)), IntStream.of(then)).toArray();
    }

    @Test
    void answerThenEndOfSequenceIsExact() {
        Score s = scorer.score(SAMPLE, tokens(" 9636045.", EOS));
        assertTrue(s.exact());
        assertEquals("9636045.", s.prediction());
        assertEquals(1.0, s.stringMatchAll());
        assertEquals(1.0, s.stringMatchPart());
    }

    @Test
    void answerThenANewlineTokenIsExact() {
        int[] newline = tokenizer.encode("\n\n", false);
        Score s = scorer.score(SAMPLE, tokens(" 9636045.", newline[0]));
        assertTrue(s.exact());
        assertEquals("9636045.", s.prediction());
    }

    @Test
    void answerFollowedByMoreTextOrLeftUnfinishedIsNotExact() {
        Score more = scorer.score(SAMPLE, tokens(" 9636045. The"));
        assertFalse(more.exact());
        assertEquals("9636045. The", more.prediction());
        assertEquals(1.0, more.stringMatchAll(), "the reference is still in the text");
        assertFalse(scorer.score(SAMPLE, tokens(" 9636045.")).exact(), "no token ended the answer");
        assertFalse(scorer.score(SAMPLE, tokens(" 963604", EOS)).exact());
    }

    @Test
    void anotherValueIsNotExactAndMatchesNoReference() {
        Score s = scorer.score(SAMPLE, tokens(" 968.", EOS));
        assertFalse(s.exact());
        assertEquals("968.", s.prediction());
        assertEquals(0.0, s.stringMatchAll());
        assertEquals(0.0, s.stringMatchPart());
    }

    @Test
    void stopTokensAreEndOfSequenceAndTokensStartingWithANewline() {
        Set<Integer> stops = scorer.stopTokens();
        assertTrue(stops.contains(EOS));
        assertTrue(stops.contains(tokenizer.encode("\n", false)[0]));
        assertFalse(stops.contains(tokenizer.encode(" 9", false)[0]));
        for (int id : stops) {
            assertTrue(id == EOS || tokenizer.decode(new int[] {id}, false).startsWith("\n"), "token " + id);
        }
    }

    @Test
    void rulerStringMatchAllCountsTheShareOfReferencesFoundIgnoringCase() {
        List<String> refs = List.of("abc", "DEF", "ghi");
        assertEquals(2 / 3.0, Scorer.stringMatchAll("xx ABC, def.", refs), 1e-12);
        assertEquals(1.0, Scorer.stringMatchPart("xx ABC, def.", refs));
        assertEquals(0.0, Scorer.stringMatchAll("nothing", refs));
        assertEquals(0.0, Scorer.stringMatchPart("nothing", refs));
        assertEquals(1.0, Scorer.stringMatchAll("a\u0001bc def ghi", List.of("def", "ghi")));
    }

    @Test
    void predictionIsTheFirstLineStripped() {
        assertEquals("1, 2, 3.", Scorer.prediction("  1, 2, 3. \nmore\n"));
        assertEquals("", Scorer.prediction("\nlater"));
    }
}
