package org.retroinfer.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The expected values were printed by tools/train-tiny/rng.py (and tasks.uuid4) for the same seeds. */
class SplitMix64Test {
    @Test
    void drawsTheSameNumbersAsTheTrainingToolsRng() {
        SplitMix64 rng = new SplitMix64(0);
        assertEquals(0xe220a8397b1dcdafL, rng.next());
        assertEquals(0x6e789e6aa1b965f4L, rng.next());
        assertEquals(0x06c45d188009454fL, rng.next());

        SplitMix64 bounded = new SplitMix64(0xfedcba9876543210L);
        List<Long> below = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            below.add(bounded.below(7L));
        }
        assertEquals(List.of(2L, 6L, 3L, 3L, 5L), below);
        assertEquals(6892089L, bounded.between(1_000_000, 9_999_999));
        assertEquals(List.of(4, 9, 6, 8), bounded.distinct(10, 4));

        List<Integer> items = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));
        new SplitMix64(42).shuffle(items);
        assertEquals(List.of(3, 1, 6, 2, 4, 0, 7, 5), items);

        SplitMix64 uuids = new SplitMix64(7);
        assertEquals("63cbe1e4-5932-4dd7-844c-3cd7f43c661c", uuids.uuid4());
        assertEquals("e6984080-bab1-4a02-953a-eb70673e29cb", uuids.uuid4());
    }

    @Test
    void derivesTheHeldOutSeedsOfTheTrainingTools() {
        assertEquals(0x80566898cb2c7076L, SplitMix64.deriveSeed(5, "heldout/niah_single_1/8192/0"));
    }

    @Test
    void belowStaysInRangeAndReachesEveryValue() {
        long seed = new Random().nextLong();
        System.out.println("seed " + seed);
        SplitMix64 rng = new SplitMix64(seed);
        for (long n : new long[] {1, 2, 3, 257, 322, 1L << 40, Long.MAX_VALUE}) {
            for (int i = 0; i < 1000; i++) {
                long x = rng.below(n);
                assertTrue(x >= 0 && x < n, x + " not below " + n);
            }
        }
        HashSet<Long> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            seen.add(rng.between(-3, 3));
        }
        assertEquals(7, seen.size(), "between(-3, 3) reaches all seven values");
    }
}
