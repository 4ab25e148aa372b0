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
     * The block's shared array for the calling allocation site: every thread that allocates at the same site
     * (the same chain of calls from the kernel down to the allocate call) gets the same array, as on the GPU
     * where each inlined site is one {@code .shared} variable. {@code arrayType} is {@code float[].class},
     * {@code int[].class} or {@code short[].class}.
     */
    Object sharedArray(KernelContext thread, Class<?> arrayType, int length);

    /** Exchanges a 32-bit value inside the thread's warp; every lane of the warp must take part. */
    int shuffle(KernelContext thread, ShuffleMode mode, int value, int laneOrDelta);

    /**
     * Every lane of the thread's warp deposits {@code values} (the same length n in every lane) and gets all of them,
     * lane l's at {@code [l·n, (l + 1)·n)}: one exchange for a warp operation that reads many of the other lanes'
     * registers ({@link KernelContext#mmaBf16}), where shuffles would take one exchange a register. Every lane must
     * take part; the returned array is shared by the lanes and must not be written.
     */
    int[] gather(KernelContext thread, int[] values);
}
