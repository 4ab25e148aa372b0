package org.retroinfer.accel.device;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * A {@link Device} on the CPU: arrays in off-heap host memory, kernels run by the accel {@link Emulator} (real
 * barriers and shuffles, Java float semantics). Slow, and exact about what a kernel reads and writes: tests run
 * the GPU code paths on it. New arrays are filled with 0xFF bytes (NaN), so a read of an unwritten element shows.
 */
public final class EmulatedDevice implements Device {
    /** Blocks the emulator pretends run at once: what split-count heuristics size a wave by. */
    public static final int RESIDENT_BLOCKS = 16;
    /** Memory the emulator offers: off-heap host memory, kept small because emulated kernels are slow anyway. */
    public static final long MEMORY_BYTES = 1L << 30;

    /** Each array in an arena of its own, so that it can be freed alone. */
    private final Map<Long, Arena> arenas = new HashMap<>();
    private final Emulator emulator = new Emulator();
    /** Whether branch work was enqueued since the last join, and whether a branch's work is being enqueued now. */
    private boolean branched, inBranch;
    /** The calls of the capture in progress, or null. */
    private java.util.List<Runnable> recording;
    private final AllocatedBytes allocated = new AllocatedBytes();

    @Override
    public String describe() {
        return "the accel emulator on the CPU";
    }

    /** Devices open together: this one and its siblings. */
    private final java.util.concurrent.atomic.AtomicInteger open;

    public EmulatedDevice() {
        this(new java.util.concurrent.atomic.AtomicInteger());
    }

    private EmulatedDevice(java.util.concurrent.atomic.AtomicInteger open) {
        this.open = open;
        open.incrementAndGet();
    }

    /** Another emulator: host memory is shared anyway, and each emulator runs its launches on its caller's thread. */
    @Override
    public EmulatedDevice sibling() {
        return new EmulatedDevice(open);
    }

    @Override
    public boolean sharesGpu() {
        return open.get() > 1;
    }

    @Override
    public TypedArray allocate(ElementType type, long length) {
        Arena arena = Arena.ofShared();
        TypedArray array = switch (type) {
            case F32 -> F32Array.allocate(arena, length);
            case F16 -> F16Array.allocate(arena, length);
            case BF16 -> BF16Array.allocate(arena, length);
            case I32 -> I32Array.allocate(arena, length);
            default -> throw new IllegalArgumentException("no emulated arrays of " + type);
        };
        array.segment().fill((byte) 0xFF);
        allocated.add(array.byteSize());
        arenas.put(array.segment().address(), arena);
        return array;
    }

    /** Mapped arrays are host arrays like every emulated array. */
    @Override
    public TypedArray mapped(ElementType type, long length) {
        return allocate(type, length);
    }

    /** Staging arrays are host arrays like every emulated array. */
    @Override
    public TypedArray staging(ElementType type, long length) {
        return allocate(type, length);
    }

    @Override
    public void copy(TypedArray source, TypedArray destination) {
        if (destination.byteSize() < source.byteSize()) {
            throw new IllegalArgumentException("cannot copy " + source.describe() + " into the smaller " + destination.describe());
        }
        enqueue(() -> MemorySegment.copy(source.segment(), 0, destination.segment(), 0, source.byteSize()));
    }

    /**
     * As on a GPU, nothing runs at capture: the launches and copies that {@code work} enqueues are recorded with the
     * arguments they have then, and each replay runs them again, without {@code work}'s host code, so that host work a
     * captured step relies on (bookkeeping, arrays written between launches) shows as a wrong result here too. A
     * download, upload, fill, free or synchronisation inside a capture is refused, as the driver refuses it.
     */
    @Override
    public Replay capture(Runnable work) {
        if (recording != null) {
            throw new IllegalStateException("a capture is already in progress");
        }
        java.util.List<Runnable> calls = new java.util.ArrayList<>();
        recording = calls;
        try {
            work.run();
            if (branched) {
                throw new IllegalStateException("a capture ended with branch work not joined: join() before the capture ends");
            }
        } finally {
            recording = null;
            branched = false;
        }
        return new Replay() {
            @Override
            public void run() {
                calls.forEach(Runnable::run);
            }

            @Override
            public void close() {}
        };
    }

