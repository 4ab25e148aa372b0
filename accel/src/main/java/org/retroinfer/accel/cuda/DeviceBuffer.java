package org.retroinfer.accel.cuda;

import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.I8Array;
import org.retroinfer.accel.kernel.MemoryRegion;

/**
 * Device memory ({@code cuMemAlloc}): stays resident across launches until closed. The typed views are
 * what kernels take; they cannot be read on the host (copy them to a host or pinned array).
 */
public final class DeviceBuffer implements AutoCloseable {
    private final Gpu gpu;
    private final MemoryRegion region;
    private boolean closed;

    DeviceBuffer(Gpu gpu, long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("a device buffer needs at least 1 byte, got " + bytes);
        }
        this.gpu = gpu;
        gpu.makeCurrent();
        this.region = MemoryRegion.device(gpu.driver().malloc(bytes), bytes);
    }

    public MemoryRegion region() {
        checkOpen();
        return region;
    }

    public long byteSize() {
        return region.byteSize();
    }

    public F32Array asF32() {
        return F32Array.view(region());
    }

    public F16Array asF16() {
        return F16Array.view(region());
    }

    public BF16Array asBF16() {
        return BF16Array.view(region());
    }

    public I32Array asI32() {
        return I32Array.view(region());
    }

    public I8Array asI8() {
        return I8Array.view(region());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("device buffer of " + region.byteSize() + " bytes is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            gpu.makeCurrent();
            gpu.driver().free(region.deviceAddress());
            gpu.forget(this);
        }
    }
}
