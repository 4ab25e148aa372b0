package org.retroinfer.accel.compiler;

/**
 * The GPU architectures the compiler emits PTX for, with the PTX ISA version each needs. PTX 7.8 is
 * accepted by every driver from R520 on and covers sm_80 to sm_90 (measured with CUDA 13.0's ptxas:
 * sm_100 and sm_120 need 8.7). PTX is forward compatible: the driver JIT-compiles sm_90 PTX for newer
 * GPUs, so {@link #forComputeCapability} falls back to the newest target not above the device.
 */
public enum Target {
    SM_80(8, 0, "7.8"),
    SM_86(8, 6, "7.8"),
    SM_89(8, 9, "7.8"),
    /** H100/H200: the tuning target. */
    SM_90(9, 0, "7.8"),
    SM_100(10, 0, "8.7"),
    SM_120(12, 0, "8.7");

    private final int major;
    private final int minor;
    private final String ptxVersion;

    Target(int major, int minor, String ptxVersion) {
        this.major = major;
        this.minor = minor;
        this.ptxVersion = ptxVersion;
    }

    /** The {@code .target} name, e.g. {@code sm_90}. */
    public String smName() {
        return "sm_" + major + minor;
    }

    public String ptxVersion() {
        return ptxVersion;
    }

    /**
     * The best target for a device of compute capability {@code major.minor}. Devices below sm_80 are
     * refused: the generated code relies on {@code max.NaN}/{@code min.NaN} (Java's NaN rules) and bfloat16
     * conversions, which arrived with sm_80.
     */
    public static Target forComputeCapability(int major, int minor) {
        int cc = major * 10 + minor;
        if (cc < 80) {
            throw new IllegalArgumentException("compute capability " + major + "." + minor
                    + " is not supported: Java kernels need sm_80 (Ampere) or newer");
        }
        Target best = SM_80;
        for (Target t : values()) {
            if (t.major * 10 + t.minor <= cc) {
                best = t;
            }
        }
        return best;
    }

    /** Parses {@code sm_90} or {@code 90}. */
    public static Target parse(String name) {
        String n = name.startsWith("sm_") ? name.substring(3) : name;
        for (Target t : values()) {
            if (t.smName().equals("sm_" + n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown GPU target " + name + "; known targets are sm_80, sm_86, sm_89,"
                + " sm_90, sm_100, sm_120");
    }
}
