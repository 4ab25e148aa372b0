package org.retroinfer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.retroinfer.kvstore.retro.RetroConfig;

/** Which modes share a line of the budget plot: their series, read back from their names. */
class AttentionModeTest {
    @Test
    void seriesKeepClusterSizesAndEstimationBudgetsApart() {
        assertEquals("retro", AttentionMode.series("retro", "retro"));
        assertEquals("retro", AttentionMode.series("retro", "retro 7.2%/23.2%"));
        assertEquals("retro c4", AttentionMode.series("retro", "retro 7.2%/23.2% c4"));
        assertEquals("retro c8", AttentionMode.series("retro", "retro c8"));
        assertEquals("retro est 0% c4", AttentionMode.series("retro", "retro 7.2%/0% c4"));
        assertEquals("quest", AttentionMode.series("quest", "quest 14.4%"));
        assertEquals("streaming", AttentionMode.series("streaming", "streaming 28.8%"));
    }

    @Test
    void aRetroModesSeriesIsReadBackFromTheNameItWrites() {
        AttentionMode mode = new AttentionMode.Retro(RetroConfig.defaults().withBudgets(0.072, 0).withClusterSize(4));
        assertEquals("retro est 0% c4", AttentionMode.series(mode.family(), mode.name()));
    }
}
