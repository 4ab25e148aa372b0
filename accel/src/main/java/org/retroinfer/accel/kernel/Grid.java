package org.retroinfer.accel.kernel;

/**
 * Launch geometry: a grid of {@code gridX × gridY × gridZ} blocks of {@code blockX × blockY × blockZ}
 * threads, with the CUDA limits checked up front so that a bad launch fails here with the value at
 * fault instead of as a driver error code.
 */
public record Grid(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ) {
    /** CUDA's limit on threads per block for every architecture this project targets. */
    public static final int MAX_THREADS_PER_BLOCK = 1024;

    public Grid {
        requireRange("gridX", gridX, Integer.MAX_VALUE);
        requireRange("gridY", gridY, 65_535);
        requireRange("gridZ", gridZ, 65_535);
        requireRange("blockX", blockX, 1024);
        requireRange("blockY", blockY, 1024);
        requireRange("blockZ", blockZ, 64);
        long threads = (long) blockX * blockY * blockZ;
        if (threads > MAX_THREADS_PER_BLOCK) {
            throw new IllegalArgumentException("a block may hold at most " + MAX_THREADS_PER_BLOCK
                    + " threads, got " + blockX + " x " + blockY + " x " + blockZ + " = " + threads);
        }
    }

    /** A one-dimensional grid of {@code blocks} blocks of {@code threadsPerBlock} threads. */
    public static Grid of(int blocks, int threadsPerBlock) {
        return new Grid(blocks, 1, 1, threadsPerBlock, 1, 1);
    }

    /** The smallest one-dimensional grid of {@code threadsPerBlock}-thread blocks with at least {@code threads} threads. */
    public static Grid covering(long threads, int threadsPerBlock) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        requireRange("threadsPerBlock", threadsPerBlock, MAX_THREADS_PER_BLOCK);
        long blocks = (threads + threadsPerBlock - 1) / threadsPerBlock;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(threads + " threads in blocks of " + threadsPerBlock
                    + " need " + blocks + " blocks, more than a grid's x dimension holds; use a grid-stride loop");
        }
        return of((int) blocks, threadsPerBlock);
    }

    public int threadsPerBlock() {
        return blockX * blockY * blockZ;
    }

    public long blockCount() {
        return (long) gridX * gridY * gridZ;
    }

    public long totalThreads() {
        return blockCount() * threadsPerBlock();
    }

    private static void requireRange(String name, int value, int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException(name + " must be in [1, " + max + "], got " + value);
        }
    }

    @Override
    public String toString() {
        return "grid(" + gridX + "," + gridY + "," + gridZ + ") block(" + blockX + "," + blockY + "," + blockZ + ")";
    }
}
