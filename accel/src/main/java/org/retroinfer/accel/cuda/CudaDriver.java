package org.retroinfer.accel.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.EnumMap;
import java.util.Map;
import org.retroinfer.accel.kernel.Grid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUDA driver API ({@code libcuda.so.1}) through the Foreign Function &amp; Memory API: no JNI, no C.
 * One method per driver call; every failing call throws a {@link CudaException} with the call, the
 * error's name and the driver's text. Handles (contexts, modules, streams, events, graphs) are
 * {@link MemorySegment} addresses, device pointers are {@code long}s. Higher-level classes
 * ({@link Gpu}, {@link CudaStream}, ...) own lifetimes; this class only translates calls.
 */
@SuppressWarnings("restricted") // binding native libraries is this class's purpose; run with --enable-native-access
public final class CudaDriver {
    /** System property naming the driver library to load instead of {@code libcuda.so.1}. */
    public static final String LIBRARY_PROPERTY = "retroinfer.accel.libcuda";
    /** Environment variable with the same meaning as {@link #LIBRARY_PROPERTY}. */
    public static final String LIBRARY_ENV = "RETROINFER_LIBCUDA";

    static final int CU_MEMHOSTALLOC_PORTABLE = 0x01;
    static final int CU_MEMHOSTALLOC_DEVICEMAP = 0x02;
    static final int CU_MEMHOSTREGISTER_PORTABLE = 0x01;
    static final int CU_MEMHOSTREGISTER_DEVICEMAP = 0x02;
    private static final int CU_JIT_INFO_LOG_BUFFER = 3;
    private static final int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    private static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    private static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    private static final int CU_JIT_LOG_VERBOSE = 12;
    private static final int LOG_BYTES = 64 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(CudaDriver.class);
    private static CudaDriver system;

    private final String library;
    private final Map<DriverCall, MethodHandle> calls = new EnumMap<>(DriverCall.class);
    private final int resolvedThroughProcAddress;
    private final int version;

    private CudaDriver(String library, SymbolLookup lookup) {
        this.library = library;
        DriverSymbols symbols = new DriverSymbols(library, lookup);
        // error texts and cuInit first: cuGetProcAddress needs an initialised driver on some versions
        calls.put(DriverCall.GET_ERROR_NAME, symbols.exported(DriverCall.GET_ERROR_NAME));
        calls.put(DriverCall.GET_ERROR_STRING, symbols.exported(DriverCall.GET_ERROR_STRING));
        calls.put(DriverCall.INIT, symbols.exported(DriverCall.INIT));
        try {
            check((int) calls.get(DriverCall.INIT).invokeExact(0), "cuInit(0)");
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuInit crashed in " + library, t);
        }
        for (DriverCall c : DriverCall.values()) {
            if (!calls.containsKey(c)) {
                calls.put(c, symbols.resolve(c));
            }
        }
        this.resolvedThroughProcAddress = symbols.resolvedThroughProcAddress();
        this.version = intOut(DriverCall.DRIVER_GET_VERSION, "cuDriverGetVersion", (h, out) -> (int) h.invokeExact(out));
        LOG.debug("loaded {}: driver version {}, {} of {} entry points through cuGetProcAddress_v2", library, version,
                resolvedThroughProcAddress, DriverCall.values().length);
    }

    /**
     * The machine's driver: {@code -Dretroinfer.accel.libcuda}, else {@code $RETROINFER_LIBCUDA}, else
     * {@code libcuda.so.1} from the loader path. Loaded once; a machine without a GPU driver gets a
     * {@link CudaException} that says so.
     */
    public static synchronized CudaDriver system() {
        if (system == null) {
            String override = System.getProperty(LIBRARY_PROPERTY, System.getenv(LIBRARY_ENV));
            system = load(override != null && !override.isBlank() ? override : "libcuda.so.1");
        }
        return system;
    }

