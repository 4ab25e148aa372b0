package org.retroinfer.accel.cuda;

import java.lang.foreign.MemorySegment;

/** An ordered queue of GPU work ({@code CUstream}, non-blocking with respect to the legacy default stream). */
public final class CudaStream implements AutoCloseable {
    private static final int CU_STREAM_NON_BLOCKING = 1;

    private final Gpu gpu;
    private MemorySegment handle;

    CudaStream(Gpu gpu) {
        this.gpu = gpu;
        gpu.makeCurrent();
        this.handle = gpu.driver().createStream(CU_STREAM_NON_BLOCKING);
    }

    /** The {@code CUstream} (also a {@code cudaStream_t} for cuBLAS). */
    public MemorySegment handle() {
        if (handle == null) {
            throw new IllegalStateException("stream already closed");
        }
        return handle;
    }

    /** Blocks until everything queued so far has run; a kernel fault surfaces here. */
    public void synchronize() {
        gpu.makeCurrent();
        gpu.driver().synchronizeStream(handle());
    }

    /** Makes later work on this stream wait for {@code event} (recorded on any stream). */
    public void waitFor(CudaEvent event) {
        gpu.driver().streamWaitEvent(handle(), event.handle());
    }

    @Override
    public void close() {
        if (handle != null) {
            gpu.makeCurrent();
            gpu.driver().destroyStream(handle);
            handle = null;
            gpu.forget(this);
        }
    }
}
