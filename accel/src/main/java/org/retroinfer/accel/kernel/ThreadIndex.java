package org.retroinfer.accel.kernel;

/** Where one GPU thread sits: its block in the grid and its position inside the block. */
public record ThreadIndex(Grid grid, int groupX, int groupY, int groupZ, int localX, int localY, int localZ) {
    public ThreadIndex {
        check("groupX", groupX, grid.gridX());
        check("groupY", groupY, grid.gridY());
        check("groupZ", groupZ, grid.gridZ());
        check("localX", localX, grid.blockX());
        check("localY", localY, grid.blockY());
        check("localZ", localZ, grid.blockZ());
    }

    /** The thread's rank in its block, x fastest: the order in which CUDA forms warps. */
    public int linearLocalId() {
        return localX + grid.blockX() * (localY + grid.blockY() * localZ);
    }

    private static void check(String name, int value, int size) {
        if (value < 0 || value >= size) {
            throw new IllegalArgumentException(name + " must be in [0, " + size + "), got " + value);
        }
    }
}
