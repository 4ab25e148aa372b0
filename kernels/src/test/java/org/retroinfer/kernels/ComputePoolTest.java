package org.retroinfer.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ComputePoolTest {
    @Test
    void everyIndexRunsExactlyOnceWithBoundariesOnGrains() {
        for (int n : new int[] {0, 1, 2, 3, 15, 16, 17, 100, 1001}) {
            for (int grain : new int[] {1, 3, 16, 2000}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                ComputePool.forRange(n, grain, (start, end) -> {
                    assertTrue(start % grain == 0 && (end % grain == 0 || end == n), start + ".." + end);
                    for (int i = start; i < end; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "n " + n + " grain " + grain + " index " + i);
                }
            }
        }
    }

    @Test
    void aFailureInAnyPartReachesTheCallerAfterEveryPartFinished() {
        int n = 64 * ComputePool.threads();
        for (int failingPart = 0; failingPart < ComputePool.threads(); failingPart++) {
            int failAt = failingPart * 64;
            AtomicInteger finished = new AtomicInteger();
            IllegalStateException thrown = new IllegalStateException("boom in part " + failingPart);
            IllegalStateException e = assertThrows(IllegalStateException.class, () ->
                    ComputePool.forRange(n, 64, (start, end) -> {
                        if (start == failAt) {
                            throw thrown;
                        }
                        sleep(20);
                        finished.incrementAndGet();
                    }));
            assertSame(thrown, e);
            assertEquals(ComputePool.threads() - 1, finished.get(), "forRange returned before the other parts finished");
        }
    }

    @Test
    void errorsPropagateAsThemselves() {
        AssertionError error = new AssertionError("bad");
        assertSame(error, assertThrows(AssertionError.class,
                () -> ComputePool.forRange(100, (start, end) -> {
                    throw error;
                })));
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        int outer = 4 * ComputePool.threads();
        AtomicInteger inner = new AtomicInteger();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int round = 0; round < 50; round++) {
                ComputePool.forRange(outer, (start, end) -> {
                    for (int i = start; i < end; i++) {
                        ComputePool.forRange(100, 10, (s, e) -> inner.addAndGet(e - s));
                    }
                });
            }
        });
        assertEquals(50 * outer * 100, inner.get());
    }

    @Test
    void invalidRangesAreRejected() {
        assertEquals("forRange needs n >= 0 and grain >= 1, got n = -1, grain = 1",
                assertThrows(IllegalArgumentException.class, () -> ComputePool.forRange(-1, (s, e) -> { })).getMessage());
        assertThrows(IllegalArgumentException.class, () -> ComputePool.forRange(10, 0, (s, e) -> { }));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
