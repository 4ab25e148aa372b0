package org.retroinfer.kvstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TopKTest {
    @Test
    void theLargestKKeysEndUpInFront() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + random.nextInt(trial < 100 ? 12 : 3000);
            int k = random.nextInt(n + 1);
            // Few distinct high parts, as scores that tie, made distinct by their low (id) part.
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                keys[i] = ((long) random.nextInt(5) << 32) | i;
            }
            long[] sorted = keys.clone();
            Arrays.sort(sorted);
            TopK.select(keys, n, k);
            long[] front = Arrays.copyOf(keys, k);
            Arrays.sort(front);
            assertArrayEquals(Arrays.copyOfRange(sorted, n - k, n), front, "n " + n + " k " + k + " (seed " + seed + ")");
        }
    }

    @Test
    void askingForMoreThanThereIsIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> TopK.select(new long[3], 3, 4));
    }
}
