package org.retroinfer.accel.cuda;

import org.retroinfer.accel.compiler.Target;

/** What the runtime needs to know about a GPU: name, architecture, SM count, memory. */
public record DeviceInfo(int ordinal, String name, int major, int minor, int multiprocessors, int maxThreadsPerMultiprocessor,
                         long totalMemory, Target target) {
    static final int ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR = 39;
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    static DeviceInfo query(CudaDriver driver, int ordinal, int device) {
        int major = driver.deviceAttribute(ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        int minor = driver.deviceAttribute(ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        return new DeviceInfo(ordinal, driver.deviceName(device), major, minor,
                driver.deviceAttribute(ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
                driver.deviceAttribute(ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, device), driver.deviceTotalMemory(device),
                Target.forComputeCapability(major, minor));
    }

    @Override
    public String toString() {
        return name + " (sm_" + major + minor + ", " + multiprocessors + " SMs, " + (totalMemory >> 20) + " MiB)";
    }
}
