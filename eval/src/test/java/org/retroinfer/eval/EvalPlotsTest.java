package org.retroinfer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Which line of the budget plot a mode's point is drawn on. */
class EvalPlotsTest {
    private static ComparisonReport.ModeInfo mode(String name, String family, double budget) {
        return new ComparisonReport.ModeInfo(name, family, budget, "");
    }

    @Test
    void budgetLinesKeepClusterSizesAndEstimationBudgetsApart() {
        assertEquals("retro", EvalPlots.series(mode("retro", "retro", 0.018)));
        assertEquals("retro", EvalPlots.series(mode("retro 7.2%/23.2%", "retro", 0.072)));
        assertEquals("retro c4", EvalPlots.series(mode("retro 7.2%/23.2% c4", "retro", 0.072)));
        assertEquals("retro c8", EvalPlots.series(mode("retro c8", "retro", 0.018)));
        assertEquals("retro est 0% c4", EvalPlots.series(mode("retro 7.2%/0% c4", "retro", 0.072)));
        assertEquals("quest", EvalPlots.series(mode("quest 14.4%", "quest", 0.144)));
        assertEquals("streaming", EvalPlots.series(mode("streaming 28.8%", "streaming", 0.288)));
    }
}
