package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyStepRecallTest {
    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = CopyStepRecall.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(rc), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void everyAnswerTokenGetsOneShareOfHeadsPerLayerForEachMode() {
        // past 1092 tokens, so that the prompt is indexed and retro is sparse
        String[] r = run(EvalCommandTest.RETRO_TINY.toString(), "niah_single_1", "1200", "0", "retro", "streaming");
        assertEquals("0", r[0], r[2]);
        String[] lines = r[1].split("\n");
        int answerTokens = Integer.parseInt(lines[0].replaceAll(".*\\((\\d+) tokens\\)$", "$1"));
        for (String mode : List.of("retro", "streaming")) {
            long rows = r[1].lines().dropWhile(l -> !l.startsWith(mode + ":")).skip(3)
                    .takeWhile(l -> l.startsWith("| ")).count();
            assertEquals(answerTokens, rows, r[1]);
        }
        r[1].lines().filter(l -> l.matches("\\| \\d+ \\|.*")).forEach(l -> {
            String[] cells = l.split("\\|");
            assertEquals(2 + 1 + 6, cells.length, l);
            for (int c = 3; c < cells.length; c++) {
                double share = Double.parseDouble(cells[c].strip());
                assertTrue(share >= 0 && share <= 1, l);
            }
        });
    }

    @Test
    void badArgumentsGetOneLineAndExitTwo() {
        String[] r = run(EvalCommandTest.RETRO_TINY.toString(), "no_such_task", "1200", "0");
        assertEquals("2", r[0]);
        assertTrue(r[2].startsWith("CopyStepRecall: MODEL must be") && r[2].strip().lines().count() == 1, r[2]);
    }
}
