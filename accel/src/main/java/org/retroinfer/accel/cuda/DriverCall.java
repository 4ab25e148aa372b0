package org.retroinfer.accel.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;

/**
 * The driver entry points this runtime binds, each with the ABI version of the signature below (the
 * {@code PFN_<name>_v<version>} typedef of CUDA 13's {@code cudaTypedefs.h}) and the exported symbol that
 * has that signature. {@code cuGetProcAddress_v2(name, version)} returns exactly that variant; the
 * exported name is the fallback for drivers or test doubles without it. Getting the version right
 * matters: asking CUDA 13 for {@code cuCtxSynchronize} at version 13000 returns the new variant that
 * takes a context argument.
 */
enum DriverCall {
    GET_ERROR_NAME("cuGetErrorName", 6000, "cuGetErrorName", JAVA_INT, ADDRESS),
    GET_ERROR_STRING("cuGetErrorString", 6000, "cuGetErrorString", JAVA_INT, ADDRESS),
    INIT("cuInit", 2000, "cuInit", JAVA_INT),
    DRIVER_GET_VERSION("cuDriverGetVersion", 2020, "cuDriverGetVersion", ADDRESS),
    DEVICE_GET_COUNT("cuDeviceGetCount", 2000, "cuDeviceGetCount", ADDRESS),
    DEVICE_GET("cuDeviceGet", 2000, "cuDeviceGet", ADDRESS, JAVA_INT),
    DEVICE_GET_NAME("cuDeviceGetName", 2000, "cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT),
    DEVICE_GET_ATTRIBUTE("cuDeviceGetAttribute", 2000, "cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT),
    DEVICE_TOTAL_MEM("cuDeviceTotalMem", 3020, "cuDeviceTotalMem_v2", ADDRESS, JAVA_INT),
    PRIMARY_CTX_RETAIN("cuDevicePrimaryCtxRetain", 7000, "cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT),
    PRIMARY_CTX_RELEASE("cuDevicePrimaryCtxRelease", 11000, "cuDevicePrimaryCtxRelease_v2", JAVA_INT),
    CTX_SET_CURRENT("cuCtxSetCurrent", 4000, "cuCtxSetCurrent", ADDRESS),
    CTX_SYNCHRONIZE("cuCtxSynchronize", 2000, "cuCtxSynchronize"),
    MODULE_LOAD_DATA_EX("cuModuleLoadDataEx", 2010, "cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS),
    MODULE_GET_FUNCTION("cuModuleGetFunction", 2000, "cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS),
    MODULE_UNLOAD("cuModuleUnload", 2000, "cuModuleUnload", ADDRESS),
    FUNC_GET_ATTRIBUTE("cuFuncGetAttribute", 2020, "cuFuncGetAttribute", ADDRESS, JAVA_INT, ADDRESS),
    OCCUPANCY_MAX_BLOCKS("cuOccupancyMaxActiveBlocksPerMultiprocessor", 6050,
            "cuOccupancyMaxActiveBlocksPerMultiprocessor", ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG),
    LAUNCH_KERNEL("cuLaunchKernel", 4000, "cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
    MEM_ALLOC("cuMemAlloc", 3020, "cuMemAlloc_v2", ADDRESS, JAVA_LONG),
    MEM_FREE("cuMemFree", 3020, "cuMemFree_v2", JAVA_LONG),
    MEM_GET_INFO("cuMemGetInfo", 3020, "cuMemGetInfo_v2", ADDRESS, ADDRESS),
    MEM_HOST_ALLOC("cuMemHostAlloc", 2020, "cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT),
    MEM_FREE_HOST("cuMemFreeHost", 2000, "cuMemFreeHost", ADDRESS),
    MEM_HOST_REGISTER("cuMemHostRegister", 6050, "cuMemHostRegister_v2", ADDRESS, JAVA_LONG, JAVA_INT),
    MEM_HOST_UNREGISTER("cuMemHostUnregister", 4000, "cuMemHostUnregister", ADDRESS),
    MEM_HOST_GET_DEVICE_POINTER("cuMemHostGetDevicePointer", 3020, "cuMemHostGetDevicePointer_v2", ADDRESS, ADDRESS, JAVA_INT),
    MEMCPY_HTOD_ASYNC("cuMemcpyHtoDAsync", 3020, "cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS),
    MEMCPY_DTOH_ASYNC("cuMemcpyDtoHAsync", 3020, "cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS),
    MEMCPY_DTOD_ASYNC("cuMemcpyDtoDAsync", 3020, "cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
    MEMSET_D8_ASYNC("cuMemsetD8Async", 3020, "cuMemsetD8Async", JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS),
    MEMSET_D32_ASYNC("cuMemsetD32Async", 3020, "cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS),
    STREAM_CREATE("cuStreamCreate", 2000, "cuStreamCreate", ADDRESS, JAVA_INT),
    STREAM_DESTROY("cuStreamDestroy", 4000, "cuStreamDestroy_v2", ADDRESS),
    STREAM_SYNCHRONIZE("cuStreamSynchronize", 2000, "cuStreamSynchronize", ADDRESS),
    STREAM_WAIT_EVENT("cuStreamWaitEvent", 3020, "cuStreamWaitEvent", ADDRESS, ADDRESS, JAVA_INT),
    EVENT_CREATE("cuEventCreate", 2000, "cuEventCreate", ADDRESS, JAVA_INT),
    EVENT_RECORD("cuEventRecord", 2000, "cuEventRecord", ADDRESS, ADDRESS),
    EVENT_SYNCHRONIZE("cuEventSynchronize", 2000, "cuEventSynchronize", ADDRESS),
    EVENT_ELAPSED_TIME("cuEventElapsedTime", 2000, "cuEventElapsedTime", ADDRESS, ADDRESS, ADDRESS),
    EVENT_DESTROY("cuEventDestroy", 4000, "cuEventDestroy_v2", ADDRESS),
    STREAM_BEGIN_CAPTURE("cuStreamBeginCapture", 10010, "cuStreamBeginCapture_v2", ADDRESS, JAVA_INT),
    STREAM_END_CAPTURE("cuStreamEndCapture", 10000, "cuStreamEndCapture", ADDRESS, ADDRESS),
    GRAPH_INSTANTIATE("cuGraphInstantiateWithFlags", 11040, "cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG),
    GRAPH_LAUNCH("cuGraphLaunch", 10000, "cuGraphLaunch", ADDRESS, ADDRESS),
    GRAPH_EXEC_DESTROY("cuGraphExecDestroy", 10000, "cuGraphExecDestroy", ADDRESS),
    GRAPH_DESTROY("cuGraphDestroy", 10000, "cuGraphDestroy", ADDRESS),
    PROFILER_START("cuProfilerStart", 4000, "cuProfilerStart"),
    PROFILER_STOP("cuProfilerStop", 4000, "cuProfilerStop");

    final String symbol;
    final int version;
    final String exported;
    final FunctionDescriptor descriptor;

    DriverCall(String symbol, int version, String exported, MemoryLayout... arguments) {
        this.symbol = symbol;
        this.version = version;
        this.exported = exported;
        this.descriptor = FunctionDescriptor.of(JAVA_INT, arguments);
    }
}
