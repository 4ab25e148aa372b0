package org.retroinfer.kvstore.retro;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClusterSizingTest {
    /** The worked values of spec §1.1's table. */
    @ParameterizedTest
    @CsvSource({
        "8192, 1, 512, 9, 119",
        "30000, 4, 1872, 34, 434",
        "60000, 7, 3752, 68, 870",
        "120000, 15, 7440, 134, 1726",
        "131072, 16, 8192, 147, 1901",
        "1024000, 125, 64000, 1152, 14848",
    })
    void promptSizingAndBudgetsMatchTheSpecTable(long tokens, int segments, int clusters, int retrieval, int estimation) {
        RetroConfig config = RetroConfig.defaults();
        ClusterSizing sizing = ClusterSizing.forPrompt(tokens, config);
        assertEquals(new ClusterSizing(segments, clusters), sizing);
        assertEquals(new ZoneBudget(retrieval, estimation), ZoneBudget.initial(clusters, config));
    }

    @Test
    void roundingIsHalfToEvenAsInPython() {
        RetroConfig config = RetroConfig.defaults();
        // round(12288 / 8192) = round(1.5) = 2 and round(20480 / 8192) = round(2.5) = 2.
        assertEquals(2, ClusterSizing.forPrompt(12288, config).segments());
        assertEquals(2, ClusterSizing.forPrompt(20480, config).segments());
        // round(100 / 16) = 6, then 8 (the smallest multiple of lcm(8, 1)).
        assertEquals(8, ClusterSizing.forPrompt(100, config).clusters());
        // 1092 / 16 = 68.25 → 68, halfway between 64 and 72: ties go down.
        assertEquals(64, ClusterSizing.forPrompt(1092, config).clusters());
    }

    @Test
    void anUpdateSegmentIsSixtyFourClustersAndGrowsTheBudgetsByOneAndFifteen() {
        RetroConfig config = RetroConfig.defaults();
        assertEquals(new ClusterSizing(1, 64), ClusterSizing.forUpdate(config));
        ZoneBudget budget = ZoneBudget.initial(512, config);
        assertEquals(new ZoneBudget(9 + 1, 119 + 15), budget.grownBy(64, config));
        assertEquals(new ZoneBudget(1, 15), ZoneBudget.NONE.grownBy(64, config), "a first update starts the index");
        RetroConfig noEstimation = config.withBudgets(0.018, 0);
        assertEquals(new ZoneBudget(10, 0), ZoneBudget.initial(512, noEstimation).grownBy(64, noEstimation));
    }
}
