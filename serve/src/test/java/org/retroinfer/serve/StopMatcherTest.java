package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopMatcherTest {
    @Test
    void aStopStringSplitAcrossPiecesIsNeverSentInPart() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("abc ", m.push("abc E"));
        assertEquals("", m.push("N"));
        assertEquals("", m.push("D and more"));
        assertTrue(m.stopped());
        assertEquals("", m.push("later"));
        assertEquals("", m.flush());
    }

    @Test
    void heldTextThatTurnsOutNotToBeAStopIsSentLater() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("x", m.push("xEN"));
        assertEquals("ENx", m.push("x"));
        assertEquals("", m.push("E"));
        assertFalse(m.stopped());
        assertEquals("E", m.flush(), "at the end, held text goes out");
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopMatcher m = new StopMatcher(List.of("world", "o w"));
        assertEquals("hell", m.push("hello world"));
        assertTrue(m.stopped());
    }

    @Test
    void withoutStopsEverythingPassesAtOnce() {
        StopMatcher m = new StopMatcher(List.of());
        assertEquals("any text", m.push("any text"));
        assertEquals("", m.flush());
    }
}
