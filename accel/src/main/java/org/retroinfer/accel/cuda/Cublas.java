package org.retroinfer.accel.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * cuBLAS ({@code libcublas.so.13}) through FFM, on the same context and streams as the Java kernels, for
 * the dense linear layers. Matrices are column-major as in BLAS; {@link #linear} is the row-major
 * {@code y = x wᵀ} of a PyTorch {@code Linear}. Accumulation is in float (CUBLAS_COMPUTE_32F) for float,
 * half and bfloat16 inputs.
 *
 * <p>Scalars (alpha, beta) are passed by device pointer from a table in device memory, so calls can be
 * captured into CUDA graphs; each distinct value is uploaded once, before its first use. Capture plans
 * upload theirs when they are built ({@link #prepareScalars}).
 */
@SuppressWarnings("restricted") // binding native libraries is this class's purpose; run with --enable-native-access
public final class Cublas implements AutoCloseable {
    public static final String LIBRARY_PROPERTY = "retroinfer.accel.libcublas";
    public static final String LIBRARY_ENV = "RETROINFER_LIBCUBLAS";
    /** NVIDIA's recommended cuBLAS workspace for Hopper; set explicitly so graph capture never allocates. */
    private static final long WORKSPACE_BYTES = 32L << 20;
    private static final int SCALAR_SLOTS = 256;
    private static final int CUBLAS_POINTER_MODE_DEVICE = 1;
    private static final int CUBLAS_COMPUTE_32F = 68;
    private static final int CUBLAS_GEMM_DEFAULT = -1;
    private static final Linker LINKER = Linker.nativeLinker();

    private final Gpu gpu;
    private final String library;
    private final MethodHandle create;
    private final MethodHandle destroy;
    private final MethodHandle setStream;
    private final MethodHandle setWorkspace;
    private final MethodHandle setPointerMode;
    private final MethodHandle gemmEx;
    private final MethodHandle sgemv;
    private final MethodHandle statusName;
    private final MethodHandle statusString;
    /** {@code cublasSetSmCountTarget}, or null where the library lacks it (it came with cuBLAS 11.3). */
    private final MethodHandle setSmCountTarget;
    private final DeviceBuffer workspace;
    private final DeviceBuffer scalars;
    private final Map<Integer, Long> scalarSlots = new HashMap<>();
    private MemorySegment handle;
    private MemorySegment boundStream;

    private Cublas(Gpu gpu, String library) {
        this.gpu = gpu;
        this.library = library;
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new CudaException("cannot load cuBLAS " + library + " (" + e.getMessage() + "): install the CUDA 13"
                    + " toolkit's cuBLAS, or point -D" + LIBRARY_PROPERTY + " at libcublas.so.13", e);
        }
        create = bind(lookup, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = bind(lookup, "cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = bind(lookup, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setWorkspace = bind(lookup, "cublasSetWorkspace_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        setPointerMode = bind(lookup, "cublasSetPointerMode_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        gemmEx = bind(lookup, "cublasGemmEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT));
        sgemv = bind(lookup, "cublasSgemv_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG,
                JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        statusName = bind(lookup, "cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        statusString = bind(lookup, "cublasGetStatusString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        setSmCountTarget = lookup.find("cublasSetSmCountTarget")
                .map(s -> LINKER.downcallHandle(s, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT))).orElse(null);
        gpu.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) create.invokeExact(out), "cublasCreate_v2");
            handle = out.get(ADDRESS, 0);
            check((int) setPointerMode.invokeExact(handle, CUBLAS_POINTER_MODE_DEVICE), "cublasSetPointerMode_v2(DEVICE)");
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuBLAS initialisation crashed: " + t, t);
        }
        workspace = gpu.allocate(WORKSPACE_BYTES);
        scalars = gpu.allocate((long) SCALAR_SLOTS * Float.BYTES);
        prepareScalars(0f, 1f);
    }

    /** cuBLAS on {@code gpu}: {@code -Dretroinfer.accel.libcublas}, else {@code $RETROINFER_LIBCUBLAS}, else libcublas.so.13. */
    public static Cublas create(Gpu gpu) {
        String override = libraryOverride();
        return new Cublas(gpu, override != null ? override : "libcublas.so.13");
    }

    /** The library the user named ({@code -Dretroinfer.accel.libcublas} or {@code $RETROINFER_LIBCUBLAS}), or null. */
    public static String libraryOverride() {
        String override = System.getProperty(LIBRARY_PROPERTY, System.getenv(LIBRARY_ENV));
        return override == null || override.isBlank() ? null : override;
    }

    public static Cublas create(Gpu gpu, String library) {
        return new Cublas(gpu, library);
    }

    private MethodHandle bind(SymbolLookup lookup, String name, FunctionDescriptor fd) {
        return lookup.find(name).map(s -> LINKER.downcallHandle(s, fd)).orElseThrow(() -> new CudaException(
                library + " has no " + name + "; this runtime needs cuBLAS 12 or newer"));
    }

    /**
     * Asks cuBLAS to size its following GEMMs' grids for {@code multiprocessors} SMs (0: all of them), so that work on
     * other streams keeps the rest ({@code cublasSetSmCountTarget}).
     */
    public void smCountTarget(int multiprocessors) {
        if (multiprocessors < 0) {
            throw new IllegalArgumentException("an SM count target must be 0 (all) or more, got " + multiprocessors);
        }
        if (setSmCountTarget == null) {
            throw new CudaException(library + " has no cublasSetSmCountTarget; it needs cuBLAS 11.3 or newer");
        }
        try {
            gpu.makeCurrent();
            check((int) setSmCountTarget.invokeExact(handle, multiprocessors), "cublasSetSmCountTarget(" + multiprocessors + ")");
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("the downcall to cublasSetSmCountTarget failed: " + t, t);
        }
    }

    /** Uploads alpha/beta values ahead of a CUDA graph capture (values already known are skipped). */
    public void prepareScalars(float... values) {
        for (float v : values) {
            scalar(v);
        }
    }

    private long scalar(float value) {
        Long address = scalarSlots.get(Float.floatToRawIntBits(value));
        if (address != null) {
            return address;
        }
        if (scalarSlots.size() == SCALAR_SLOTS) {
            throw new IllegalStateException("more than " + SCALAR_SLOTS + " distinct alpha/beta values; reuse scalars");
        }
        long slot = scalars.region().deviceAddress() + (long) scalarSlots.size() * Float.BYTES;
        try (Arena arena = Arena.ofConfined()) {
            gpu.makeCurrent();
            CudaStream stream = gpu.defaultStream();
            gpu.driver().copyHostToDevice(slot, arena.allocateFrom(JAVA_FLOAT, value), Float.BYTES, stream.handle());
            stream.synchronize();
        }
        scalarSlots.put(Float.floatToRawIntBits(value), slot);
        return slot;
    }

    private void bind(CudaStream stream) throws Throwable {
        gpu.makeCurrent();
        if (stream.handle().equals(boundStream)) {
            return;
        }
        check((int) setStream.invokeExact(handle, stream.handle()), "cublasSetStream_v2");
        // cublasSetStream resets the workspace to cuBLAS's own pool, which would allocate during capture
        check((int) setWorkspace.invokeExact(handle, workspace.region().deviceAddress(), WORKSPACE_BYTES), "cublasSetWorkspace_v2");
        boundStream = stream.handle();
    }

    /**
     * {@code C = alpha op(A) op(B) + beta C} (column-major, {@code op} = transpose when asked): C is m × n,
     * op(A) m × k, op(B) k × n. A and B must have the same element type (F32, F16 or BF16); C is that type or
     * F32.
     */
    public void gemm(CudaStream stream, boolean transA, boolean transB, int m, int n, int k, float alpha, TypedArray a, int lda,
                     TypedArray b, int ldb, float beta, TypedArray c, int ldc) {
        if (a.elementType() != b.elementType()) {
            throw new IllegalArgumentException("gemm needs A and B of one element type, got " + a.elementType() + " and "
                    + b.elementType());
        }
        if (c.elementType() != a.elementType() && c.elementType() != ElementType.F32) {
            throw new IllegalArgumentException("gemm writes C as " + a.elementType() + " or F32, got " + c.elementType());
        }
        checkSize("A", a, transA ? k : m, transA ? m : k, lda);
        checkSize("B", b, transB ? n : k, transB ? k : n, ldb);
        checkSize("C", c, m, n, ldc);
        String call = "cublasGemmEx(" + (transA ? "T" : "N") + (transB ? "T" : "N") + ", m=" + m + ", n=" + n + ", k=" + k + ", "
                + a.elementType() + ")";
        try {
            bind(stream);
            check((int) gemmEx.invokeExact(handle, transA ? 1 : 0, transB ? 1 : 0, m, n, k, scalar(alpha), a.deviceAddress(),
                    dataType(a), lda, b.deviceAddress(), dataType(b), ldb, scalar(beta), c.deviceAddress(), dataType(c), ldc,
                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT), call);
        } catch (CudaException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("the downcall to " + call + " failed: " + t, t);
        }
    }

    /** {@code y = alpha op(A) x + beta y} for a column-major float A of m × n ({@code cublasSgemv}). */
    public void gemv(CudaStream stream, boolean trans, int m, int n, float alpha, F32Array a, int lda, F32Array x, float beta,
                     F32Array y) {
        checkSize("A", a, m, n, lda);
        if (x.length() < (trans ? m : n) || y.length() < (trans ? n : m)) {
            throw new IllegalArgumentException("gemv of a " + m + " x " + n + (trans ? " transposed" : "") + " matrix needs x of "
                    + (trans ? m : n) + " and y of " + (trans ? n : m) + " elements, got " + x.length() + " and " + y.length());
        }
        String call = "cublasSgemv_v2(" + (trans ? "T" : "N") + ", m=" + m + ", n=" + n + ")";
        try {
            bind(stream);
            check((int) sgemv.invokeExact(handle, trans ? 1 : 0, m, n, scalar(alpha), a.deviceAddress(), lda, x.deviceAddress(), 1,
                    scalar(beta), y.deviceAddress(), 1), call);
        } catch (CudaException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("the downcall to " + call + " failed: " + t, t);
        }
    }

    /**
     * The linear layer {@code y = x wᵀ} with row-major {@code x} (rows × in), {@code w} (out × in, as PyTorch
     * stores weights) and {@code y} (rows × out). In column-major terms: yᵀ = w xᵀ, i.e. gemm(T, N).
     */
    public void linear(CudaStream stream, int rows, int in, int out, TypedArray x, TypedArray w, TypedArray y) {
        gemm(stream, true, false, out, rows, in, 1f, w, in, x, in, 0f, y, out);
    }

    private static void checkSize(String name, TypedArray t, int rows, int cols, int ld) {
        if (ld < Math.max(1, rows)) {
            throw new IllegalArgumentException("leading dimension of " + name + " must be at least " + rows + ", got " + ld);
        }
        long needed = (long) ld * (cols - 1) + rows;
        if (t.length() < needed) {
            throw new IllegalArgumentException(name + " (" + rows + " x " + cols + ", leading dimension " + ld + ") needs "
                    + needed + " elements, got " + t.describe());
        }
    }

    private static int dataType(TypedArray t) {
        return switch (t.elementType()) {
            case F32 -> 0;
            case F16 -> 2;
            case BF16 -> 14;
            default -> throw new IllegalArgumentException("cuBLAS GEMM takes F32, F16 or BF16 arrays, not " + t.elementType());
        };
    }

    private void check(int status, String call) {
        if (status != 0) {
            throw new CudaException(call, status, text(statusName, status, "CUBLAS_STATUS_" + status),
                    text(statusString, status, "no description"));
        }
    }

    private static String text(MethodHandle h, int status, String fallback) {
        try {
            MemorySegment s = (MemorySegment) h.invokeExact(status);
            return s.address() == 0 ? fallback : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return fallback;
        }
    }

    @Override
    public void close() {
        if (handle != null) {
            gpu.makeCurrent();
            try {
                check((int) destroy.invokeExact(handle), "cublasDestroy_v2");
            } catch (CudaException e) {
                throw e;
            } catch (Throwable t) {
                throw new CudaException("cublasDestroy_v2 crashed: " + t, t);
            } finally {
                handle = null;
                workspace.close();
                scalars.close();
            }
        }
    }
}
