package org.retroinfer.accel.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Work captured from a stream into a CUDA graph and instantiated: replaying it costs one launch, however
 * many kernels and copies it holds. Arguments and addresses are frozen at capture time.
 */
public final class CudaGraph implements AutoCloseable {
    /** {@code CU_STREAM_CAPTURE_MODE_RELAXED}: libraries such as cuBLAS may still allocate while we capture. */
    private static final int CAPTURE_MODE_RELAXED = 2;

    private final Gpu gpu;
    private MemorySegment graph;
    private MemorySegment exec;

    private CudaGraph(Gpu gpu, MemorySegment graph, MemorySegment exec) {
        this.gpu = gpu;
        this.graph = graph;
        this.exec = exec;
    }

    /** Records what {@code work} enqueues on {@code stream} (nothing runs during capture) and instantiates it. */
    public static CudaGraph capture(Gpu gpu, CudaStream stream, Runnable work) {
        gpu.makeCurrent();
        CudaDriver d = gpu.driver();
        d.beginCapture(stream.handle(), CAPTURE_MODE_RELAXED);
        MemorySegment graph;
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            try {
                d.destroyGraph(d.endCapture(stream.handle()));
            } catch (CudaException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        graph = d.endCapture(stream.handle());
        try {
            return new CudaGraph(gpu, graph, d.instantiateGraph(graph));
        } catch (CudaException e) {
            d.destroyGraph(graph);
            throw e;
        }
    }

    /** Enqueues one replay on {@code stream}. */
    public void launch(CudaStream stream) {
        if (exec == null) {
            throw new IllegalStateException("graph already closed");
        }
        gpu.driver().launchGraph(exec, stream.handle());
    }

    @Override
    public void close() {
        if (exec != null) {
            gpu.makeCurrent();
            gpu.driver().destroyGraphExec(exec);
            gpu.driver().destroyGraph(graph);
            exec = null;
            graph = null;
        }
    }
}
