package org.retroinfer.accel.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GridTest {
    @Test
    void coveringRoundsTheBlockCountUp() {
        Grid g = Grid.covering(1000, 256);
        assertEquals(4, g.gridX());
        assertEquals(1024, g.totalThreads());
    }

    @Test
    void oversizedBlocksAreRejectedWithTheThreadCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Grid(1, 1, 1, 64, 32, 1));
        assertTrue(e.getMessage().contains("2048"), e.getMessage());
    }

    @Test
    void contextIdsFollowCudaConventions() {
        Grid g = new Grid(3, 2, 1, 64, 2, 1);
        KernelContext ctx = new KernelContext(new ThreadIndex(g, 2, 1, 0, 37, 1, 0), null);
        assertEquals(2 * 64 + 37, ctx.globalIdx);
        assertEquals(1 * 2 + 1, ctx.globalIdy);
        assertEquals(192, ctx.globalGroupSizeX);
        assertEquals((37 + 64) % 32, ctx.laneId);
        assertEquals((37 + 64) / 32, ctx.warpId);
    }
}