    /** Loads the driver library {@code library} (a file path or a name the dynamic loader can find). */
    public static CudaDriver load(String library) {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new CudaException("cannot load the CUDA driver library " + library + " (" + e.getMessage() + "): this"
                    + " machine has no NVIDIA driver, or it is not on the loader path. GPU kernels need a CUDA 12+ driver;"
                    + " without a GPU run them in org.retroinfer.accel.emulator.Emulator, or point -D" + LIBRARY_PROPERTY
                    + " at the driver library", e);
        }
        return new CudaDriver(library, lookup);
    }

    public String library() {
        return library;
    }

    /** The driver's CUDA version, 1000 × major + 10 × minor (13000 for CUDA 13.0). */
    public int version() {
        return version;
    }

    /** How many entry points came from cuGetProcAddress_v2 rather than their exported names. */
    public int resolvedThroughProcAddress() {
        return resolvedThroughProcAddress;
    }

    // ---------------------------------------------------------------------------------------- errors

    void check(int result, String call) {
        if (result != 0) {
            throw new CudaException(call, result, errorName(result), errorString(result));
        }
    }

    private String errorName(int result) {
        return errorText(DriverCall.GET_ERROR_NAME, result, "CUDA_ERROR_" + result);
    }

    private String errorString(int result) {
        return errorText(DriverCall.GET_ERROR_STRING, result, "no description");
    }

    private String errorText(DriverCall call, int result, String fallback) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) calls.get(call).invokeExact(result, out);
            MemorySegment text = out.get(ADDRESS, 0);
            return rc == 0 && text.address() != 0 ? text.reinterpret(1024).getString(0) : fallback;
        } catch (Throwable t) {
            return fallback;
        }
    }

    private static CudaException crashed(String call, Throwable t) {
        return new CudaException("the downcall to " + call + " failed: " + t, t);
    }

    // ---------------------------------------------------------------------------------------- devices and contexts

    public int deviceCount() {
        return intOut(DriverCall.DEVICE_GET_COUNT, "cuDeviceGetCount", (h, out) -> (int) h.invokeExact(out));
    }

    /** The device handle of {@code ordinal}. */
    public int device(int ordinal) {
        return intOut(DriverCall.DEVICE_GET, "cuDeviceGet(" + ordinal + ")", (h, out) -> (int) h.invokeExact(out, ordinal));
    }

    public String deviceName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = out(DriverCall.DEVICE_GET_NAME, "cuDeviceGetName", MemoryLayout.sequenceLayout(256, JAVA_BYTE),
                    (h, out) -> (int) h.invokeExact(out, 256, device), arena);
            return name.getString(0);
        }
    }

    /** A {@code CUdevice_attribute} of {@code device}. */
    public int deviceAttribute(int attribute, int device) {
        return intOut(DriverCall.DEVICE_GET_ATTRIBUTE, "cuDeviceGetAttribute(" + attribute + ")",
                (h, out) -> (int) h.invokeExact(out, attribute, device));
    }

    public long deviceTotalMemory(int device) {
        return longOut(DriverCall.DEVICE_TOTAL_MEM, "cuDeviceTotalMem_v2", (h, out) -> (int) h.invokeExact(out, device));
    }

    /** Retains the device's primary context (the one the CUDA runtime and cuBLAS use too). */
    public MemorySegment retainPrimaryContext(int device) {
        return handleOut(DriverCall.PRIMARY_CTX_RETAIN, "cuDevicePrimaryCtxRetain", (h, out) -> (int) h.invokeExact(out, device));
    }

    public void releasePrimaryContext(int device) {
        call(DriverCall.PRIMARY_CTX_RELEASE, "cuDevicePrimaryCtxRelease_v2", h -> (int) h.invokeExact(device));
    }

    public void setCurrent(MemorySegment context) {
        call(DriverCall.CTX_SET_CURRENT, "cuCtxSetCurrent", h -> (int) h.invokeExact(context));
    }

    public void synchronizeContext() {
        call(DriverCall.CTX_SYNCHRONIZE, "cuCtxSynchronize", h -> (int) h.invokeExact());
    }

    /**
     * Opens a profiling range on the current context: a profiler started with collection off ({@code ncu
     * --profile-from-start off}, {@code nsys --capture-range=cudaProfilerApi}) records from here to
     * {@link #profilerStop}; without one attached, nothing happens.
     */
    public void profilerStart() {
        call(DriverCall.PROFILER_START, "cuProfilerStart", h -> (int) h.invokeExact());
    }

    /** Closes the range {@link #profilerStart} opened. */
    public void profilerStop() {
        call(DriverCall.PROFILER_STOP, "cuProfilerStop", h -> (int) h.invokeExact());
    }

    /** Free and total device memory of the current context's device. */
    public long[] memoryInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment total = arena.allocate(JAVA_LONG);
            long free = out(DriverCall.MEM_GET_INFO, "cuMemGetInfo_v2", JAVA_LONG, (h, out) -> (int) h.invokeExact(out, total), arena)
                    .get(JAVA_LONG, 0);
            return new long[] {free, total.get(JAVA_LONG, 0)};
        }
    }

    // ---------------------------------------------------------------------------------------- modules and launches

    /** A module the driver JIT-compiled, with its info log (registers, spills per kernel). */
    public record LoadedModule(MemorySegment handle, String infoLog) {}

    /** JIT-compiles PTX text; on failure the exception carries the driver's JIT error log. */
    public LoadedModule loadModule(String ptx) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(LOG_BYTES);
            MemorySegment error = arena.allocate(LOG_BYTES);
            MemorySegment options = arena.allocateFrom(JAVA_INT, CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                    CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, CU_JIT_LOG_VERBOSE);
            MemorySegment values = arena.allocate(ADDRESS, 5);
            values.setAtIndex(ADDRESS, 0, info);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(LOG_BYTES)); // sizes travel as (void*)(uintptr_t)n
            values.setAtIndex(ADDRESS, 2, error);
            values.setAtIndex(ADDRESS, 3, MemorySegment.ofAddress(LOG_BYTES));
            values.setAtIndex(ADDRESS, 4, MemorySegment.ofAddress(1));
            MemorySegment module = arena.allocate(ADDRESS);
            int rc = (int) calls.get(DriverCall.MODULE_LOAD_DATA_EX).invokeExact(module, arena.allocateFrom(ptx), 5, options, values);
            if (rc != 0) {
                throw new CudaException("cuModuleLoadDataEx", rc, errorName(rc),
                        errorString(rc) + "; JIT error log:\n" + error.getString(0).strip());
            }
            return new LoadedModule(module.get(ADDRESS, 0), info.getString(0).strip());
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw crashed("cuModuleLoadDataEx", t);
        }
    }

    public void unloadModule(MemorySegment module) {
        call(DriverCall.MODULE_UNLOAD, "cuModuleUnload", h -> (int) h.invokeExact(module));
    }

    public MemorySegment function(MemorySegment module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name);
            return handleOut(DriverCall.MODULE_GET_FUNCTION, "cuModuleGetFunction(" + name + ")",
                    (h, out) -> (int) h.invokeExact(out, module, cName));
        }
    }

    /** A {@code CUfunction_attribute} (registers, static shared memory, max threads per block). */
    public int functionAttribute(MemorySegment function, int attribute) {
        return intOut(DriverCall.FUNC_GET_ATTRIBUTE, "cuFuncGetAttribute(" + attribute + ")",
                (h, out) -> (int) h.invokeExact(out, attribute, function));
    }

    /** How many blocks of {@code blockSize} threads fit on one SM at once. */
    public int occupancyMaxBlocks(MemorySegment function, int blockSize, long dynamicSharedBytes) {
        return intOut(DriverCall.OCCUPANCY_MAX_BLOCKS, "cuOccupancyMaxActiveBlocksPerMultiprocessor(block " + blockSize + ")",
                (h, out) -> (int) h.invokeExact(out, function, blockSize, dynamicSharedBytes));
    }

    /** {@code cuLaunchKernel} with a prepared {@code void*[]} of argument pointers. */
    public void launch(MemorySegment function, Grid grid, int sharedBytes, MemorySegment stream, MemorySegment parameters,
                       String name) {
        try {
            int rc = (int) calls.get(DriverCall.LAUNCH_KERNEL).invokeExact(function, grid.gridX(), grid.gridY(), grid.gridZ(),
                    grid.blockX(), grid.blockY(), grid.blockZ(), sharedBytes, stream, parameters, MemorySegment.NULL);
            if (rc != 0) {
                check(rc, "cuLaunchKernel(" + name + ", " + grid + ")");
            }
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw crashed("cuLaunchKernel", t);
        }
    }

    // ---------------------------------------------------------------------------------------- memory

    public long malloc(long bytes) {
        return longOut(DriverCall.MEM_ALLOC, "cuMemAlloc_v2(" + bytes + " bytes)", (h, out) -> (int) h.invokeExact(out, bytes));
    }

    public void free(long pointer) {
        call(DriverCall.MEM_FREE, "cuMemFree_v2", h -> (int) h.invokeExact(pointer));
    }

    /** Page-locked host memory, portable across contexts and mapped into the device address space. */
    public MemorySegment hostAlloc(long bytes) {
        int flags = CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP;
        return handleOut(DriverCall.MEM_HOST_ALLOC, "cuMemHostAlloc(" + bytes + " bytes)",
                (h, out) -> (int) h.invokeExact(out, bytes, flags)).reinterpret(bytes);
    }

    public void freeHost(MemorySegment host) {
        call(DriverCall.MEM_FREE_HOST, "cuMemFreeHost", h -> (int) h.invokeExact(host));
    }

    /** Page-locks host memory allocated elsewhere, portable and mapped as {@link #hostAlloc}'s. */
    public void hostRegister(MemorySegment host) {
        int flags = CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP;
        long bytes = host.byteSize();
        call(DriverCall.MEM_HOST_REGISTER, "cuMemHostRegister_v2(" + bytes + " bytes)",
                h -> (int) h.invokeExact(host, bytes, flags));
    }

    public void hostUnregister(MemorySegment host) {
        call(DriverCall.MEM_HOST_UNREGISTER, "cuMemHostUnregister", h -> (int) h.invokeExact(host));
    }

    /** The device address of mapped page-locked host memory. */
    public long hostDevicePointer(MemorySegment host) {
        return longOut(DriverCall.MEM_HOST_GET_DEVICE_POINTER, "cuMemHostGetDevicePointer_v2",
                (h, out) -> (int) h.invokeExact(out, host, 0));
    }

    public void copyHostToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        call(DriverCall.MEMCPY_HTOD_ASYNC, "cuMemcpyHtoDAsync_v2(" + bytes + " bytes)",
                h -> (int) h.invokeExact(dst, src, bytes, stream));
    }

    public void copyDeviceToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        call(DriverCall.MEMCPY_DTOH_ASYNC, "cuMemcpyDtoHAsync_v2(" + bytes + " bytes)",
                h -> (int) h.invokeExact(dst, src, bytes, stream));
    }

    public void copyDeviceToDevice(long dst, long src, long bytes, MemorySegment stream) {
        call(DriverCall.MEMCPY_DTOD_ASYNC, "cuMemcpyDtoDAsync_v2(" + bytes + " bytes)",
                h -> (int) h.invokeExact(dst, src, bytes, stream));
    }

    public void fillBytes(long dst, byte value, long count, MemorySegment stream) {
        call(DriverCall.MEMSET_D8_ASYNC, "cuMemsetD8Async(" + count + " bytes)", h -> (int) h.invokeExact(dst, value, count, stream));
    }

    public void fillWords(long dst, int value, long count, MemorySegment stream) {
        call(DriverCall.MEMSET_D32_ASYNC, "cuMemsetD32Async(" + count + " words)",
                h -> (int) h.invokeExact(dst, value, count, stream));
    }

    // ---------------------------------------------------------------------------------------- streams, events, graphs

    public MemorySegment createStream(int flags) {
        return handleOut(DriverCall.STREAM_CREATE, "cuStreamCreate", (h, out) -> (int) h.invokeExact(out, flags));
    }

    public void destroyStream(MemorySegment stream) {
        call(DriverCall.STREAM_DESTROY, "cuStreamDestroy_v2", h -> (int) h.invokeExact(stream));
    }

    public void synchronizeStream(MemorySegment stream) {
        call(DriverCall.STREAM_SYNCHRONIZE, "cuStreamSynchronize", h -> (int) h.invokeExact(stream));
    }

    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        call(DriverCall.STREAM_WAIT_EVENT, "cuStreamWaitEvent", h -> (int) h.invokeExact(stream, event, 0));
    }

    public MemorySegment createEvent(int flags) {
        return handleOut(DriverCall.EVENT_CREATE, "cuEventCreate", (h, out) -> (int) h.invokeExact(out, flags));
    }

    public void recordEvent(MemorySegment event, MemorySegment stream) {
        call(DriverCall.EVENT_RECORD, "cuEventRecord", h -> (int) h.invokeExact(event, stream));
    }

    public void synchronizeEvent(MemorySegment event) {
        call(DriverCall.EVENT_SYNCHRONIZE, "cuEventSynchronize", h -> (int) h.invokeExact(event));
    }

    /** Milliseconds between two recorded events. */
    public float elapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena arena = Arena.ofConfined()) {
            return out(DriverCall.EVENT_ELAPSED_TIME, "cuEventElapsedTime", JAVA_FLOAT,
                    (h, out) -> (int) h.invokeExact(out, start, end), arena).get(JAVA_FLOAT, 0);
        }
    }

    public void destroyEvent(MemorySegment event) {
        call(DriverCall.EVENT_DESTROY, "cuEventDestroy_v2", h -> (int) h.invokeExact(event));
    }

    public void beginCapture(MemorySegment stream, int mode) {
        call(DriverCall.STREAM_BEGIN_CAPTURE, "cuStreamBeginCapture_v2", h -> (int) h.invokeExact(stream, mode));
    }

    public MemorySegment endCapture(MemorySegment stream) {
        return handleOut(DriverCall.STREAM_END_CAPTURE, "cuStreamEndCapture", (h, out) -> (int) h.invokeExact(stream, out));
    }

    public MemorySegment instantiateGraph(MemorySegment graph) {
        return handleOut(DriverCall.GRAPH_INSTANTIATE, "cuGraphInstantiateWithFlags", (h, out) -> (int) h.invokeExact(out, graph, 0L));
    }

    public void launchGraph(MemorySegment exec, MemorySegment stream) {
        call(DriverCall.GRAPH_LAUNCH, "cuGraphLaunch", h -> (int) h.invokeExact(exec, stream));
    }

    public void destroyGraphExec(MemorySegment exec) {
        call(DriverCall.GRAPH_EXEC_DESTROY, "cuGraphExecDestroy", h -> (int) h.invokeExact(exec));
    }

    public void destroyGraph(MemorySegment graph) {
        call(DriverCall.GRAPH_DESTROY, "cuGraphDestroy", h -> (int) h.invokeExact(graph));
    }

    // ---------------------------------------------------------------------------------------- plumbing

    @FunctionalInterface
    private interface Invocation {
        int invoke(MethodHandle handle) throws Throwable;
    }

    /** A call that returns its result through one pointer argument. */
    @FunctionalInterface
    private interface OutInvocation {
        int invoke(MethodHandle handle, MemorySegment out) throws Throwable;
    }

    private MemorySegment out(DriverCall c, String name, MemoryLayout layout, OutInvocation invocation, Arena arena) {
        MemorySegment out = arena.allocate(layout);
        int rc;
        try {
            rc = invocation.invoke(calls.get(c), out);
        } catch (Throwable t) {
            throw crashed(name, t);
        }
        check(rc, name);
        return out;
    }

    private int intOut(DriverCall c, String name, OutInvocation invocation) {
        try (Arena arena = Arena.ofConfined()) {
            return out(c, name, JAVA_INT, invocation, arena).get(JAVA_INT, 0);
        }
    }

    private long longOut(DriverCall c, String name, OutInvocation invocation) {
        try (Arena arena = Arena.ofConfined()) {
            return out(c, name, JAVA_LONG, invocation, arena).get(JAVA_LONG, 0);
        }
    }

    private MemorySegment handleOut(DriverCall c, String name, OutInvocation invocation) {
        try (Arena arena = Arena.ofConfined()) {
            return out(c, name, ADDRESS, invocation, arena).get(ADDRESS, 0);
        }
    }

    private void call(DriverCall c, String name, Invocation invocation) {
        int rc;
        try {
            rc = invocation.invoke(calls.get(c));
        } catch (Throwable t) {
            throw crashed(name, t);
        }
        check(rc, name);
    }

    private MemorySegment handleOut(DriverCall c, String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) calls.get(c).invokeExact(out, flags), name);
            return out.get(ADDRESS, 0);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw crashed(name, t);
        }
    }
}
