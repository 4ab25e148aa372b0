package org.retroinfer.accel.device;

import java.lang.foreign.MemorySegment;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelLauncher;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * Where kernels run and their arrays live: a CUDA GPU ({@link CudaDevice}) or the accel emulator on the CPU
 * ({@link EmulatedDevice}). Code that drives a sequence of kernels (a transformer's forward pass) is written once
 * against this interface, so the same host logic runs on a GPU in production and on the emulator in CI.
 *
 * <p>Work is ordered: every call runs after the calls before it, as on one CUDA stream, except {@link #branch} work,
 * which runs after the calls before the branch and beside the calls after it until a {@link #join}. Downloads wait for
 * the work before them. Arrays live until freed or until the device closes.
 */
public interface Device extends KernelLauncher, AutoCloseable {
    /** The device in words, for logs and reports. */
    String describe();

    /**
     * A device on the same GPU with a queue of its own: it shares this device's memory and compiled kernels, but its
     * work is not ordered with this device's, so the two run at once where the GPU has room (driven by one host thread
     * each: two micro-batches whose transfers and compute overlap). Arrays either one allocates may be used by both;
     * each frees its own. Closing the sibling frees what it allocated and its queue, not the GPU.
     */
    Device sibling();

    /**
     * Whether another device queues work on the same GPU now (this one or a {@link #sibling} of it is open beside it):
     * a kernel that leaves SMs to concurrent work only pays off then.
     */
    boolean sharesGpu();

    /** An uninitialised array of {@code length} elements of {@code type} (F32, F16, BF16 or I32). */
    TypedArray allocate(ElementType type, long length);

    default F32Array f32(long length) {
        return (F32Array) allocate(ElementType.F32, length);
    }

    default I32Array i32(long length) {
        return (I32Array) allocate(ElementType.I32, length);
    }

    default BF16Array bf16(long length) {
        return (BF16Array) allocate(ElementType.BF16, length);
    }

    default F16Array f16(long length) {
        return (F16Array) allocate(ElementType.F16, length);
    }

    /**
     * A host array the device copies to and from without staging (page-locked on a GPU), for the inputs and outputs
     * of steps that are captured and replayed ({@link #capture}): the host writes it, then a {@link #copy} enqueued in
     * the step moves what it holds at that moment. Freed by {@link #free} like device arrays.
     */
    TypedArray staging(ElementType type, long length);

    /**
     * A host array that kernels read and write directly (page-locked and mapped on a GPU: zero-copy over PCIe), for
     * data the host writes and a kernel touches once, such as the wave buffer's host store and its descriptors.
     */
    TypedArray mapped(ElementType type, long length);

    /**
     * Enqueues a copy of all of {@code source} into the start of {@code destination}, between a {@link #staging}
     * array and a device array in either direction, or between two device arrays. Unlike {@link #upload} it returns at
     * once and may be captured.
     */
    void copy(TypedArray source, TypedArray destination);

    /**
     * Enqueues the work {@code work} enqueues (launches, copies, fills) on this device's second queue: after everything
     * enqueued here before this call, but beside what is enqueued here after it, until {@link #join}. A few small kernels
     * whose results are needed later then run while a long one keeps the GPU's memory or PCIe link busy. Captures
     * ({@link #capture}) record the branch and its join as a fork and a join of the graph, and must join before they
     * end. A device with one queue (the emulator) runs {@code work} in order, which gives the same results.
     */
    void branch(Runnable work);

    /** Orders the work enqueued here next after all the {@link #branch} work so far. */
    void join();

    /**
     * Records the device work {@code work} enqueues (launches and {@link #copy copies}, nothing that waits) as a step
     * that {@link Replay#run} enqueues with the same arguments and addresses: a CUDA graph on a GPU, which costs one
     * launch however many kernels it holds. Nothing runs at capture; {@code work} must have no host-side effects
     * (the emulator replays by calling it again).
     */
    Replay capture(Runnable work);

    /** A captured step. */
    interface Replay extends AutoCloseable {
        /** Enqueues the step again. */
        void run();

        @Override
        void close();
    }

    /**
     * A point in the device's work: everything enqueued before it has finished when it is reached (a CUDA event on a
     * GPU). For profiling: {@link Mark#millisSince} after a {@link #synchronize}.
     */
    Mark mark();

    /** A recorded point in the device's work. */
    interface Mark extends AutoCloseable {
        /** Milliseconds of device time from {@code earlier} to this mark; both must have been reached. */
        double millisSince(Mark earlier);

        /**
         * Blocks the calling thread until the device has reached this mark: the host waits for one result (such as
         * the ids a kernel selected) while the work enqueued after the mark goes on.
         */
        void await();

        @Override
        void close();
    }

    /** Frees an array this device allocated; it must not be used afterwards. */
    void free(TypedArray array);

    /** Copies all of {@code host} into the start of {@code destination}; {@code host} may change once this returns. */
    void upload(MemorySegment host, TypedArray destination);

    /** Copies the start of {@code source} into all of {@code host}, after the work before it. */
    void download(TypedArray source, MemorySegment host);

    /** Sets every byte of {@code array} to {@code value} (0xFF: NaN poison for float arrays). */
    void fill(TypedArray array, byte value);

    /** Runs {@code kernel} over {@code grid}; {@code arguments} exclude the KernelContext. */
    @Override
    void launch(KernelMethod kernel, Grid grid, Object... arguments);

    /**
     * Enqueues {@code y = x wᵀ} through the platform's BLAS: {@code x} (rows × in) and {@code w} (out × in, as
     * PyTorch stores a linear layer's weights) row-major and of one 16-bit type, {@code y} (rows × out) row-major
     * float, the products summed in float. cuBLAS on a GPU, on this device's queue (and capturable); a loop on the
     * emulator, summing in order.
     */
    void blasLinear(TypedArray x, TypedArray w, F32Array y, int rows, int in, int out);

    /**
     * Whether {@link #blasLinear} can run here. On a GPU the first call loads cuBLAS; where the default library is
     * missing it says why in one warning and answers false (the caller keeps its own kernels), but a library the user
     * named that does not load is an error. Always true on the emulator.
     */
    boolean blasAvailable();

    /**
     * Asks the BLAS to size the grids of this device's following {@link #blasLinear} calls for {@code count}
     * multiprocessors (0: all), leaving the rest to a {@link #sibling}'s work; the emulator has none to leave.
     */
    void blasMultiprocessors(int count);

    /**
     * How many blocks of {@code blockSize} threads of {@code kernel} (as specialised for {@code arguments}) run at
     * once on the whole device: what one wave of a grid should hold.
     */
    int residentBlocks(KernelMethod kernel, int blockSize, Object... arguments);

    /** The device's streaming multiprocessors (the emulator counts one). */
    int multiprocessors();

    /** Waits for all work issued so far. */
    void synchronize();

    /** Bytes of device memory still free for allocation (on the GPU, as the driver reports it). */
    long freeBytes();

    /** Bytes of device memory this device has handed out and not freed. */
    long allocatedBytes();

    /**
     * The most {@link #allocatedBytes()} has been since the device opened or {@link #resetPeakAllocatedBytes()}: what a
     * run's transient scratch took at its height, which the allocation count after the run no longer shows.
     */
    long peakAllocatedBytes();

    /** Starts {@link #peakAllocatedBytes()} again from what is allocated now. */
    void resetPeakAllocatedBytes();

    /** Frees every array. */
    @Override
    void close();
}
