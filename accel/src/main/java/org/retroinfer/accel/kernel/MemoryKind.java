package org.retroinfer.accel.kernel;

/** Where the bytes of a {@link MemoryRegion} live, which decides who may touch them. */
public enum MemoryKind {
    /** Ordinary host memory (heap or off-heap): host access only; copies from it are synchronous. */
    HOST(true, false),
    /** Page-locked host memory: host access, and asynchronous copies to and from the device. */
    PINNED_HOST(true, false),
    /** Page-locked host memory mapped into the device's address space: kernels read it over PCIe (zero-copy). */
    MAPPED_HOST(true, true),
    /** Device memory: kernels only; the host reaches it through copies. */
    DEVICE(false, true);

    private final boolean hostAccessible;
    private final boolean deviceAccessible;

    MemoryKind(boolean hostAccessible, boolean deviceAccessible) {
        this.hostAccessible = hostAccessible;
        this.deviceAccessible = deviceAccessible;
    }

    public boolean hostAccessible() {
        return hostAccessible;
    }

    public boolean deviceAccessible() {
        return deviceAccessible;
    }
}
