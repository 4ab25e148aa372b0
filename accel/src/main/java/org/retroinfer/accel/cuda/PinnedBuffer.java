package org.retroinfer.accel.cuda;

import java.lang.foreign.MemorySegment;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.I8Array;
import org.retroinfer.accel.kernel.MemoryRegion;

/**
 * Page-locked host memory, portable and mapped: from {@code cuMemHostAlloc}, or for large buffers huge pages
 * registered with the driver ({@link Source}). The {@link #asF32()} style views
 * are {@link org.retroinfer.accel.kernel.MemoryKind#PINNED_HOST}: the host reads and writes them, and copies
 * to and from the device run asynchronously at full PCIe speed. The {@link #mapped()} region is the same
 * memory as seen by kernels (zero-copy reads over PCIe, for data touched once).
 */
public final class PinnedBuffer implements AutoCloseable {
    /** Buffers from this size up come from {@link Source#HUGE_PAGES} by default: smaller ones would waste most of a page. */
    public static final long HUGE_PAGES_FROM = 64L << 20;

    /** Where the page-locked memory comes from. */
    public enum Source {
        /** {@code cuMemHostAlloc}: the driver zeroes and locks base pages on the calling thread. */
        DRIVER,
        /** {@link HugePages}, faulted in on all cores, then {@code cuMemHostRegister}. */
        HUGE_PAGES;

        /** The source for a buffer of {@code bytes}: huge pages from {@link #HUGE_PAGES_FROM} up. */
        static Source forSize(long bytes) {
            return bytes >= HUGE_PAGES_FROM ? HUGE_PAGES : DRIVER;
        }
    }

    private final Gpu gpu;
    /** The whole mapping of a {@link Source#HUGE_PAGES} buffer (whole huge pages), or null for the driver's memory. */
    private final MemorySegment hugePages;
    private final MemorySegment host;
    private final long deviceAddress;
    private boolean closed;

    PinnedBuffer(Gpu gpu, long bytes, Source source) {
        if (bytes < 1) {
            throw new IllegalArgumentException("a pinned buffer needs at least 1 byte, got " + bytes);
        }
        this.gpu = gpu;
        gpu.makeCurrent();
        if (source == Source.DRIVER) {
            this.hugePages = null;
            this.host = gpu.driver().hostAlloc(bytes);
        } else {
            this.hugePages = HugePages.map(bytes);
            try {
                gpu.driver().hostRegister(hugePages);
            } catch (RuntimeException e) {
                HugePages.unmap(hugePages);
                throw e;
            }
            this.host = hugePages.asSlice(0, bytes);
        }
        this.deviceAddress = gpu.driver().hostDevicePointer(host);
    }

    public Source source() {
        return hugePages == null ? Source.DRIVER : Source.HUGE_PAGES;
    }

    /** The host view: page-locked memory for asynchronous copies. */
    public MemoryRegion pinned() {
        checkOpen();
        return MemoryRegion.pinned(host);
    }

    /** The same bytes, visible to kernels at the mapped device address. */
    public MemoryRegion mapped() {
        checkOpen();
        return MemoryRegion.mapped(host, deviceAddress);
    }

    public long byteSize() {
        return host.byteSize();
    }

    public F32Array asF32() {
        return F32Array.view(pinned());
    }

    public F16Array asF16() {
        return F16Array.view(pinned());
    }

    public BF16Array asBF16() {
        return BF16Array.view(pinned());
    }

    public I32Array asI32() {
        return I32Array.view(pinned());
    }

    public I8Array asI8() {
        return I8Array.view(pinned());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("pinned buffer of " + host.byteSize() + " bytes is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            gpu.makeCurrent();
            if (hugePages == null) {
                gpu.driver().freeHost(host);
            } else {
                gpu.driver().hostUnregister(hugePages);
                HugePages.unmap(hugePages);
            }
            gpu.forget(this);
        }
    }
}
