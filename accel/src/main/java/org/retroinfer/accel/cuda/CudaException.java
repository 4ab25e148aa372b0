package org.retroinfer.accel.cuda;

/**
 * A CUDA driver call failed, or the driver could not be used at all. The message names the call (with
 * its key arguments), the error's name and the driver's description of it, e.g.
 * {@code cuMemAlloc_v2(1073741824 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)}.
 */
public class CudaException extends RuntimeException {
    /** The code used when no driver call produced one (library missing, symbol missing). */
    public static final int NO_CODE = -1;

    private final String call;
    private final int code;
    private final String errorName;
    private final String text;

    public CudaException(String call, int code, String errorName, String text) {
        super(call + " failed: " + errorName + " (" + text + ")");
        this.call = call;
        this.code = code;
        this.errorName = errorName;
        this.text = text;
    }

    /** A failure without a driver error code; {@code message} says what is wrong and what to do. */
    public CudaException(String message) {
        super(message);
        this.call = "";
        this.code = NO_CODE;
        this.errorName = "";
        this.text = message;
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
        this.call = "";
        this.code = NO_CODE;
        this.errorName = "";
        this.text = message;
    }

    /** The driver call that failed, with its key arguments. */
    public String call() {
        return call;
    }

    /** The {@code CUresult} (or cuBLAS status), or {@link #NO_CODE}. */
    public int code() {
        return code;
    }

    /** The driver's description of the error (plus any log it returned). */
    public String text() {
        return text;
    }

    /** The same failure with {@code what} added to the call, e.g. the kernel a module load was for. */
    public CudaException about(String what) {
        CudaException e = new CudaException(call + " of " + what, code, errorName, text);
        e.initCause(this);
        return e;
    }

    /** The error's symbolic name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
