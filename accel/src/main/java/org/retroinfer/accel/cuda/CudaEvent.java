package org.retroinfer.accel.cuda;

import java.lang.foreign.MemorySegment;

/** A marker in a stream, for timing ({@link #millisSince}) and for ordering streams ({@link CudaStream#waitFor}). */
public final class CudaEvent implements AutoCloseable {
    private static final int CU_EVENT_DEFAULT = 0;

    private final Gpu gpu;
    private MemorySegment handle;

    CudaEvent(Gpu gpu) {
        this.gpu = gpu;
        gpu.makeCurrent();
        this.handle = gpu.driver().createEvent(CU_EVENT_DEFAULT);
    }

    MemorySegment handle() {
        if (handle == null) {
            throw new IllegalStateException("event already closed");
        }
        return handle;
    }

    /** Marks the current end of {@code stream}. */
    public void record(CudaStream stream) {
        gpu.driver().recordEvent(handle(), stream.handle());
    }

    public void synchronize() {
        gpu.driver().synchronizeEvent(handle());
    }

    /** Milliseconds of GPU time from {@code start} to this event (both recorded; waits for this one). */
    public float millisSince(CudaEvent start) {
        synchronize();
        return gpu.driver().elapsedMillis(start.handle(), handle());
    }

    @Override
    public void close() {
        if (handle != null) {
            gpu.makeCurrent();
            gpu.driver().destroyEvent(handle);
            handle = null;
            gpu.forget(this);
        }
    }
}