    /**
     * Runs {@code work}'s calls in order, as one queue does; remembers that a join is owed, so that a capture that ends
     * without one fails here as it fails on a GPU.
     */
    @Override
    public void branch(Runnable work) {
        if (inBranch) {
            throw new IllegalStateException("branch() inside branch work");
        }
        inBranch = true;
        try {
            work.run();
        } finally {
            inBranch = false;
        }
        branched = true;
    }

    @Override
    public void join() {
        branched = false;
    }

    /** Runs {@code call} now, or records it where a capture is in progress. */
    private void enqueue(Runnable call) {
        if (recording != null) {
            recording.add(call);
        } else {
            call.run();
        }
    }

    /** Refuses {@code what} inside a capture. */
    private void notCapturing(String what) {
        if (recording != null) {
            throw new IllegalStateException(what + " inside a capture: a CUDA graph records only enqueued launches and copies");
        }
    }

    /** Emulated work runs when it is enqueued, so a mark is the host's clock at that moment. */
    @Override
    public Mark mark() {
        return new ClockMark(System.nanoTime());
    }

    private record ClockMark(long nanos) implements Mark {
        @Override
        public double millisSince(Mark earlier) {
            return (nanos - ((ClockMark) earlier).nanos) / 1e6;
        }

        /** Emulated work has run by the time it is enqueued: nothing to wait for. */
        @Override
        public void await() {}

        @Override
        public void close() {}
    }

    @Override
    public void free(TypedArray array) {
        notCapturing("a free");
        Arena arena = arenas.remove(array.segment().address());
        if (arena == null) {
            throw new IllegalArgumentException(array.describe() + " is not an array this device allocated, or is freed already");
        }
        allocated.remove(array.byteSize());
        arena.close();
    }

    @Override
    public void upload(MemorySegment host, TypedArray destination) {
        notCapturing("an upload");
        check(host.byteSize(), destination);
        MemorySegment.copy(host, 0, destination.segment(), 0, host.byteSize());
    }

    @Override
    public void download(TypedArray source, MemorySegment host) {
        notCapturing("a download");
        check(host.byteSize(), source);
        MemorySegment.copy(source.segment(), 0, host, 0, host.byteSize());
    }

    private static void check(long bytes, TypedArray array) {
        if (bytes > array.byteSize()) {
            throw new IllegalArgumentException("cannot copy " + bytes + " bytes to or from " + array.describe());
        }
    }

    @Override
    public void fill(TypedArray array, byte value) {
        enqueue(() -> array.segment().fill(value));
    }

    @Override
    public void launch(KernelMethod kernel, Grid grid, Object... arguments) {
        enqueue(() -> emulator.launch(kernel, grid, arguments));
    }

    /** Sums each output's products in float, in the order of the inputs (cuBLAS's order is its own). */
    @Override
    public void blasLinear(TypedArray x, TypedArray w, F32Array y, int rows, int in, int out) {
        if (!(x instanceof HalfPrecisionArray hx) || !(w instanceof HalfPrecisionArray hw) || x.elementType() != w.elementType()) {
            throw new IllegalArgumentException("blasLinear multiplies 16-bit x and w of one type, got " + x.describe() + " and "
                    + w.describe());
        }
        if (hx.length() < (long) rows * in || hw.length() < (long) out * in || y.length() < (long) rows * out) {
            throw new IllegalArgumentException("blasLinear of " + rows + " rows, " + in + " -> " + out + " needs larger arrays than "
                    + x.describe() + ", " + w.describe() + " and " + y.describe());
        }
        enqueue(() -> {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    float sum = 0;
                    for (int i = 0; i < in; i++) {
                        sum += hx.get((long) r * in + i) * hw.get((long) o * in + i);
                    }
                    y.set((long) r * out + o, sum);
                }
            }
        });
    }

    @Override
    public boolean blasAvailable() {
        return true;
    }

    @Override
    public void blasMultiprocessors(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("a BLAS multiprocessor count must be 0 (all) or more, got " + count);
        }
    }

    @Override
    public int residentBlocks(KernelMethod kernel, int blockSize, Object... arguments) {
        return RESIDENT_BLOCKS;
    }

    @Override
    public int multiprocessors() {
        return 1;
    }

    @Override
    public void synchronize() {
        notCapturing("a synchronisation");
    }

    @Override
    public long freeBytes() {
        return Math.max(0, MEMORY_BYTES - allocated.now());
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
        arenas.values().forEach(Arena::close);
        arenas.clear();
        allocated.clear();
    }
}
