package org.retroinfer.accel;

/**
 * How the GPU check sizes the grid of a grid-stride kernel: blocks of {@code blockSize} threads,
 * {@code waves} times as many as fit on the GPU at once ({@link org.retroinfer.accel.cuda.Gpu#streamingGrid}).
 */
record LaunchShape(int blockSize, int waves) {
    /**
     * The check's shape: one full wave of 256-thread blocks, the grid with which saxpy reached 92% of
     * cuMemcpyDtoD on the first H100 run. {@code GpuCheck --sweep} prints the best shape per kernel; change
     * this when it says another is faster.
     */
    static final LaunchShape DEFAULT = new LaunchShape(256, 1);

    LaunchShape {
        if (blockSize < 32 || blockSize > 1024 || blockSize % 32 != 0 || waves < 1) {
            throw new IllegalArgumentException("a launch shape needs a block size that is a multiple of 32 up to 1024"
                    + " and at least one wave; got " + blockSize + " threads, " + waves + " waves");
        }
    }

    @Override
    public String toString() {
        return "block " + blockSize + ", " + waves + (waves == 1 ? " wave" : " waves");
    }
}
