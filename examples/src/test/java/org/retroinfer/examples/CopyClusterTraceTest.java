package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyClusterTraceTest {
    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = CopyClusterTrace.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(rc), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void everyAnswerStepOfEveryHeadIsPlacedInExactlyOneZone() {
        // past 1092 tokens, so that the prompt is indexed and retro is sparse
        String[] r = run(EvalCommandTest.RETRO_TINY.toString(), "niah_single_1", "1200", "0");
        assertEquals("0", r[0], r[2]);
        int answerTokens = Integer.parseInt(r[1].lines().findFirst().orElseThrow().replaceAll(".*\\((\\d+) tokens\\).*", "$1"));
        List<String> summary = r[1].lines().filter(l -> l.matches("\\| \\d+ \\| \\d+ \\| \\d+ \\|.*")).toList();
        assertEquals(6 * 4, summary.size(), r[1]);
        for (String row : summary) {
            String[] cells = row.split("\\|");
            int placed = 0;
            for (int c = 3; c <= 6; c++) {
                placed += Integer.parseInt(cells[c].strip());
            }
            assertEquals(answerTokens, placed, row);
        }
    }

    @Test
    void badArgumentsGetOneLineAndExitTwo() {
        String[] r = run(EvalCommandTest.RETRO_TINY.toString(), "niah_single_1", "1200", "0", "two");
        assertEquals("2", r[0]);
        assertTrue(r[2].startsWith("usage: CopyClusterTrace") && r[2].strip().lines().count() == 1, r[2]);
    }
}
