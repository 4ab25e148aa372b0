package org.retroinfer.accel.kernel;

/**
 * What a thread needs from whoever runs its block on the CPU: barriers, the block's shared arrays and
 * warp exchanges. The CPU emulator implements it; on the GPU the compiler replaces the
 * {@link KernelContext} calls that use it by {@code bar.sync}, {@code .shared} arrays and
 * {@code shfl.sync}, so kernels never call it directly.
 */
public interface BlockScope {
    /** Waits until every thread of the block that has not returned reaches the barrier. */
    void barrier(KernelContext thread);

    /**
     * The block's {@code ordinal}-th shared array (the n-th allocate call of each thread returns the same
     * array); {@code arrayType} is {@code float[].class}, {@code int[].class} or {@code short[].class}.
     */
    Object sharedArray(KernelContext thread, int ordinal, Class<?> arrayType, int length);

    /** Exchanges a 32-bit value inside the thread's warp; every lane of the warp must take part. */
    int shuffle(KernelContext thread, ShuffleMode mode, int value, int laneOrDelta);
}
