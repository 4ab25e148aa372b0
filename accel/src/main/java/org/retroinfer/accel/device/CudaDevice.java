package org.retroinfer.accel.device;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.CudaEvent;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.CudaGraph;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.PinnedBuffer;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.MemoryKind;
import org.retroinfer.accel.kernel.MemoryRegion;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Device} on one CUDA GPU: device memory, a stream (and a second one for {@link #branch} work, made when first
 * needed), kernels compiled to PTX on first launch.
 */
public final class CudaDevice implements Device {
    private static final Logger LOG = LoggerFactory.getLogger(CudaDevice.class);
    private final Gpu gpu;
    private final CudaStream stream;
    /** The branch's stream and the events that fork it from and join it to {@link #stream}; null until a first branch. */
    private CudaStream side;
    private CudaEvent forked, joined;
    /** Where work is enqueued now: {@link #stream}, or {@link #side} while a branch's work is enqueued. */
    private CudaStream current;
    /** Whether branch work was enqueued since the last join. */
    private boolean branched;
    private final Map<Long, DeviceBuffer> buffers = new HashMap<>();
    /** Staging arrays by host address. */
    private final Map<Long, PinnedBuffer> pinned = new HashMap<>();
    private final AllocatedBytes allocated = new AllocatedBytes();
    /** This device's cuBLAS handle (bound to one stream at a time, so one a device), made on first use. */
    private Cublas blas;
    /** Why cuBLAS did not load here, or null where it did or was not tried yet. */
    private String blasMissing;
    /** Whether closing this device closes the GPU (false for a {@link #sibling}). */
    private final boolean ownsGpu;
    /** Devices open on this GPU: this one and its siblings. */
    private final java.util.concurrent.atomic.AtomicInteger open;

    /** Takes ownership of {@code gpu}: closing the device closes it. */
    public CudaDevice(Gpu gpu) {
        this(gpu, true, new java.util.concurrent.atomic.AtomicInteger());
    }

    private CudaDevice(Gpu gpu, boolean ownsGpu, java.util.concurrent.atomic.AtomicInteger open) {
        this.gpu = gpu;
        this.ownsGpu = ownsGpu;
        this.open = open;
        this.stream = gpu.createStream();
        this.current = stream;
        open.incrementAndGet();
    }

    /** A device on the same GPU (context, memory, loaded kernels) with a stream of its own. */
    @Override
    public CudaDevice sibling() {
        return new CudaDevice(gpu, false, open);
    }

    @Override
    public boolean sharesGpu() {
        return open.get() > 1;
    }

    public Gpu gpu() {
        return gpu;
    }

    public CudaStream stream() {
        return stream;
    }

    @Override
    public String describe() {
        return gpu.info().toString();
    }

    @Override
    public TypedArray allocate(ElementType type, long length) {
        long bytes = Math.multiplyExact(length, (long) type.bytes());
        DeviceBuffer buffer = gpu.allocate(Math.max(bytes, 16));
        allocated.add(buffer.byteSize());
        buffers.put(buffer.region().deviceAddress(), buffer);
        // at least 16 bytes, so that even an empty array has an address; the view is exactly length long
        return switch (type) {
            case F32 -> buffer.asF32().slice(0, length);
            case F16 -> buffer.asF16().slice(0, length);
            case BF16 -> buffer.asBF16().slice(0, length);
            case I32 -> buffer.asI32().slice(0, length);
            default -> throw new IllegalArgumentException("no device arrays of " + type);
        };
    }

    @Override
    public TypedArray staging(ElementType type, long length) {
        PinnedBuffer buffer = gpu.allocatePinned(Math.max(Math.multiplyExact(length, (long) type.bytes()), 16));
        pinned.put(buffer.asI8().segment().address(), buffer);
        return switch (type) {
            case F32 -> buffer.asF32().slice(0, length);
            case F16 -> buffer.asF16().slice(0, length);
            case BF16 -> buffer.asBF16().slice(0, length);
            case I32 -> buffer.asI32().slice(0, length);
            default -> throw new IllegalArgumentException("no staging arrays of " + type);
        };
    }

    @Override
    public TypedArray mapped(ElementType type, long length) {
        PinnedBuffer buffer = gpu.allocatePinned(Math.max(Math.multiplyExact(length, (long) type.bytes()), 16));
        pinned.put(buffer.asI8().segment().address(), buffer);
        MemoryRegion region = buffer.mapped().slice(0, length * type.bytes());
        return switch (type) {
            case F32 -> F32Array.view(region);
            case F16 -> F16Array.view(region);
            case BF16 -> BF16Array.view(region);
            case I32 -> I32Array.view(region);
            default -> throw new IllegalArgumentException("no mapped arrays of " + type);
        };
    }

    @Override
    public void copy(TypedArray source, TypedArray destination) {
        for (TypedArray a : new TypedArray[] {source, destination}) {
            if (a.kind() == MemoryKind.HOST) {
                throw new IllegalArgumentException(a.describe() + " is pageable host memory; enqueued copies need staging arrays");
            }
        }
        gpu.copy(source, destination, current);
    }

    @Override
    public Replay capture(Runnable work) {
        CudaGraph graph = CudaGraph.capture(gpu, stream, work);
        return new Replay() {
            @Override
            public void run() {
                graph.launch(stream);
            }

            @Override
            public void close() {
                graph.close();
            }
        };
    }

    @Override
    public void branch(Runnable work) {
        if (current != stream) {
            throw new IllegalStateException("branch() inside branch work");
        }
        if (side == null) {
            side = gpu.createStream();
            forked = gpu.createEvent();
            joined = gpu.createEvent();
        }
        // a stream waits for an event as last recorded when it is told to, so the two events serve every branch
        forked.record(stream);
        side.waitFor(forked);
        current = side;
        try {
            work.run();
        } finally {
            current = stream;
        }
        branched = true;
    }

    @Override
    public void join() {
        if (branched) {
            joined.record(side);
            stream.waitFor(joined);
            branched = false;
        }
    }

    @Override
    public Mark mark() {
        CudaEvent event = gpu.createEvent();
        event.record(current);
        return new EventMark(event);
    }

    /** A CUDA event recorded on the device's stream. */
    private record EventMark(CudaEvent event) implements Mark {
        @Override
        public double millisSince(Mark earlier) {
            return event.millisSince(((EventMark) earlier).event);
        }

        @Override
        public void await() {
            event.synchronize();
        }

        @Override
        public void close() {
            event.close();
        }
    }

    @Override
    public void free(TypedArray array) {
        if (array.kind() == MemoryKind.PINNED_HOST || array.kind() == MemoryKind.MAPPED_HOST) {
            PinnedBuffer buffer = pinned.remove(array.segment().address());
            if (buffer == null) {
                throw new IllegalArgumentException(array.describe() + " is not a staging array of this device, or is freed already");
            }
            finish();
            buffer.close();
            return;
        }
        DeviceBuffer buffer = buffers.remove(array.deviceAddress());
        if (buffer == null) {
            throw new IllegalArgumentException(array.describe() + " is not an array this device allocated, or is freed already");
        }
        finish(); // work queued before the free may still read it
        allocated.remove(buffer.byteSize());
        buffer.close();
    }

    @Override
    public void upload(MemorySegment host, TypedArray destination) {
        gpu.copy(host, destination, current);
    }

    @Override
    public void download(TypedArray source, MemorySegment host) {
        gpu.copy(source, host, current);
    }

    @Override
    public void fill(TypedArray array, byte value) {
        gpu.fill(array, value, current);
    }

    @Override
    public void launch(KernelMethod kernel, Grid grid, Object... arguments) {
        gpu.launch(kernel, grid, current, arguments);
    }

    /**
     * cuBLAS's GEMM on the stream work goes to now. Its handle is made by the first call, which must not be inside a
     * capture (it allocates); steps run eagerly before they are captured.
     */
    @Override
    public void blasLinear(TypedArray x, TypedArray w, F32Array y, int rows, int in, int out) {
        blas().linear(current, rows, in, out, x, w, y);
    }

    @Override
    public boolean blasAvailable() {
        if (blas == null && blasMissing == null) {
            try {
                blas = Cublas.create(gpu);
            } catch (CudaException e) {
                if (Cublas.libraryOverride() != null) {
                    throw e;
                }
                blasMissing = e.getMessage();
                LOG.warn("{}; linear layers past 16 rows keep the project's tensor-core kernels", blasMissing);
            }
        }
        return blas != null;
    }

    @Override
    public void blasMultiprocessors(int count) {
        blas().smCountTarget(count);
    }

    private Cublas blas() {
        if (blas == null) {
            blas = Cublas.create(gpu);
        }
        return blas;
    }

    @Override
    public int residentBlocks(KernelMethod kernel, int blockSize, Object... arguments) {
        int perSm = gpu.maxActiveBlocksPerMultiprocessor(gpu.load(kernel, arguments), blockSize);
        return Math.max(1, perSm) * gpu.info().multiprocessors();
    }

    @Override
    public int multiprocessors() {
        return gpu.info().multiprocessors();
    }

    @Override
    public void synchronize() {
        finish();
    }

    /** Waits for the work of both streams. */
    private void finish() {
        stream.synchronize();
        if (side != null) {
            side.synchronize();
        }
    }

    @Override
    public long freeBytes() {
        gpu.makeCurrent();
        return gpu.driver().memoryInfo()[0];
    }

    @Override
    public long allocatedBytes() {
        return allocated.now();
    }

    @Override
    public long peakAllocatedBytes() {
        return allocated.peak();
    }

    @Override
    public void resetPeakAllocatedBytes() {
        allocated.resetPeak();
    }

    @Override
    public void close() {
        open.decrementAndGet();
        if (blas != null) {
            blas.close();
            blas = null;
        }
        if (ownsGpu) {
            gpu.close();
            return;
        }
        finish();
        buffers.values().forEach(DeviceBuffer::close);
        pinned.values().forEach(PinnedBuffer::close);
        buffers.clear();
        pinned.clear();
        allocated.clear();
        if (side != null) {
            forked.close();
            joined.close();
            side.close();
        }
        stream.close();
    }
}
