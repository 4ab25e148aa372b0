package org.retroinfer.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CudaDriverTest {
    @Test
    void aMachineWithoutTheDriverGetsAnErrorThatSaysWhatToDo() {
        CudaException e = assertThrows(CudaException.class, () -> CudaDriver.load("/nonexistent/libcuda.so.1"));
        assertTrue(e.getMessage().contains("cannot load the CUDA driver library /nonexistent/libcuda.so.1")
                && e.getMessage().contains("Emulator") && e.getMessage().contains(CudaDriver.LIBRARY_PROPERTY), e.getMessage());
    }

    @Test
    void entryPointsAreResolvedThroughGetProcAddressWithTheirAbiVersions() {
        MockLog log = new MockLog();
        int before = log.procAddressHits();
        CudaDriver driver = CudaDriver.load(MockNatives.libcuda().toString());
        int throughProcAddress = DriverCall.values().length - 3; // error texts and cuInit are bound by name first
        assertEquals(throughProcAddress, driver.resolvedThroughProcAddress());
        assertEquals(throughProcAddress, log.procAddressHits() - before);
        assertEquals(13000, driver.version());
    }

    @Test
    void driverErrorsNameTheCallTheErrorAndItsText() {
        CudaDriver driver = CudaDriver.load(MockNatives.libcuda().toString());
        CudaException e = assertThrows(CudaException.class, () -> driver.malloc(1L << 41));
        assertEquals("cuMemAlloc_v2(2199023255552 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)", e.getMessage());
        assertEquals(2, e.code());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
    }

    @Test
    void brokenPtxIsRejectedWithTheDriversJitLog() {
        CudaDriver driver = CudaDriver.load(MockNatives.libcuda().toString());
        CudaException e = assertThrows(CudaException.class,
                () -> driver.loadModule(".version 7.8\n.target sm_90\n.visible .entry mock_jit_error() { ret; }\n"));
        assertTrue(e.getMessage().startsWith("cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed;"
                + " JIT error log:"), e.getMessage());
        assertTrue(e.getMessage().contains("mock JIT failure"), e.getMessage());
    }

    /**
     * Each binding's ABI version must name a real PFN typedef of CUDA's headers with the same number of
     * parameters, and its fallback must be a symbol the headers export (the driver's in cuda.h, the profiler
     * range's in cudaProfiler.h). Skipped without the CUDA headers.
     */
    @Test
    void bindingsMatchTheCudaHeaders() throws Exception {
        Path include = Path.of("/usr/local/cuda/include");
        List<Path> typedefs = List.of(include.resolve("cudaTypedefs.h"), include.resolve("cudaProfilerTypedefs.h"));
        List<Path> headers = List.of(include.resolve("cuda.h"), include.resolve("cudaProfiler.h"));
        boolean present = java.util.stream.Stream.concat(typedefs.stream(), headers.stream()).allMatch(Files::exists);
        if (!present) {
            System.out.println("CUDA headers not found under /usr/local/cuda/include: binding check skipped");
        }
        Assumptions.assumeTrue(present, "CUDA headers not installed");
        StringBuilder pfnText = new StringBuilder(), cudaText = new StringBuilder();
        for (Path p : typedefs) pfnText.append(Files.readString(p));
        for (Path p : headers) cudaText.append(Files.readString(p));
        String pfns = pfnText.toString();
        String cuda = cudaText.toString();
        for (DriverCall c : DriverCall.values()) {
            Matcher m = Pattern.compile("PFN_" + c.symbol + "_v" + c.version + "\\)\\(([^)]*)\\)").matcher(pfns);
            assertTrue(m.find(), c.symbol + " has no PFN typedef for version " + c.version);
            String params = m.group(1).trim();
            int count = params.equals("void") ? 0 : params.split(",").length;
            assertEquals(count, c.descriptor.argumentLayouts().size(), c.symbol + " parameter count");
            boolean exported = cuda.contains(" " + c.exported + "(") || cuda.matches("(?s).*#define\\s+\\w+\\s+" + c.exported + "\\b.*");
            assertTrue(exported, c.exported + " is neither declared nor the target of a #define in cuda.h");
        }
    }
}
