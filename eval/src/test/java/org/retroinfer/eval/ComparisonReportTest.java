package org.retroinfer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RULER scoring of a comparison: task means, mode means over tasks, drops against full, merging runs. */
class ComparisonReportTest {
    private static final EvalReport.RunInfo RUN = new EvalReport.RunInfo("ruler", "m", "seeded", "cmd", "today", "cpu",
            2, "species", List.of(), "method");
    private static final ComparisonReport.ModeInfo FULL = new ComparisonReport.ModeInfo("full", "full", null, "full");
    private static final ComparisonReport.ModeInfo RETRO = new ComparisonReport.ModeInfo("retro", "retro", 0.018, "retro");
    private static final ComparisonReport.ModeInfo QUEST = new ComparisonReport.ModeInfo("quest", "quest", 0.018, "quest");

    private static SampleResult result(String mode, EvalTask task, int length, String seed, double matchAll) {
        return new SampleResult(task, length, 0, seed, mode, length, " 1.", " 1.", "1.", matchAll == 1, matchAll,
                matchAll > 0 ? 1 : 0, 2, 10, 1);
    }

    @Test
    void modesScoreTheMeanOverTasksOfTheMeanOverSamplesAndDropAgainstFull() {
        List<SampleResult> results = List.of(
                result("full", EvalTask.VT, 100, "a", 1), result("retro", EvalTask.VT, 100, "a", 0.6),
                result("full", EvalTask.VT, 100, "b", 1), result("retro", EvalTask.VT, 100, "b", 0.2),
                result("full", EvalTask.PASSKEY, 100, "c", 0), result("retro", EvalTask.PASSKEY, 100, "c", 1));
        ComparisonReport r = ComparisonReport.of(RUN, List.of(FULL, RETRO), results, Map.of(), true);
        // full: vt 100, passkey 0 -> 50; retro: vt 40, passkey 100 -> 70
        assertEquals(50, r.find("full", 100).score(), 1e-9);
        assertEquals(70, r.find("retro", 0).score(), 1e-9);
        assertEquals(20, r.find("retro", 100).dropVsFull(), 1e-9);
        assertNull(r.find("full", 0).dropVsFull());
        assertTrue(r.markdown().contains("| retro | 70.0 | **70.0** | +20.0 |"), r.markdown());
    }

    @Test
    void runsOfOtherModesOnTheSameSamplesMergeButOneModeTwiceIsRefused() {
        ComparisonReport a = ComparisonReport.of(RUN, List.of(FULL, RETRO), List.of(
                result("full", EvalTask.VT, 100, "a", 1), result("retro", EvalTask.VT, 100, "a", 0.5)), Map.of(), true);
        ComparisonReport b = ComparisonReport.of(RUN, List.of(QUEST), List.of(
                result("quest", EvalTask.VT, 100, "a", 0.75)), Map.of(), false);
        ComparisonReport merged = ComparisonReport.merge(List.of(a, b));
        assertEquals(List.of(FULL, RETRO, QUEST), merged.modes());
        assertEquals(-25, merged.find("quest", 100).dropVsFull(), 1e-9);
        assertTrue(!merged.complete());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ComparisonReport.merge(List.of(a, a)));
        assertTrue(e.getMessage().startsWith("two runs hold full results for vt 100 seed a"), e.getMessage());
    }
}
