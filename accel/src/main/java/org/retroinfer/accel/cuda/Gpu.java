package org.retroinfer.accel.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.retroinfer.accel.compiler.CompileKey;
import org.retroinfer.accel.compiler.CompileOptions;
import org.retroinfer.accel.compiler.CompiledKernel;
import org.retroinfer.accel.compiler.KernelCompiler;
import org.retroinfer.accel.compiler.PtxDump;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.MemoryKind;
import org.retroinfer.accel.kernel.TypedArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One GPU through the CUDA driver: its primary context, memory, streams, and Java kernels compiled to
 * PTX for its architecture and loaded once per specialisation. Closing it frees whatever buffers, modules
 * and streams it still owns and releases the context.
 *
 * <p>The CUDA driver makes a context current per thread; every method here makes this GPU's context
 * current on the calling thread first, so a {@code Gpu} may be used from any thread.
 */
public final class Gpu implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Gpu.class);

    private final CudaDriver driver;
    private final int device;
    private final DeviceInfo info;
    private final CompileOptions options;
    private final KernelCompiler compiler = new KernelCompiler();
    private final Map<CompileKey, LoadedKernel> loaded = new ConcurrentHashMap<>();
    private final Set<AutoCloseable> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private final CudaStream defaultStream;
    private MemorySegment context;

    private Gpu(CudaDriver driver, int ordinal, boolean fastMath) {
        this.driver = driver;
        int count = driver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaException("GPU " + ordinal + " does not exist: the driver reports " + count + " device(s)");
        }
        this.device = driver.device(ordinal);
        this.info = DeviceInfo.query(driver, ordinal, device);
        this.options = new CompileOptions(info.target(), fastMath);
        this.context = driver.retainPrimaryContext(device);
        makeCurrent();
        this.defaultStream = new CudaStream(this);
        LOG.info("opened {} with driver {} ({}), compiling for {}", info, driver.version(), driver.library(),
                info.target().smName());
    }

    /** GPU 0 of the machine's driver, Java float semantics. */
    public static Gpu open() {
        return open(CudaDriver.system(), 0, false);
    }

    /** GPU {@code ordinal} of {@code driver}; {@code fastMath} as in {@link CompileOptions}. */
    public static Gpu open(CudaDriver driver, int ordinal, boolean fastMath) {
        return new Gpu(driver, ordinal, fastMath);
    }

    public DeviceInfo info() {
        return info;
    }

    public CudaDriver driver() {
        return driver;
    }

    /**
     * Runs {@code work} inside a CUDA profiling range ({@link CudaDriver#profilerStart}), so that a profiler attached
     * with collection off ({@code ncu --profile-from-start off}) records that work alone.
     */
    public void profilerRange(Runnable work) {
        makeCurrent();
        driver.profilerStart();
        try {
            work.run();
        } finally {
            makeCurrent();
            driver.profilerStop();
        }
    }

    public CompileOptions compileOptions() {
        return options;
    }

    /** The stream this GPU created at open: the one to use unless work must overlap. */
    public CudaStream defaultStream() {
        return defaultStream;
    }

    /**
     * Makes this GPU's context current on the calling thread. Called before every driver call: it costs a
     * thread-local store in the driver, and it keeps us right when other code (cuBLAS, another GPU) switched
     * the thread's context.
     */
    public void makeCurrent() {
        if (context == null) {
            throw new IllegalStateException("GPU " + info.ordinal() + " is closed");
        }
        driver.setCurrent(context);
    }

    // ---------------------------------------------------------------------------------------- memory

    /** {@code bytes} of device memory, resident until closed (or until this GPU closes). */
    public DeviceBuffer allocate(long bytes) {
        return own(new DeviceBuffer(this, bytes));
    }

    /** {@code bytes} of page-locked, mapped host memory, from huge pages where it is large. */
    public PinnedBuffer allocatePinned(long bytes) {
        return allocatePinned(bytes, PinnedBuffer.Source.forSize(bytes));
    }

    /** {@code bytes} of page-locked, mapped host memory from {@code source}. */
    public PinnedBuffer allocatePinned(long bytes, PinnedBuffer.Source source) {
        return own(new PinnedBuffer(this, bytes, source));
    }

    /**
     * Copies all of {@code src} into the start of {@code dst} on {@code stream}; the direction follows from
     * where the arrays live. Copies from pinned memory are asynchronous; from ordinary host memory the
     * driver stages them (the call returns once the data is staged).
     */
    public void copy(TypedArray src, TypedArray dst, CudaStream stream) {
        if (dst.byteSize() < src.byteSize()) {
            throw new IllegalArgumentException("cannot copy " + src.describe() + " into the smaller " + dst.describe());
        }
        makeCurrent();
        long bytes = src.byteSize();
        boolean fromDevice = src.kind() == MemoryKind.DEVICE;
        boolean toDevice = dst.kind() == MemoryKind.DEVICE;
        if (fromDevice && toDevice) {
            driver.copyDeviceToDevice(dst.deviceAddress(), src.deviceAddress(), bytes, stream.handle());
        } else if (toDevice) {
            if (src.segment().isNative()) {
                driver.copyHostToDevice(dst.deviceAddress(), src.segment(), bytes, stream.handle());
            } else {
                copy(src.segment(), dst, stream);
            }
        } else if (fromDevice) {
            if (dst.segment().isNative()) {
                driver.copyDeviceToHost(dst.segment(), src.deviceAddress(), bytes, stream.handle());
            } else {
                copy(src, dst.segment().asSlice(0, bytes), stream);
            }
        } else {
            throw new IllegalArgumentException("both " + src.describe() + " and " + dst.describe()
                    + " are host memory: copy them with MemorySegment.copy");
        }
    }

    /**
     * Copies host bytes (for example {@code MemorySegment.ofArray(javaArray)}) to device memory. The call
     * returns once the bytes are staged, so the source may change afterwards; not for CUDA graph capture.
     */
    public void copy(MemorySegment hostBytes, TypedArray dst, CudaStream stream) {
        if (dst.byteSize() < hostBytes.byteSize()) {
            throw new IllegalArgumentException("cannot copy " + hostBytes.byteSize() + " bytes into " + dst.describe());
        }
        makeCurrent();
        if (hostBytes.isNative()) {
            driver.copyHostToDevice(dst.deviceAddress(), hostBytes, hostBytes.byteSize(), stream.handle());
            return;
        }
        // the GC may move a Java array, so the driver reads a native copy; pageable copies are staged before return
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(hostBytes.byteSize(), 16).copyFrom(hostBytes);
            driver.copyHostToDevice(dst.deviceAddress(), staging, staging.byteSize(), stream.handle());
            stream.synchronize();
        }
    }

    /** Copies device memory into host bytes (a Java array's segment, or any host segment) and waits for it. */
    public void copy(TypedArray src, MemorySegment hostBytes, CudaStream stream) {
        if (hostBytes.byteSize() > src.byteSize()) {
            throw new IllegalArgumentException("cannot copy " + hostBytes.byteSize() + " bytes out of " + src.describe());
        }
        makeCurrent();
        if (hostBytes.isNative()) {
            driver.copyDeviceToHost(hostBytes, src.deviceAddress(), hostBytes.byteSize(), stream.handle());
            stream.synchronize();
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(hostBytes.byteSize(), 16);
            driver.copyDeviceToHost(staging, src.deviceAddress(), staging.byteSize(), stream.handle());
            stream.synchronize();
            hostBytes.copyFrom(staging);
        }
    }

    /** Sets every byte of device memory {@code array} to {@code value}. */
    public void fill(TypedArray array, byte value, CudaStream stream) {
        makeCurrent();
        driver.fillBytes(array.deviceAddress(), value, array.byteSize(), stream.handle());
    }

    // ---------------------------------------------------------------------------------------- kernels

    /** The kernel compiled for this GPU (specialised on the {@code @Constant} values among {@code args}) and loaded. */
    public LoadedKernel load(KernelMethod kernel, Object... args) {
        CompiledKernel compiled = compiler.compileFor(kernel, args, options);
        return loaded.computeIfAbsent(compiled.key(), k -> loadModule(compiled));
    }

    private LoadedKernel loadModule(CompiledKernel compiled) {
        makeCurrent();
        long start = System.nanoTime();
        CudaDriver.LoadedModule module;
        try {
            module = driver.loadModule(compiled.ptx());
        } catch (CudaException e) {
            PtxDump.writeJitLog(compiled, e.getMessage());
            throw e.about(compiled.key().shortName());
        }
        PtxDump.writeJitLog(compiled, module.infoLog());
        MemorySegment function = driver.function(module.handle(), compiled.entryName());
        LoadedKernel k = new LoadedKernel(compiled, module.handle(), function,
                driver.functionAttribute(function, LoadedKernel.ATTRIBUTE_NUM_REGS),
                driver.functionAttribute(function, LoadedKernel.ATTRIBUTE_SHARED_SIZE_BYTES), module.infoLog());
        LOG.debug("loaded {} in {} ms: {} registers, {} bytes shared memory", k.name(), (System.nanoTime() - start) / 1_000_000,
                k.registers(), k.staticSharedBytes());
        return k;
    }

    /** Launches {@code kernel} over {@code grid} on {@code stream}; {@code args} exclude the KernelContext. */
    public void launch(KernelMethod kernel, Grid grid, CudaStream stream, Object... args) {
        kernel.checkGrid(grid);
        LoadedKernel k = load(kernel, args);
        try (Arena arena = Arena.ofConfined()) {
            launch(k, grid, stream, KernelArguments.marshal(kernel, args, arena));
        }
    }

    /** Launches with a parameter block prepared by {@link #marshal} (reused across launches by execution plans). */
    public void launch(LoadedKernel kernel, Grid grid, CudaStream stream, MemorySegment parameters) {
        makeCurrent();
        driver.launch(kernel.function(), grid, 0, stream.handle(), parameters, kernel.name());
    }

    /** The {@code void*[]} parameter block for a launch of {@code kernel}, allocated in {@code arena}. */
    public MemorySegment marshal(KernelMethod kernel, Object[] args, Arena arena) {
        return KernelArguments.marshal(kernel, args, arena);
    }

    /** How many blocks of {@code blockSize} threads of {@code kernel} fit on one SM: size grid-stride grids with it. */
    public int maxActiveBlocksPerMultiprocessor(LoadedKernel kernel, int blockSize) {
        makeCurrent();
        return driver.occupancyMaxBlocks(kernel.function(), blockSize, 0);
    }

    /**
     * The grid for a grid-stride loop: {@code waves} times as many blocks of {@code blockSize} threads of
     * {@code kernel} as fit on all SMs at once (at least one block per SM for each wave).
     */
    public Grid streamingGrid(LoadedKernel kernel, int blockSize, int waves) {
        if (waves < 1) {
            throw new IllegalArgumentException("waves must be at least 1, got " + waves);
        }
        int perSm = Math.max(1, maxActiveBlocksPerMultiprocessor(kernel, blockSize));
        return Grid.of(Math.multiplyExact(Math.multiplyExact(info.multiprocessors(), perSm), waves), blockSize);
    }

    // ---------------------------------------------------------------------------------------- streams and lifetime

    public CudaStream createStream() {
        return own(new CudaStream(this));
    }

    public CudaEvent createEvent() {
        return own(new CudaEvent(this));
    }

    /** Waits for all work on every stream of this GPU. */
    public void synchronize() {
        makeCurrent();
        driver.synchronizeContext();
    }

    private <T extends AutoCloseable> T own(T resource) {
        synchronized (owned) {
            owned.add(resource);
        }
        return resource;
    }

    void forget(AutoCloseable resource) {
        synchronized (owned) {
            owned.remove(resource);
        }
    }

    @Override
    public void close() {
        if (context == null) {
            return;
        }
        makeCurrent();
        List<AutoCloseable> resources;
        synchronized (owned) {
            resources = new ArrayList<>(owned);
        }
        CudaException failure = null;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                failure = failure == null ? new CudaException("closing GPU " + info.ordinal() + " failed", e) : failure;
            }
        }
        for (LoadedKernel k : loaded.values()) {
            driver.unloadModule(k.module());
        }
        loaded.clear();
        defaultStream.close();
        driver.releasePrimaryContext(device);
        context = null;
        if (failure != null) {
            throw failure;
        }
    }
}
