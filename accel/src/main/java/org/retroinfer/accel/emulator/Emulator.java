package org.retroinfer.accel.emulator;

import java.time.Duration;
import java.util.List;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelLauncher;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.KernelParameter;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * Runs {@link org.retroinfer.accel.kernel.Kernel} methods on the CPU with the GPU's execution model, so
 * that every kernel can be unit-tested without a GPU: each block runs as one virtual thread per GPU
 * thread, with a real block barrier, per-block shared arrays and warp shuffles that need all 32 lanes.
 * Blocks run one after another (the GPU gives no order between blocks, so a correct kernel cannot tell).
 *
 * <p>Arguments are the kernel's parameters without the {@code KernelContext}; arrays must be host
 * accessible (Java arrays, or typed arrays in host, pinned or mapped memory).
 */
public final class Emulator implements KernelLauncher {
    private final Duration timeout;

    /** An emulator whose barriers and shuffles give up after 30 seconds (a deadlocked kernel). */
    public Emulator() {
        this(Duration.ofSeconds(30));
    }

    public Emulator(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        this.timeout = timeout;
    }

    /** Runs {@code kernel} over {@code grid}. */
    @Override
    public void launch(KernelMethod kernel, Grid grid, Object... arguments) {
        kernel.checkGrid(grid);
        Object[] checked = kernel.checkArguments(arguments);
        checkArrays(kernel, checked);
        for (int z = 0; z < grid.gridZ(); z++) {
            for (int y = 0; y < grid.gridY(); y++) {
                for (int x = 0; x < grid.gridX(); x++) {
                    new BlockRun(kernel, grid, x, y, z, timeout.toNanos()).run(checked);
                }
            }
        }
    }

    /** Runs the {@code @Kernel} method {@code name} of {@code owner} over {@code grid}. */
    public void launch(Class<?> owner, String name, Grid grid, Object... arguments) {
        launch(KernelMethod.of(owner, name), grid, arguments);
    }

    private static void checkArrays(KernelMethod kernel, Object[] args) {
        List<KernelParameter> params = kernel.arguments();
        for (int i = 0; i < args.length; i++) {
            KernelParameter p = params.get(i);
            Object a = args[i];
            switch (p.kind()) {
                case JAVA_ARRAY, TYPED_ARRAY -> {
                    if (!p.type().isInstance(a)) {
                        throw new IllegalArgumentException("argument for " + p.describe() + " of " + kernel.describe()
                                + " must be a " + p.type().getSimpleName() + ", got " + a.getClass().getSimpleName());
                    }
                    if (a instanceof TypedArray t && !t.kind().hostAccessible()) {
                        throw new IllegalArgumentException("argument for " + p.describe() + " of " + kernel.describe()
                                + " is " + t.describe() + "; the emulator runs on the CPU and needs host-accessible arrays");
                    }
                    if (a instanceof TypedArray t && !t.segment().isAccessibleBy(Thread.ofVirtual().unstarted(() -> {}))) {
                        throw new IllegalArgumentException("argument for " + p.describe() + " of " + kernel.describe()
                                + " belongs to a confined arena; the emulator runs every GPU thread as a Java thread,"
                                + " so allocate it from Arena.ofShared(), Arena.ofAuto() or Arena.global()");
                    }
                }
                default -> {
                }
            }
        }
    }
}
