package org.retroinfer.accel.kernel;

/**
 * Something that runs kernels: a device's queue, the emulator, or a GPU stream. Kernels that take several launches
 * (a multi-pass selection) enqueue them through one, so that a device, a GPU check and a test run the same sequence.
 */
@FunctionalInterface
public interface KernelLauncher {
    /** Runs {@code kernel} over {@code grid}; {@code arguments} exclude the KernelContext. */
    void launch(KernelMethod kernel, Grid grid, Object... arguments);
}
